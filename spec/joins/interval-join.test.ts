/**
 * The interval join: golden cases (some translated from Flink's IntervalJoinOperatorTest),
 * out-of-order inputs on both sides, outer variants, late records, state purging, validation,
 * and property tests against a nested-loop reference (reorder invariance, batch-size independence).
 */
import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { PlanError, Pipeline, type Stream, fromArray } from 'tidemark';
import { canonical } from 'tidemark/testing';
import {
  type Ev, type SideEv, arrival, disorder, ids, expectContract, runSplit, runSteps, sideEvents, sides, sorted, sortedSteps,
} from './helpers.js';
import { type JoinLateRecord, type JoinPair, joinHarness } from './setup.js';

type Type = 'inner' | 'left' | 'right' | 'full';

const ev = (id: string, ts: number, k = 'a'): Ev => ({ id, k, ts });

function join(lower: number, upper: number, extra: { type?: Type; lowerInclusive?: boolean; upperInclusive?: boolean; name?: string } = {}) {
  return (l: Stream<Ev>, r: Stream<Ev>) =>
    l.keyBy((e) => e.k).intervalJoin(r.keyBy((e) => e.k), { lower, upper, name: 'join', ...extra } as { lower: number; upper: number; type?: 'inner' });
}

/** The nested-loop reference: every pair within bounds, plus unmatched records for outer types. */
function reference(lefts: readonly Ev[], rights: readonly Ev[], lo: number, hi: number, type: Type): string[] {
  const out: string[] = [];
  const matchedR = new Set<Ev>();
  for (const a of lefts) {
    let matched = false;
    for (const b of rights) {
      if (a.k === b.k && b.ts >= a.ts + lo && b.ts <= a.ts + hi) {
        matched = true;
        matchedR.add(b);
        out.push(`${Math.max(a.ts, b.ts)}:${canonical({ left: a, right: b })}`);
      }
    }
    if (!matched && (type === 'left' || type === 'full')) out.push(`${a.ts}:${canonical({ left: a, right: undefined })}`);
  }
  if (type === 'right' || type === 'full') {
    for (const b of rights) if (!matchedR.has(b)) out.push(`${b.ts}:${canonical({ left: undefined, right: b })}`);
  }
  return out.sort();
}

