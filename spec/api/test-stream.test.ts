/**
 * The testing kit in real pipelines: TestStream as a source on a ManualClock, and
 * checkReorderInvariance passing for correct windowed pipelines and failing (with a shrunk
 * counter-example) for pipelines whose results depend on arrival order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ManualClock,
  Pipeline,
  SourceError,
  collect,
  count,
  forEach,
  globalWindow,
  max,
  mean,
  min,
  reduce,
  session,
  sliding,
  sum,
  toList,
  tumbling,
  type Cancel,
  type Clock,
  type LateRecord,
  type Stream,
  type WindowResult,
} from 'tidemark';
import { TestStream, checkReorderInvariance, timestampedRecords, type Timestamped } from 'tidemark/testing';
import { type ProbeEvent, tap, watermarksOf } from './helpers.js';

type Ev = { k: string; v: number };
const at = (k: string, v: number, timestamp: number) => ({ value: { k, v }, timestamp });

describe('TestStream as the source of a real pipeline', () => {
  it('watermark steps fire windows when scripted; advanceProcessingTime is relative', async () => {
    const clock = new ManualClock(100);
    const p = new Pipeline({ clock });
    const fired: [number, number, number, string][] = []; // [window start, value, processing time, timing]
    const script = TestStream.create<Ev>()
      .addElements(at('a', 1, 500), at('a', 2, 900))
      .advanceWatermarkTo(999)
      .advanceProcessingTime(5_000)
      .addElements(at('a', 4, 1_500))
      .advanceProcessingTime(5_000)
      .addElements(at('a', 8, 2_100))
      .advanceWatermarkTo(1_999)
      .advanceProcessingTime(1)
      .advanceWatermarkToInfinity();
    p.source(script, { name: 'script' })
      .keyBy((e) => e.k).window(tumbling(1_000)).aggregate(sum((e) => e.v))
      .sink(forEach((r) => void fired.push([r.window.start, r.value, clock.now(), r.pane.timing])));
    const summary = await p.run();
    expect(fired).toEqual([
      [0, 3, 100, 'on-time'],
      [1_000, 4, 10_100, 'on-time'],
      [2_000, 8, 10_101, 'on-time'],
    ]);
    expect(clock.now()).toBe(10_101);
    expect(summary.sources['script']).toMatchObject({ read: 4, emitted: 4, watermark: Infinity });
  });

  it('elements behind a scripted watermark are late; a watermark step backwards is ignored', async () => {
    const p = new Pipeline({ clock: new ManualClock() });
    const log: ProbeEvent[] = [];
    const out: WindowResult<string, number>[] = [];
    const late: LateRecord<Ev, string>[] = [];
    const script = TestStream.create<Ev>()
      .addElements(at('a', 1, 100))
      .advanceWatermarkTo(5_000)
      .advanceWatermarkTo(2_000) // ignored: never backwards
      .addElements(at('a', 2, 3_000), at('a', 3, 5_001))
      .advanceWatermarkToInfinity();
    const w = tap(p.source(script, { name: 's' }), 's', log).keyBy((e) => e.k).window(tumbling(1_000), { name: 'w' }).aggregate(count());
    w.sink(collect(out));
    w.late().sink(collect(late));
    const summary = await p.run();
    expect(watermarksOf(log, 's')).toEqual([5_000, Infinity]);
    expect(late).toEqual([{ value: { k: 'a', v: 2 }, timestamp: 3_000, key: 'a', missedWindows: [{ start: 3_000, end: 4_000 }] }]);
    expect(out.map((r) => [r.window.start, r.value])).toEqual([[0, 1], [5_000, 1]]);
    expect(summary.operators['w']).toMatchObject({ in: 3, accepted: 2, tooLate: 1 });
  });

  it('advanceWatermarkToInfinity flushes every window at that point of the script', async () => {
    const clock = new ManualClock(0);
    const p = new Pipeline({ clock });
    const fired: number[] = [];
    const script = TestStream.create<Ev>()
      .addElements(at('a', 1, 10), at('b', 1, 5_000), at('a', 1, 99_999))
      .advanceWatermarkToInfinity()
      .advanceProcessingTime(1_000);
    p.source(script).keyBy((e) => e.k).window(session(100)).aggregate(count()).sink(forEach(() => void fired.push(clock.now())));
    await p.run();
    expect(fired).toEqual([0, 0, 0]);
    expect(clock.now()).toBe(1_000);
  });

  it('builders are immutable: a base script can be extended in different ways', async () => {
    const base = TestStream.create<Ev>().addElements(at('a', 1, 1));
    const one = base.advanceWatermarkToInfinity();
    const two = base.addElements(at('a', 2, 2)).advanceWatermarkToInfinity();
    const run = async (s: TestStream<Ev>) => {
      const p = new Pipeline({ clock: new ManualClock() });
      const out: number[] = [];
      p.source(s).map((e) => e.v).sink(collect(out));
      await p.run();
      return out;
    };
    expect(await run(one)).toEqual([1]);
    expect(await run(two)).toEqual([1, 2]);
    expect(await run(one)).toEqual([1]); // and re-runnable
  });

  it('advanceProcessingTime needs a ManualClock: otherwise the plan is rejected when built', () => {
    const realish: Clock = { realTime: true, now: () => 0, schedule: (): Cancel => () => undefined };
    const p = new Pipeline({ clock: realish });
    expect(() => p.source(TestStream.create<Ev>().advanceProcessingTime(10))).toThrow(/needs a pipeline with a ManualClock/);
    expect(() => p.source(TestStream.create<Ev>().advanceWatermarkTo(10), { name: 'no-steps' })).not.toThrow();
  });

  it('advanceProcessingTime rejects a negative step', () => {
    expect(() => TestStream.create<Ev>().advanceProcessingTime(-1)).toThrow(RangeError);
  });
});

// ---- checkReorderInvariance ---------------------------------------------------------------

const records = timestampedRecords(
  fc.record({ k: fc.constantFrom('a', 'b', 'c', 'd'), v: fc.integer({ min: -5, max: 20 }) }),
  { minTimestamp: -60, maxTimestamp: 200, maxLength: 20 },
);

describe('checkReorderInvariance passes for correct windowed pipelines', () => {
  const correct: [string, (input: Stream<Ev>) => Stream<unknown>][] = [
    ['tumbling count', (s) => s.keyBy((e) => e.k).window(tumbling(25)).aggregate(count())],
    ['tumbling sum with offset, discarding', (s) => s.keyBy((e) => e.k).window(tumbling(30, { offset: -7 }), { accumulation: 'discarding' }).aggregate(sum((e) => e.v))],
    ['sliding min (slide does not divide size)', (s) => s.keyBy((e) => e.k).window(sliding(40, 15)).aggregate(min((e) => e.v))],
    ['sliding max with allowed lateness', (s) => s.keyBy((e) => e.k).window(sliding(30, 10), { allowedLateness: 20 }).aggregate(max((e) => e.v))],
    ['session count', (s) => s.keyBy((e) => e.k).window(session(12)).aggregate(count())],
    ['session mean, dynamic gap', (s) => s.keyBy((e) => e.k).window(session((e: Ev) => (e.v > 10 ? 20 : 8))).aggregate(mean((e) => e.v))],
    ['pair keys, process() with sorted output', (s) => s.keyBy((e) => [e.k, e.v % 2 === 0]).window(tumbling(50)).process((key, w, rs) => [{ key, w, vs: rs.map((r) => r.v).sort((x, y) => x - y) }])],
    ['global window sum', (s) => s.keyBy((e) => e.k).window(globalWindow()).aggregate(sum((e) => e.v))],
  ];

  it.each(correct)('%s', async (_, build) => {
    await checkReorderInvariance(build, { records, maxDisorder: 15, numRuns: 40, seed: 7 });
  });

  it('with a fixed list of records', async () => {
    const fixed: Timestamped<Ev>[] = [at('a', 1, 0), at('a', 2, 9), at('b', 3, 5), at('a', 4, 12), at('b', 5, 30), at('a', 6, 24), at('a', 7, 31)];
    await checkReorderInvariance((s: Stream<Ev>) => s.keyBy((e) => e.k).window(session(10)).aggregate(sum((e) => e.v)), { records: fixed, maxDisorder: 10, numRuns: 50, seed: 1 });
  });

  it('sortByEventTime + scan is reorder invariant (distinct timestamps)', async () => {
    const distinct = fc.uniqueArray(
      fc.record({ value: fc.record({ k: fc.constantFrom('a', 'b'), v: fc.integer({ min: 0, max: 9 }) }), timestamp: fc.integer({ min: 0, max: 100 }) }),
      { selector: (r) => r.timestamp, maxLength: 15 },
    );
    await checkReorderInvariance(
      (s: Stream<Ev>) => s.keyBy((e) => e.k).sortByEventTime().scan((acc: string, e) => `${acc}${e.k}${e.v}`, ''),
      { records: distinct, maxDisorder: 10, numRuns: 40, seed: 3 },
    );
  });
});

/** The error a rejected promise rejects with, with its cause's message appended. */
async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    const cause = (e as { cause?: unknown }).cause;
    return `${(e as Error).message}\n${cause instanceof Error ? cause.message : ''}`;
  }
  throw new Error('expected checkReorderInvariance to reject');
}

