/**
 * The checkpoint contract through the real runtime: a pipeline with file checkpoints after every
 * record, an injected failure at a random record, and a restarted run that restores the latest
 * checkpoint (operator state AND every node's watermarks; the source re-reads from its saved
 * position and re-delivers the watermarks after it) commits, through an exactly-once sink, exactly
 * what the uninterrupted run commits — also with timestamps crowded onto few values, for the
 * operators whose early firing hangs on the watermark (sliding windows with continuous
 * event-time early firing, sessions with early panes, the broadcast process operator).
 *
 * The harness-based contract test (snapshot-restore.test.ts) cannot restore node watermarks: it
 * re-delivers the watermark to the restored operator, which then fires work registered behind that
 * watermark (continuous early timers, waiting elements) one advance earlier than an uninterrupted
 * run. This test shows the runtime does not: the difference is the harness's, not the operators'.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Source, type SourceChunk, ManualClock, Pipeline, fileCheckpoints } from 'tidemark';
import { canonical } from 'tidemark/testing';
import { memoryDb, tempDir, twoPhaseSink } from '../checkpoints/support.js';
import { type Ev, type Step, cases, scenariosUpTo, steps } from './stateful-cases.js';

/** A scripted, replayable source: records (one per chunk, positioned) and watermarks; clock steps dropped. */
function scripted(ss: readonly Step[]): Source<Ev> {
  return {
    kind: 'scripted',
    providesTimestamps: true,
    providesWatermarks: true,
    replayable: true,
    open(ctx) {
      let i = typeof ctx.resume === 'number' ? ctx.resume : 0;
      return {
        next(): SourceChunk<Ev> | null {
          for (;;) {
            const s = ss[i++];
            if (s === undefined) return null;
            if (s.kind === 'record') return { kind: 'records', values: [s.ev], timestamps: [s.t], position: i };
            if (s.kind === 'watermark') return { kind: 'watermark', time: s.w };
          }
        },
      };
    },
  };
}

/**
 * Committed results of the case run over `ss`, failing once at the `failAt`-th record when given,
 * then restarted; and the checkpoint the restarted run restored (0: none).
 */
async function committed(name: string, ss: readonly Step[], failAt: number | undefined): Promise<{ rows: string[]; restored: number }> {
  const c = cases[name];
  if (c === undefined) throw new Error(`no case '${name}'`);
  const db = memoryDb<unknown>();
  const store = tempDir('runtime-restore');
  const run = (fail: number | undefined): Promise<unknown> => {
    let seen = 0;
    const p = new Pipeline({ clock: new ManualClock(0), checkpoints: { store: fileCheckpoints(store), everyRecords: 1 } });
    const input = p.source(scripted(ss), { name: 'input' }).map((e) => {
      if (++seen === fail) throw new Error('injected failure');
      return e;
    }, { name: 'maybeFail' });
    c.build(input).sink(twoPhaseSink(db), { name: 'db' });
    return p.run();
  };
  if (failAt !== undefined) await expect(run(failAt)).rejects.toThrow(/injected failure/);
  await run(undefined);
  const restored = db.calls.filter((x) => x.startsWith('open restored ')).map((x) => Number(x.slice('open restored '.length)));
  return { rows: db.committed.map(canonical), restored: restored.at(-1) ?? 0 };
}

const crowded = scenariosUpTo(12);

describe('restoring a real pipeline from a checkpoint mid-stream', () => {
  for (const name of ['sliding, continuous event-time early, discarding, late every 2', 'session, retracting, early every 3, closing always', 'broadcast process', 'tumbling sum (aligned panes, lateness)']) {
    it(`${name}: a failure at any record, restored, commits what the uninterrupted run commits (crowded timestamps)`, async () => {
      await fc.assert(
        fc.asyncProperty(crowded, fc.integer({ min: 1, max: 40 }), async (sc, at) => {
          const ss = steps(sc, 1);
          const records = ss.filter((s) => s.kind === 'record').length;
          const failAt = Math.min(at, records);
          const whole = await committed(name, ss, undefined);
          const restored = await committed(name, ss, failAt);
          expect(restored.rows).toEqual(whole.rows);
          // a failure after the first record restores a checkpoint taken mid-stream
          if (failAt > 1) expect(restored.restored).toBeGreaterThan(0);
        }),
        { numRuns: 12, seed: 20261209 },
      );
    });
  }
});
