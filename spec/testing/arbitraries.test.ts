/**
 * Tests of the testing kit's fast-check arbitraries (testing/arbitraries.ts), and of the
 * reference model's reorder invariance under bounded disorder.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  arrivalOrders,
  disorderedArrivals,
  isWithinDisorder,
  timestampedRecords,
  withWatermarks,
  type Timestamped,
} from 'tidemark/testing';
import { finalPanes, referenceWindows, type RefAggregate, type RefWindowing } from 'tidemark/testing';

const ts = (...timestamps: number[]) => timestamps.map((timestamp) => ({ timestamp }));
const sortedByTime = <T>(records: readonly Timestamped<T>[]): Timestamped<T>[] =>
  [...records].sort((a, b) => a.timestamp - b.timestamp);
const smallRecords = timestampedRecords(fc.integer({ min: 0, max: 9 }), { minTimestamp: -40, maxTimestamp: 40, maxLength: 15 });

describe('isWithinDisorder', () => {
  it('checks every timestamp against the maximum so far', () => {
    expect(isWithinDisorder([], 0)).toBe(true);
    expect(isWithinDisorder(ts(1, 2, 2, 3), 0)).toBe(true);
    expect(isWithinDisorder(ts(2, 1), 0)).toBe(false);
    expect(isWithinDisorder(ts(10, 5), 5)).toBe(true);
    expect(isWithinDisorder(ts(10, 4), 5)).toBe(false);
    expect(isWithinDisorder(ts(10, 12, 7, 8), 5)).toBe(true);
    expect(isWithinDisorder(ts(10, 12, 6), 5)).toBe(false);
    expect(isWithinDisorder(ts(-5, -10), 5)).toBe(true);
  });
});

describe('timestampedRecords', () => {
  it('respects its bounds and produces integer timestamps', () => {
    fc.assert(
      fc.property(
        timestampedRecords(fc.string(), { minTimestamp: -7, maxTimestamp: 3, minLength: 2, maxLength: 6 }),
        (records) => {
          expect(records.length).toBeGreaterThanOrEqual(2);
          expect(records.length).toBeLessThanOrEqual(6);
          for (const r of records) {
            expect(Number.isInteger(r.timestamp)).toBe(true);
            expect(r.timestamp).toBeGreaterThanOrEqual(-7);
            expect(r.timestamp).toBeLessThanOrEqual(3);
            expect(typeof r.value).toBe('string');
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('produces negative timestamps by default', () => {
    const samples = fc.sample(timestampedRecords(fc.constant(0), { minLength: 5 }), { numRuns: 50, seed: 42 });
    expect(samples.some((records) => records.some((r) => r.timestamp < 0))).toBe(true);
  });

  it('rejects inverted bounds', () => {
    expect(() => timestampedRecords(fc.constant(0), { minTimestamp: 5, maxTimestamp: 4 })).toThrow(RangeError);
    expect(() => timestampedRecords(fc.constant(0), { minLength: 3, maxLength: 2 })).toThrow(RangeError);
  });
});

describe('arrivalOrders', () => {
  it('is a permutation of the input within the disorder bound', () => {
    fc.assert(
      fc.property(
        smallRecords.chain((records) =>
          fc.integer({ min: 0, max: 20 }).chain((bound) =>
            arrivalOrders(records, bound).map((arrival) => ({ records, bound, arrival })),
          ),
        ),
        ({ records, bound, arrival }) => {
          expect(isWithinDisorder(arrival, bound)).toBe(true);
          expect(arrival).toHaveLength(records.length);
          expect(new Set(arrival)).toEqual(new Set(records)); // same objects
        },
      ),
      { numRuns: 200 },
    );
  });

  it('with bound 0 is the stable timestamp-sorted order', () => {
    fc.assert(
      fc.property(smallRecords.chain((records) => arrivalOrders(records, 0).map((arrival) => ({ records, arrival }))), ({ records, arrival }) => {
        expect(arrival).toEqual(sortedByTime(records));
        arrival.forEach((r, i) => expect(r).toBe(sortedByTime(records)[i]));
      }),
      { numRuns: 50 },
    );
  });

  it('does reorder when the bound allows it', () => {
    const records = [0, 1, 2, 3, 4, 5].map((timestamp) => ({ value: timestamp, timestamp }));
    const samples = fc.sample(arrivalOrders(records, 3), { numRuns: 50, seed: 7 });
    expect(samples.some((a) => a.some((r, i) => r.timestamp !== i))).toBe(true);
  });

  it('shrinks toward sorted order (a minimal counter-example has a single adjacent swap)', () => {
    const records = [5, 1, 9, 3, 7, 2, 8].map((timestamp, i) => ({ value: i, timestamp }));
    const out = fc.check(
      fc.property(arrivalOrders(records, 10), (arrival) => isWithinDisorder(arrival, 0)),
      { numRuns: 200, seed: 1 },
    );
    expect(out.failed).toBe(true);
    const [arrival] = out.counterexample ?? [[]];
    const inversions = arrival.reduce(
      (n, r, i) => n + arrival.slice(i + 1).filter((later) => later.timestamp < r.timestamp).length,
      0,
    );
    expect(inversions).toBe(1);
  });

  it('rejects a negative or fractional bound', () => {
    expect(() => arrivalOrders([], -1)).toThrow(RangeError);
    expect(() => arrivalOrders([], 0.5)).toThrow(RangeError);
  });
});

describe('disorderedArrivals', () => {
  it('is a permutation and can exceed a smaller bound', () => {
    const records = [0, 1, 2, 3, 4, 5, 6, 7].map((timestamp) => ({ value: timestamp, timestamp }));
    fc.assert(
      fc.property(disorderedArrivals(records, 30), (arrival) => {
        expect(new Set(arrival)).toEqual(new Set(records));
        expect(isWithinDisorder(arrival, 30)).toBe(true);
      }),
      { numRuns: 100 },
    );
    const samples = fc.sample(disorderedArrivals(records, 30), { numRuns: 50, seed: 3 });
    expect(samples.some((a) => !isWithinDisorder(a, 2))).toBe(true);
  });
});

describe('withWatermarks', () => {
  it('keeps record order and inserts advancing bounded-out-of-orderness watermarks', () => {
    fc.assert(
      fc.property(
        smallRecords.chain((records) =>
          fc.integer({ min: 0, max: 10 }).chain((bound) =>
            arrivalOrders(records, bound).chain((arrival) =>
              withWatermarks(arrival, bound).map((steps) => ({ arrival, bound, steps })),
            ),
          ),
        ),
        ({ arrival, bound, steps }) => {
          const recordSteps = steps.flatMap((s) => (s.kind === 'record' ? [{ value: s.value, timestamp: s.timestamp }] : []));
          expect(recordSteps).toEqual(arrival.map((r) => ({ value: r.value, timestamp: r.timestamp })));
          let maxSeen = -Infinity;
          let lastWatermark = -Infinity;
          for (const s of steps) {
            if (s.kind === 'record') {
              maxSeen = Math.max(maxSeen, s.timestamp);
              // Within the bound, no record is behind an earlier watermark.
              expect(s.timestamp).toBeGreaterThan(lastWatermark);
            } else {
              expect(s.time).toBe(maxSeen - bound - 1);
              expect(s.time).toBeGreaterThan(lastWatermark);
              lastWatermark = s.time;
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('worked example', () => {
    const arrival = [10, 7, 12].map((timestamp) => ({ value: timestamp, timestamp }));
    const all = fc.sample(withWatermarks(arrival, 2), { numRuns: 100, seed: 5 });
    const shapes = new Set(all.map((steps) => steps.map((s) => (s.kind === 'record' ? `r${s.timestamp}` : `w${s.time}`)).join(' ')));
    // Every generated shape is one of the 2^3 choices (after #1 the watermark does not advance).
    const allowed = new Set([
      'r10 r7 r12',
      'r10 w7 r7 r12',
      'r10 r7 w7 r12',
      'r10 r7 r12 w9',
      'r10 w7 r7 r12 w9',
      'r10 r7 w7 r12 w9',
    ]);
    for (const s of shapes) expect(allowed.has(s)).toBe(true);
    expect(shapes.size).toBeGreaterThan(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Reorder invariance of the reference model
// ---------------------------------------------------------------------------------------------

type V = { k: 'a' | 'b' | 1; n: number };

/** Multiset of `n`, sorted: independent of arrival order. */
const bag: RefAggregate<V, number[], number[]> = {
  create: () => [],
  add: (a, v) => [...a, v.n],
  merge: (a, b) => [...a, ...b],
  result: (a) => [...a].sort((x, y) => x - y),
};