/** The records of the counter-example in a failure message (its "arrival order" line). */
function counterExampleRecords(message: string): string[] {
  const line = message.split('\n').find((l) => /arrival order:/.test(l));
  expect(line, 'the failure shows the arrival order of the counter-example').toBeDefined();
  return (line as string).match(/\}@-?\d+/g) ?? [];
}

describe('checkReorderInvariance fails for pipelines that depend on arrival order', () => {
  const twoKeys = timestampedRecords(fc.record({ k: fc.constantFrom('a', 'b'), v: fc.integer({ min: 0, max: 9 }) }), { minTimestamp: 0, maxTimestamp: 100, maxLength: 15 });
  const orderDependent: [string, (input: Stream<Ev>) => Stream<unknown>][] = [
    ['global window toList (compared as lists)', (s) => s.keyBy((e) => e.k).window(globalWindow()).aggregate(toList())],
    ['tumbling reduce keeping the first-arrived record', (s) => s.keyBy((e) => e.k).window(tumbling(1_000)).aggregate(reduce((first: Ev) => first))],
  ];

  it.each(orderDependent)('%s: rejects, saying which window differs', async (_, build) => {
    const msg = await rejection(checkReorderInvariance(build, { records: twoKeys, maxDisorder: 10, seed: 42 }));
    expect(msg).toMatch(/differ/);
    expect(msg).toMatch(/window/);
  });

  it('with a fixed list that has one reorderable pair', async () => {
    const fixed = [at('a', 1, 0), at('a', 2, 5)];
    const msg = await rejection(checkReorderInvariance((s: Stream<Ev>) => s.keyBy((e) => e.k).window(globalWindow()).aggregate(toList()), { records: fixed, maxDisorder: 10, seed: 5 }));
    expect(msg).toMatch(/differ/);
  });

  it('the disorder bound is respected: records further apart than maxDisorder never swap', async () => {
    // The two records are 50 apart; with maxDisorder 10 their order cannot flip, so an
    // order-dependent pipeline passes (the check does not invent disorder beyond the bound).
    const fixed = [at('a', 1, 0), at('a', 2, 50)];
    await checkReorderInvariance((s: Stream<Ev>) => s.keyBy((e) => e.k).window(globalWindow()).aggregate(toList()), { records: fixed, maxDisorder: 10, numRuns: 50, seed: 5 });
  });

  it('the counter-example is shrunk to a minimal one (two records of one key)', async () => {
    const msg = await rejection(checkReorderInvariance(
      (s: Stream<Ev>) => s.keyBy((e) => e.k).window(globalWindow()).aggregate(toList()),
      { records: twoKeys, maxDisorder: 10, seed: 42 },
    ));
    expect(counterExampleRecords(msg)).toHaveLength(2);
  });
});
