/**
 * Review: the checkpoint stores lose `CheckpointState.watermarks` (every operator node's input and
 * output watermarks): `decodeCheckpoint` returns only sources, operators and sinks. A restored run
 * then re-runs `onWatermark(W)` of every operator for the source's re-emitted watermark, which
 * fires work that, uninterrupted, would only have run at the next advance.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock, Pipeline, collect, fileCheckpoints, fromArray, monotonic, valueState } from 'tidemark';

const dir = (p: string): string => mkdtempSync(join(tmpdir(), `tm-review-${p}-`));

describe('node watermarks in stored checkpoints', () => {
  it('fileCheckpoints gives back the node watermarks it was given', async () => {
    const store = fileCheckpoints(dir('wm-store'));
    const watermarks = { perUser: { inputs: [10, 20], input: 10, output: 7 } };
    await store.write({ format: 1, id: 1, type: 'checkpoint', takenAt: 0 }, store.encodeState({ sources: {}, operators: {}, watermarks }), {});
    expect((await store.latest())?.watermarks).toEqual(watermarks);
  });

  it('a timer registered behind the watermark fires at the next advance after a restore too', async () => {
    type R = { k: string; ts: number };
    // r2 registers an event-time timer behind the watermark; it fires at the next advance (r4).
    const input: R[] = [{ k: 'k', ts: 10 }, { k: 'k', ts: 10 }, { k: 'k', ts: 10 }, { k: 'k', ts: 30 }];
    const build = (store: string, out: string[], failAt?: number): Pipeline => {
      let seen = 0;
      const p = new Pipeline({ clock: new ManualClock(0), checkpoints: { store: fileCheckpoints(store), everyRecords: 1 } });
      p.source(fromArray(input, { batchSize: 1 }), { timestamp: (r) => r.ts, watermark: monotonic(), name: 'in' })
        .map((r) => {
          if (++seen === failAt) throw new Error('injected');
          return r;
        }, { name: 'maybeFail' })
        .keyBy((r) => r.k)
        .process<string, { seen: ReturnType<typeof valueState<number>> }>({
          state: { seen: valueState<number>() },
          onRecord(_r, ctx) {
            const n = (ctx.state.seen.get() ?? 0) + 1;
            ctx.state.seen.set(n);
            if (n === 2) ctx.timers.registerEventTime(5);
          },
          onTimer(t, ctx) {
            ctx.emit(`timer@${t.timestamp} saw ${String(ctx.state.seen.get())} records`, 1_000_000);
          },
        }, { name: 'timers' })
        .sink(collect(out), { name: 'out' });
      return p;
    };
    const reference: string[] = [];
    await build(dir('wm-ref'), reference).run();
    expect(reference).toEqual(['timer@5 saw 4 records']);
    const store = dir('wm-run');
    const first: string[] = [];
    await expect(build(store, first, 3).run()).rejects.toThrow(/injected/);
    const second: string[] = [];
    await build(store, second).run();
    expect([...first, ...second]).toEqual(reference);
  });
});
