/**
 * Regressions found in review: errors from timers and from async sink writes fail the run (never
 * the process, never silently); a source paused by alignment does not keep a failed run alive; a
 * union does not jump to +∞ while a resumed input catches up; a session merge keeps the earliest
 * pending processing-time firing.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type LateRecord, ManualClock, Pipeline, type Sink, type Stream, type WindowResult, boundedOutOfOrderness, collect, count,
  fromAsyncIterable, session, tumbling, watermarkStrategy,
} from 'tidemark';
import { harness } from 'tidemark/testing';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/** Lets pending promise callbacks and I/O run (bounded). */
async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** A source that yields one record at `ts` and then waits on `g`. */
function stalling(ts: number, g: Promise<void>) {
  return fromAsyncIterable((async function* () {
    yield { ts };
    await g;
  })());
}

/** A periodic watermark strategy: the largest timestamp seen plus `ahead`, every 10 ms. */
const periodic = (ahead: number) => watermarkStrategy<{ ts: number }>(() => {
  let max = -Infinity;
  return {
    onRecord: (t) => {
      max = Math.max(max, t);
      return -Infinity;
    },
    onPeriodic: () => max + ahead,
  };
}, { period: 10 });

describe('review regressions', () => {
  it('an error caused by a periodic watermark tick fails the run, not whoever advanced the clock', async () => {
    const clock = new ManualClock(0);
    const p = new Pipeline({ clock });
    const g = gate();
    p.source(stalling(100, g.promise), { timestamp: (e) => e.ts, watermark: periodic(5_000) })
      .keyBy(() => 'k').window(tumbling(1_000)).process(() => {
        throw new Error('boom in process');
      }).sink(collect([]));
    let outcome: unknown = 'pending';
    const run = p.run().then(() => 'resolved', (e: unknown) => e);
    void run.then((o) => (outcome = o));
    await turns();
    expect(() => clock.advanceTo(10)).not.toThrow();
    await turns();
    expect(outcome).toBeInstanceOf(Error); // while the source is still stalled
    expect(String(outcome)).toMatch(/boom in process/);
    g.open();
  });

  it('a sink write that rejects after a timer-driven firing fails the run at once, with no unhandled rejection', async () => {
    const clock = new ManualClock(0);
    const p = new Pipeline({ clock });
    const g = gate();
    const failing: Sink<unknown> = { kind: 'failing', write: () => Promise.reject(new Error('sink write failed')) };
    p.source(stalling(100, g.promise), { timestamp: (e) => e.ts, watermark: periodic(5_000) })
      .keyBy(() => 'k').window(tumbling(1_000)).aggregate(count()).sink(failing);
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => {
      unhandled.push(e);
    };
    process.on('unhandledRejection', onUnhandled);
    let outcome: unknown = 'pending';
    void p.run().then(() => (outcome = 'resolved'), (e: unknown) => (outcome = e));
    await turns();
    clock.advanceTo(10);
    await turns();
    process.off('unhandledRejection', onUnhandled);
    expect(String(outcome)).toMatch(/sink write failed/);
    expect(unhandled).toEqual([]);
    g.open();
  });

  it('a source paused by watermark alignment does not keep a failed run alive', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'spec/api/fixtures/alignment-failure.ts')], { cwd: root, timeout: 20_000, encoding: 'utf8' });
    expect(r.stdout).toMatch(/REJECTED .*boom/);
  });

  it('a union does not jump to +∞ when the other input ends while a resumed input catches up', async () => {
    const clock = new ManualClock(0);
    const p = new Pipeline({ clock });
    const ga = gate();
    const ga2 = gate();
    const gb = gate();
    const a = p.source(fromAsyncIterable((async function* () {
      yield { ts: 1_000 };
      await ga.promise;
      yield { ts: 1_500 }; // behind the union (idle A was left out): late
      await ga2.promise;
      yield { ts: 4_200 }; // ahead of everything the union emitted: on time
      yield { ts: 4_300 };
    })()), { timestamp: (e) => e.ts, watermark: boundedOutOfOrderness(0, { idleTimeout: 1_000 }), name: 'A' });
    const b = p.source(fromAsyncIterable((async function* () {
      for (const ts of [500, 1_500, 2_600, 3_500]) yield { ts };
      await gb.promise;
    })()), { timestamp: (e) => e.ts, watermark: boundedOutOfOrderness(0), name: 'B' });
    const out: WindowResult<string, number>[] = [];
    const late: LateRecord<{ ts: number }, string>[] = [];
    const w = a.union(b).keyBy(() => 'k').window(tumbling(1_000)).aggregate(count());
    w.sink(collect(out));
    w.late().sink(collect(late));
    const run = p.run();
    await turns();
    clock.advanceTo(1_000); // A idle: the union follows B to 3499
    ga.open();
    await turns();
    gb.open(); // B ends while A is active but behind
    await turns();
    ga2.open();
    await run;
    expect(late.map((l) => l.timestamp)).toEqual([1_500]);
    expect(out.map((r) => [r.window.start, r.value])).toContainEqual([4_000, 2]);
  });

  it('a session merge keeps the earliest pending early firing (d after the pane’s first record)', () => {
    const h = harness((input: Stream<{ k: string }>) =>
      input.keyBy((r) => r.k).window(session(100), { trigger: { early: { afterProcessingTime: 50 } } }).aggregate(count()));
    h.addElement({ k: 'a' }, 0); // due at processing time 50
    h.advanceProcessingTimeTo(40);
    h.addElement({ k: 'a' }, 50); // merges into [0, 150)
    h.advanceProcessingTimeTo(50);
    expect(h.takeOutput().map((r) => [r.window.start, r.window.end, r.value, r.pane.timing])).toEqual([[0, 150, 2, 'early']]);
  });
});