const windowing: fc.Arbitrary<RefWindowing<V>> = fc.oneof(
  fc.integer({ min: 1, max: 10 }).chain((size) =>
    fc.integer({ min: -size + 1, max: size - 1 }).map((offset): RefWindowing<V> => ({ kind: 'tumbling', size, offset })),
  ),
  fc.integer({ min: 1, max: 10 }).chain((size) =>
    fc.integer({ min: 1, max: size }).chain((slide) =>
      fc.integer({ min: -slide + 1, max: slide - 1 }).map((offset): RefWindowing<V> => ({ kind: 'sliding', size, slide, offset })),
    ),
  ),
  fc.integer({ min: 1, max: 10 }).map((gap): RefWindowing<V> => ({ kind: 'session', gap })),
  fc.constant<RefWindowing<V>>({ kind: 'session', gap: (v) => v.n + 1 }),
  fc.constant<RefWindowing<V>>({ kind: 'global' }),
);

describe('reference model: reorder invariance within the disorder bound', () => {
  it('final panes of any bounded arrival order equal those of the sorted order', () => {
    const scenario = fc
      .record({
        records: timestampedRecords(
          fc.record({ k: fc.constantFrom<V['k']>('a', 'b', 1), n: fc.integer({ min: 0, max: 6 }) }),
          { minTimestamp: -30, maxTimestamp: 30, maxLength: 12 },
        ),
        bound: fc.integer({ min: 0, max: 8 }),
        windowing,
        allowedLateness: fc.integer({ min: 0, max: 10 }),
        accumulation: fc.constantFrom('accumulating' as const, 'discarding' as const),
      })
      .chain((s) =>
        arrivalOrders(s.records, s.bound).chain((arrival) =>
          fc
            .tuple(withWatermarks(arrival, s.bound), withWatermarks(sortedByTime(s.records), s.bound))
            .map(([steps, sortedSteps]) => ({ ...s, steps, sortedSteps })),
        ),
      );
    fc.assert(
      fc.property(scenario, ({ windowing: w, allowedLateness, accumulation, steps, sortedSteps }) => {
        const spec = { key: (v: V) => v.k, windowing: w, aggregate: bag, allowedLateness, accumulation };
        const got = referenceWindows(steps, spec);
        const want = referenceWindows(sortedSteps, spec);
        expect(got.late).toEqual([]);
        expect(want.late).toEqual([]);
        expect(got.counts).toEqual(want.counts);
        const strip = (m: ReturnType<typeof finalPanes<V['k'], number[]>>) =>
          new Map(
            [...m].map(([id, p]) => [
              id,
              // `final` depends on how far the watermark got, except with L = 0.
              { key: p.key, window: p.window, value: p.value, timing: p.pane.timing, index: p.pane.index, ...(allowedLateness === 0 ? { final: p.pane.final } : {}) },
            ]),
          );
        expect(strip(finalPanes(got.panes))).toEqual(strip(finalPanes(want.panes)));
        // Within the bound every window fires exactly once, on time.
        expect(got.panes).toHaveLength(finalPanes(got.panes).size);
      }),
      { numRuns: 200 },
    );
  });
});