describe('interval join: golden cases', () => {
  // Source: Apache Flink, flink-streaming-java .../api/operators/co/IntervalJoinOperatorTest.java,
  // the parameterized cartesian cases (testNegativeInclusiveAndNegativeInclusive,
  // testNegativeExclusiveAndNegativeExclusive, testPositiveInclusiveAndPositiveInclusive,
  // testPositiveExclusiveAndPositiveExclusive, testNegativeInclusiveAndPositiveInclusive…):
  // processElementsAndWatermarks feeds timestamps 1–4 to one side, each followed by that side's
  // watermark at the same timestamp, then 1–4 to the other side; `lhsFasterThanRhs` picks which
  // side goes first. Expected output: (lhsTs, rhsTs) pairs with timestamp max(lhsTs, rhsTs).
  // Translation: Flink judges `ts < watermark` late, Tidemark `ts ≤ W`; no record in these cases is
  // at or behind the combined watermark, so watermarks are copied unchanged.
  const cases: { name: string; lower: number; upper: number; lowerInclusive: boolean; upperInclusive: boolean; expected: [number, number][] }[] = [
    { name: 'negative inclusive, negative inclusive [-3, -1]', lower: -3, upper: -1, lowerInclusive: true, upperInclusive: true, expected: [[2, 1], [3, 1], [3, 2], [4, 1], [4, 2], [4, 3]] },
    { name: 'negative exclusive, negative exclusive (-3, -1)', lower: -3, upper: -1, lowerInclusive: false, upperInclusive: false, expected: [[3, 1], [4, 2]] },
    { name: 'positive inclusive, positive inclusive [1, 3]', lower: 1, upper: 3, lowerInclusive: true, upperInclusive: true, expected: [[1, 2], [1, 3], [1, 4], [2, 3], [2, 4], [3, 4]] },
    { name: 'positive exclusive, positive exclusive (1, 3)', lower: 1, upper: 3, lowerInclusive: false, upperInclusive: false, expected: [[1, 3], [2, 4]] },
    { name: 'negative inclusive, positive inclusive [-1, 1]', lower: -1, upper: 1, lowerInclusive: true, upperInclusive: true, expected: [[1, 1], [1, 2], [2, 1], [2, 2], [2, 3], [3, 2], [3, 3], [3, 4], [4, 3], [4, 4]] },
    { name: 'negative exclusive, positive exclusive (-1, 1)', lower: -1, upper: 1, lowerInclusive: false, upperInclusive: false, expected: [[1, 1], [2, 2], [3, 3], [4, 4]] },
  ];
  for (const c of cases) {
    for (const lhsFirst of [true, false]) {
      it(`Flink IntervalJoinOperatorTest: ${c.name}, ${lhsFirst ? 'lhs' : 'rhs'} faster`, () => {
        const h = joinHarness(join(c.lower, c.upper, { lowerInclusive: c.lowerInclusive, upperInclusive: c.upperInclusive }));
        const feedL = () => { for (let i = 1; i <= 4; i++) { h.addLeft(ev(`l${i}`, i), i); h.advanceLeftWatermarkTo(i); } };
        const feedR = () => { for (let i = 1; i <= 4; i++) { h.addRight(ev(`r${i}`, i), i); h.advanceRightWatermarkTo(i); } };
        if (lhsFirst) { feedL(); feedR(); } else { feedR(); feedL(); }
        const got = h.takeOutputWithTimestamps().map((x) => [x.value.left.ts, x.value.right.ts, x.timestamp]);
        expect(got.sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number)))
          .toEqual(c.expected.map(([l, r]) => [l, r, Math.max(l, r)]));
        expect(h.takeLate()).toEqual([]);
      });
    }
  }

  it('pairs out-of-order records of both sides; each pair carries max(a.ts, b.ts)', () => {
    const h = joinHarness(join(-5_000, 0));
    h.addLeft(ev('click1', 10_000), 10_000);
    h.addRight(ev('view1', 7_000), 7_000); // before click1, within 5 s
    h.addRight(ev('view2', 11_000), 11_000); // after click1: no match for click1
    h.addLeft(ev('click0', 6_000), 6_000); // out of order on the left: matches nothing yet
    h.addRight(ev('view0', 2_000), 2_000); // out of order on the right: matches click0
    h.addLeft(ev('click2', 12_000), 12_000); // matches view1 (5 000 before) and view2
    expect(h.takeOutputWithTimestamps().map((x) => [ids(x.value), x.timestamp])).toEqual([
      ['click1|view1', 10_000],
      ['click0|view0', 6_000],
      ['click2|view1', 12_000],
      ['click2|view2', 12_000],
    ]);
    h.finish();
    expect(h.takeOutput()).toEqual([]);
    const op = h.summary().operators['join'] as Record<string, number>;
    expect(op).toMatchObject({ accepted: 6, tooLate: 0, pairs: 4, buffered: 0, keys: 0 });
  });

  it('keys never meet', () => {
    const h = joinHarness(join(-10, 10));
    h.addLeft(ev('a1', 5, 'a'), 5);
    h.addRight(ev('b1', 5, 'b'), 5);
    h.finish();
    expect(h.takeOutput()).toEqual([]);
  });

  it('accepts ISO-8601 bounds', () => {
    const h = joinHarness((l: Stream<Ev>, r: Stream<Ev>) => l.keyBy((e) => e.k).intervalJoin(r.keyBy((e) => e.k), { lower: '-PT5S', upper: 'PT0S' }));
    h.addRight(ev('v', 1_000), 1_000);
    h.addLeft(ev('c', 6_000), 6_000);
    h.addLeft(ev('c2', 6_001), 6_001);
    expect(h.takeOutput().map(ids)).toEqual(['c|v']);
  });
});

describe('interval join: state and late records', () => {
  it('purges each side exactly when no on-time record of the other side can match it', () => {
    // [-5, 0]: left a stays until W ≥ a.ts; right b until W ≥ b.ts + 5.
    const h = joinHarness(join(-5, 0));
    h.addLeft(ev('l', 10), 10);
    h.addRight(ev('r', 10), 10);
    const stats = () => h.summary().operators['join'] as Record<string, number>;
    expect(stats()).toMatchObject({ buffered: 2, keys: 1, pairs: 1 });
    h.advanceWatermarkTo(9);
    expect(stats()).toMatchObject({ buffered: 2 });
    h.advanceWatermarkTo(10);
    expect(stats()).toMatchObject({ buffered: 1, keys: 1 });
    h.addLeft(ev('l2', 15), 15); // the last left that can still match r (15 − 5 = 10)
    expect(h.takeOutput().map(ids)).toEqual(['l|r', 'l2|r']);
    h.advanceWatermarkTo(14);
    expect(stats()).toMatchObject({ buffered: 2 });
    h.advanceWatermarkTo(15);
    expect(stats()).toMatchObject({ buffered: 0, keys: 0 });
  });

  it('routes late records of either side to late() with their side; conservation holds', () => {
    const h = joinHarness(join(-5, 5));
    h.addLeft(ev('l1', 20), 20);
    h.advanceWatermarkTo(20);
    h.addLeft(ev('lateL', 20), 20); // ts ≤ W
    h.addRight(ev('lateR', 18), 18); // would have matched l1, but it is behind the watermark
    h.addRight(ev('r', 22), 22);
    expect(h.takeOutput().map(ids)).toEqual(['l1|r']);
    expect(h.takeLate<JoinLateRecord<Ev, Ev, string>>()).toEqual([
      { side: 'left', value: ev('lateL', 20), timestamp: 20, key: 'a' },
      { side: 'right', value: ev('lateR', 18), timestamp: 18, key: 'a' },
    ]);
    h.finish();
    const op = h.summary().operators['join'] as Record<string, number>;
    expect(op['in']).toBe((op['accepted'] as number) + (op['tooLate'] as number) + (op['deadLettered'] as number));
    expect(op).toMatchObject({ accepted: 2, tooLate: 2, late: 2, buffered: 0, keys: 0 });
    expect(h.summary().lateRecords).toBe(2);
  });

  it('judges lateness against the minimum of both watermarks', () => {
    const h = joinHarness(join(-5, 5));
    h.advanceLeftWatermarkTo(100); // the right input still at −∞: nothing is late yet
    h.addRight(ev('r', 50), 50);
    h.addLeft(ev('l', 52), 52);
    expect(h.takeOutput().map(ids)).toEqual(['l|r']);
    expect(h.takeLate()).toEqual([]);
  });
});

