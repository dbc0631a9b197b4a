/**
 * Contract tests applied to every stateful operator: deterministic output; output independent
 * of batch size (results are defined as if the watermark advanced after every record); watermarks
 * monotone on every edge; the output watermark never overtakes results the operator still holds
 * (no on-time result arrives behind the downstream watermark); no state left after end of input.
 * (Snapshot/restore at any cut joins this contract with checkpoints.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DeadLetter, type RunSummary, type Stream, Pipeline, boundedOutOfOrderness, collect, count, fromArray,
  globalWindow, session, sliding, sum, toList, tumbling,
} from 'tidemark';
import { canonical } from 'tidemark/testing';
import { type ProbeLog, newLog, tap } from './probe.js';

interface Ev {
  id: number;
  k: string;
  v: number;
  ts: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous operator outputs
type Build = (s: Stream<Ev>) => Stream<any>;

const operators: Record<string, Build> = {
  'tumbling aggregate': (s) => s.keyBy((e) => e.k).window(tumbling(10), { allowedLateness: 5 }).aggregate(sum((e) => e.v), { name: 'op' }),
  'sliding aggregate (slide does not divide size)': (s) => s.keyBy((e) => e.k).window(sliding(10, 4), { allowedLateness: 3 }).aggregate(count(), { name: 'op' }),
  'session aggregate': (s) => s.keyBy((e) => e.k).window(session(6), { allowedLateness: 4 }).aggregate(toList(), { name: 'op' }),
  'session, discarding': (s) => s.keyBy((e) => e.k).window(session(6), { allowedLateness: 4, accumulation: 'discarding' }).aggregate(count(), { name: 'op' }),
  'dynamic-gap session': (s) => s.keyBy((e) => e.k).window(session<Ev>((e) => 2 + (e.v % 5))).aggregate(count(), { name: 'op' }),
  'global window': (s) => s.keyBy((e) => [e.k, e.v % 2]).window(globalWindow()).aggregate(count(), { name: 'op' }),
  'window process': (s) => s.keyBy((e) => e.k).window(tumbling(8)).process((k, w, recs) => [{ k, w, n: recs.length }], { name: 'op' }),
  'tumbling, early every 2 records, retracting': (s) => s.keyBy((e) => e.k).window(tumbling(10), { allowedLateness: 5, accumulation: 'retracting', trigger: { early: { everyRecords: 2 } } }).aggregate(sum((e) => e.v), { name: 'op' }),
  'sliding, continuous event-time firing, discarding': (s) => s.keyBy((e) => e.k).window(sliding(12, 5), { allowedLateness: 4, accumulation: 'discarding', trigger: { early: { everyEventTime: 3 }, late: { everyRecords: 2 } } }).aggregate(count(), { name: 'op' }),
  'session, retracting, early every 3, closing always': (s) => s.keyBy((e) => e.k).window(session(6), { allowedLateness: 4, accumulation: 'retracting', closing: 'always', trigger: { early: { everyRecords: 3 } } }).aggregate(sum((e) => e.v), { name: 'op' }),
  'count windows (global, early every 4, discarding)': (s) => s.keyBy((e) => e.k).window(globalWindow(), { accumulation: 'discarding', trigger: { early: { everyRecords: 4 } } }).aggregate(count(), { name: 'op' }),
  sortByEventTime: (s) => s.keyBy((e) => e.k).sortByEventTime({ name: 'op' }),
  'sortByEventTime + scan': (s) => s.keyBy((e) => e.k).sortByEventTime().scan((acc, e) => acc + e.v, 0, { name: 'op' }),
};

const events = fc.array(
  fc.record({ k: fc.constantFrom('a', 'b', 'c'), v: fc.integer({ min: 0, max: 9 }), ts: fc.integer({ min: 0, max: 80 }), bad: fc.integer({ min: 0, max: 30 }) }),
  { minLength: 1, maxLength: 60 },
).map((xs) => xs.map((x, id) => ({ id, k: x.k, v: x.v, ts: x.bad === 0 ? 0.5 : x.ts })));

interface Run {
  out: string[];
  late: string[];
  dead: string[];
  summary: RunSummary;
  logs: { before: ProbeLog; after: ProbeLog; late: ProbeLog };
}

async function run(build: Build, evs: Ev[], batchSize: number, bound: number): Promise<Run> {
  const p = new Pipeline({ batchSize, maxFutureSkew: false });
  const out: unknown[] = [];
  const late: unknown[] = [];
  const dead: DeadLetter[] = [];
  const logs = { before: newLog(), after: newLog(), late: newLog() };
  const src = p.source(fromArray(evs), { timestamp: (e) => e.ts, watermark: boundedOutOfOrderness(bound), name: 'src' });
  const result = build(tap(src, logs.before));
  tap(result, logs.after).sink(collect(out));
  const opNode = p.plan.nodes.find((n) => n.name === 'op');
  if (opNode !== undefined && (opNode.kind.startsWith('window') || opNode.kind === 'sortByEventTime')) {
    tap((result as unknown as { late(): Stream<unknown> }).late(), logs.late).sink(collect(late));
  }
  p.deadLetters().sink(collect(dead));
  const summary = await p.run();
  return { out: out.map(canonical), late: late.map(canonical), dead: dead.map(canonical), summary, logs };
}

describe.each(Object.entries(operators))('contract: %s', (_name, build) => {
  it('is deterministic and independent of batch size', async () => {
    await fc.assert(
      fc.asyncProperty(events, fc.integer({ min: 0, max: 12 }), fc.integer({ min: 2, max: 7 }), async (evs, bound, mid) => {
        const one = await run(build, evs, 1, bound);
        const again = await run(build, evs, 1, bound);
        const some = await run(build, evs, mid, bound);
        const big = await run(build, evs, 1024, bound);
        expect(again.out).toEqual(one.out);
        for (const other of [some, big]) {
          expect(other.out).toEqual(one.out);
          expect(other.late).toEqual(one.late);
          expect(other.dead).toEqual(one.dead);
        }
      }),
      { numRuns: 120 },
    );
  });

  it('keeps watermarks monotone, never emits on-time results behind them, and leaves no state', async () => {
    await fc.assert(
      fc.asyncProperty(events, fc.integer({ min: 0, max: 12 }), fc.integer({ min: 1, max: 64 }), async (evs, bound, batch) => {
        const r = await run(build, evs, batch, bound);
        for (const log of [r.logs.before, r.logs.after]) {
          for (let i = 1; i < log.watermarks.length; i++) expect(log.watermarks[i]).toBeGreaterThan(log.watermarks[i - 1] as number);
          expect(log.watermarks.at(-1)).toBe(Infinity);
        }
        // Late panes and retractions (of panes emitted earlier) trail the watermark by design;
        // nothing else may arrive behind it downstream.
        const behind = r.logs.after.behind.filter((b) => {
          const v = b.value as { pane?: { timing: string }; retraction?: boolean };
          return v.pane?.timing !== 'late' && v.retraction !== true;
        });
        expect(behind).toEqual([]);
        const op = r.summary.operators['op'] as Record<string, number | string>;
        expect(op['openWindows'] ?? 0).toBe(0);
        expect(op['buffered'] ?? 0).toBe(0);
        expect(op['keys'] ?? 0).toBe(0);
        const src = r.summary.sources['src'];
        expect(src?.read).toBe((src?.emitted ?? 0) + (src?.deadLettered ?? 0));
        if (op['accepted'] !== undefined) expect(op['in']).toBe((op['accepted'] as number) + (op['tooLate'] as number) + (op['deadLettered'] as number));
      }),
      { numRuns: 40 },
    );
  });
});