describe('interval join: outer variants', () => {
  function scenario(type: Type) {
    const h = joinHarness(join(-5, 0, { type }));
    h.addLeft(ev('l1', 10), 10);
    h.addRight(ev('r1', 7), 7); // matches l1
    h.addRight(ev('r2', 30), 30); // never matched
    h.addLeft(ev('l2', 20), 20); // never matched (r2 is 10 after it)
    return h;
  }

  it('inner emits pairs only', () => {
    const h = scenario('inner');
    h.finish();
    expect(h.takeOutput().map(ids)).toEqual(['l1|r1']);
  });

  it('left emits an unmatched left with its own timestamp once W passes a.ts + upper, holding the watermark', () => {
    const h = scenario('left');
    expect(h.takeOutput().map(ids)).toEqual(['l1|r1']);
    h.advanceWatermarkTo(19);
    expect(h.takeOutput()).toEqual([]);
    // l1 purged at 10 (matched: nothing emitted); l2 still buffered holds the output watermark at 19.
    expect(h.summary().operators['join']?.watermark).toBe(19);
    h.advanceWatermarkTo(25);
    expect(h.takeOutputWithTimestamps().map((x) => [ids(x.value), x.timestamp])).toEqual([['l2|-', 20]]);
    expect(h.summary().operators['join']?.watermark).toBe(25);
  });

  it('right emits an unmatched right once W passes b.ts − lower', () => {
    const h = scenario('right');
    h.advanceWatermarkTo(34);
    expect(h.takeOutput().map(ids)).toEqual(['l1|r1']);
    expect(h.summary().operators['join']?.watermark).toBe(29); // held by r2 (ts 30)
    h.advanceWatermarkTo(35);
    expect(h.takeOutputWithTimestamps().map((x) => [ids(x.value), x.timestamp])).toEqual([['-|r2', 30]]);
  });

  it('full emits both, left before right at equal deadlines', () => {
    const h = scenario('full');
    h.finish();
    expect(h.takeOutput().map(ids)).toEqual(['l1|r1', 'l2|-', '-|r2']);
    expect(h.summary().operators['join']).toMatchObject({ unmatched: 2, pairs: 1, buffered: 0, keys: 0 });
  });

  it('an interval wholly in the past: unmatched lefts are emitted on arrival', () => {
    const h = joinHarness(join(-10, -5, { type: 'left' }));
    h.advanceWatermarkTo(7);
    h.addLeft(ev('l', 10), 10); // could only match rights in [0, 5], all behind W
    expect(h.takeOutputWithTimestamps().map((x) => [ids(x.value), x.timestamp])).toEqual([['l|-', 10]]);
  });
});

describe('interval join: plan validation and types', () => {
  const p = () => {
    const pl = new Pipeline();
    return { pl, s: pl.source(fromArray<Ev>([]), { timestamp: (e) => e.ts }) };
  };

  it('rejects bad options with messages naming the factory', () => {
    const { s } = p();
    const l = s.keyBy((e) => e.k);
    const r = s.keyBy((e) => e.k);
    expect(() => l.intervalJoin(r, { lower: 5, upper: 1 })).toThrow(/tidemark\.intervalJoin: the interval \[5, 1\]/);
    expect(() => l.intervalJoin(r, { lower: 0, upper: 0, upperInclusive: false })).toThrow(/matches nothing/);
    expect(() => l.intervalJoin(r, { lower: 0, upper: 1, type: 'outer' as 'left' })).toThrow(/tidemark\.intervalJoin: type must be/);
    expect(() => l.intervalJoin(r, { lower: 0 } as { lower: number; upper: number })).toThrow(PlanError);
    expect(() => l.intervalJoin(s as never, { lower: 0, upper: 1 })).toThrow(/keyed stream/);
    const other = p().s.keyBy((e) => e.k);
    expect(() => l.intervalJoin(other, { lower: 0, upper: 1 })).toThrow(/same pipeline/);
  });

  it('types the outputs by join type', () => {
    const { s } = p();
    const l = s.keyBy((e) => e.k);
    const r = s.map((e) => e.ts).keyBy((t) => String(t));
    expectTypeOf(l.intervalJoin(r, { lower: 0, upper: 1 })).toMatchTypeOf<Stream<JoinPair<Ev, number>>>();
    expectTypeOf(l.intervalJoin(r, { lower: 0, upper: 1, type: 'left' })).toMatchTypeOf<Stream<JoinPair<Ev, number | undefined>>>();
    expectTypeOf(l.intervalJoin(r, { lower: 0, upper: 1, type: 'right' })).toMatchTypeOf<Stream<JoinPair<Ev | undefined, number>>>();
    expectTypeOf(l.intervalJoin(r, { lower: 0, upper: 1, type: 'full' })).toMatchTypeOf<Stream<JoinPair<Ev | undefined, number | undefined>>>();
    expectTypeOf(l.intervalJoin(r, { lower: 0, upper: 1 }).late()).toMatchTypeOf<Stream<JoinLateRecord<Ev, number, string>>>();
  });
});

describe('interval join: properties', () => {
  const bounds = fc.tuple(fc.integer({ min: -12, max: 12 }), fc.integer({ min: 0, max: 12 })).map(([lo, w]) => ({ lo, hi: lo + w }));
  const types = fc.constantFrom<Type>('inner', 'left', 'right', 'full');

  it('equals the nested-loop reference for any arrival order within the disorder bound (and leaves no state)', () => {
    fc.assert(
      fc.property(sides(), disorder, bounds, types, ({ lefts, rights }, { delays, marks }, { lo, hi }, type) => {
        const steps = arrival(lefts, rights, delays, marks, 20);
        const r = runSteps(join(lo, hi, { type }), steps);
        expect(sorted(r.out)).toEqual(reference(lefts, rights, lo, hi, type));
        expect(r.late).toEqual([]);
        expect(r.summary.operators['join']).toMatchObject({ buffered: 0, keys: 0, tooLate: 0 });
      }),
      { numRuns: 150 },
    );
  });

  it('final results do not depend on arrival order (reorder invariance against the sorted run)', () => {
    fc.assert(
      fc.property(sides(40, 10), disorder, bounds, types, ({ lefts, rights }, { delays, marks }, { lo, hi }, type) => {
        const expected = sorted(runSteps(join(lo, hi, { type }), sortedSteps(lefts, rights)).out);
        expect(sorted(runSteps(join(lo, hi, { type }), arrival(lefts, rights, delays, marks, 20)).out)).toEqual(expected);
      }),
      { numRuns: 80 },
    );
  });

  it('output, late records and counters do not depend on batch size; outputs never trail the watermark', async () => {
    const build = (type: Type, lo: number, hi: number) => (l: Stream<SideEv>, r: Stream<SideEv>) =>
      l.keyBy((e) => e.k).intervalJoin(r.keyBy((e) => e.k), { lower: lo, upper: hi, type: type as 'inner', name: 'join' });
    await fc.assert(
      fc.asyncProperty(sideEvents, fc.integer({ min: 0, max: 12 }), fc.integer({ min: 2, max: 7 }), bounds, types, async (evs, bound, mid, { lo, hi }, type) => {
        const runs = await Promise.all([1, mid, 1024].map((b) => runSplit(build(type, lo, hi), evs, b, bound)));
        const [one, ...others] = runs as [Awaited<ReturnType<typeof runSplit>>, ...Awaited<ReturnType<typeof runSplit>>[]];
        for (const o of others) {
          expect(sorted(o.out)).toEqual(sorted(one.out));
          expect(sorted(o.late)).toEqual(sorted(one.late));
          const { accepted, tooLate, pairs, unmatched } = o.summary.operators['join'] as Record<string, number>;
          expect({ accepted, tooLate, pairs, unmatched }).toMatchObject(
            Object.fromEntries(['accepted', 'tooLate', 'pairs', 'unmatched'].map((k) => [k, (one.summary.operators['join'] as Record<string, number>)[k]])),
          );
        }
        for (const r of runs) {
          expect(r.behind).toEqual([]);
          expectContract(r);
        }
      }),
      { numRuns: 60 },
    );
  });
});
