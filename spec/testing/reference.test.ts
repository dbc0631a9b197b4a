/**
 * Tests of the reference model itself (testing/reference.ts): golden cases worked out by hand
 * from the semantics contract, plus internal-consistency properties.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assignAligned,
  canonicalKey,
  finalPanes,
  referenceWindows,
  windowId,
  type RefAggregate,
  type RefPane,
  type RefStep,
  type RefWindowing,
} from 'tidemark/testing';

type Rec = { k: string; n: number };

const rec = (t: number, n = 1, k = 'a'): RefStep<Rec> => ({ kind: 'record', value: { k, n }, timestamp: t });
const wm = (time: number): RefStep<Rec> => ({ kind: 'watermark', time });

const count: RefAggregate<unknown, number, number> = {
  create: () => 0,
  add: (a) => a + 1,
  merge: (a, b) => a + b,
  result: (a) => a,
};
const sumN: RefAggregate<Rec, number, number> = {
  create: () => 0,
  add: (a, r) => a + r.n,
  merge: (a, b) => a + b,
  result: (a) => a,
};
/** Multiset of `n` values, as a sorted list (order-independent). */
const bagN: RefAggregate<Rec, number[], number[]> = {
  create: () => [],
  add: (a, r) => [...a, r.n],
  merge: (a, b) => [...a, ...b],
  result: (a) => [...a].sort((x, y) => x - y),
};

const byK = (r: Rec): string => r.k;

function pane<R>(
  key: string,
  start: number,
  end: number,
  value: R,
  timing: 'on-time' | 'late',
  index: number,
  final: boolean,
): RefPane<string, R> {
  return { key, window: { start, end }, value, timestamp: end === Infinity ? 8.64e15 : end - 1, pane: { timing, index, final } };
}

function run(
  steps: RefStep<Rec>[],
  windowing: RefWindowing<Rec>,
  opts: { allowedLateness?: number; accumulation?: 'accumulating' | 'discarding' } = {},
) {
  return referenceWindows(steps, { key: byK, windowing, aggregate: count, ...opts });
}

const tumbling10: RefWindowing<Rec> = { kind: 'tumbling', size: 10 };

describe('canonicalKey / windowId / finalPanes', () => {
  it('distinguishes 1, "1", 1n and true, and compares arrays by value', () => {
    const ks = [1, '1', 1n, true, [1], ['1'], [1, 2], ['1,2'], [[1], 2]].map(canonicalKey);
    expect(new Set(ks).size).toBe(ks.length);
    expect(canonicalKey(['a', 1, [2n, false]])).toBe(canonicalKey(['a', 1, [2n, false]]));
    expect(canonicalKey(-0)).toBe(canonicalKey(0));
    expect(canonicalKey('a|b')).not.toBe(canonicalKey('a'));
  });

  it('rejects unsupported keys', () => {
    expect(() => canonicalKey({})).toThrow(TypeError);
    expect(() => canonicalKey(null)).toThrow(TypeError);
    expect(() => canonicalKey(undefined)).toThrow(TypeError);
    expect(() => canonicalKey([1, {}])).toThrow(TypeError);
  });

  it('keeps the last pane per (key, window)', () => {
    const panes = [
      pane('a', 0, 10, 1, 'on-time', 0, false),
      pane('b', 0, 10, 5, 'on-time', 0, true),
      pane('a', 0, 10, 2, 'late', 1, false),
      pane('a', 10, 20, 7, 'on-time', 0, true),
    ];
    const last = finalPanes(panes);
    expect(last.size).toBe(3);
    expect(last.get(windowId('a', { start: 0, end: 10 }))?.value).toBe(2);
    expect(last.get(windowId('b', { start: 0, end: 10 }))?.value).toBe(5);
    expect(last.get(windowId('a', { start: 10, end: 20 }))?.value).toBe(7);
  });
});

describe('assignAligned', () => {
  it('tumbling windows for negative timestamps', () => {
    expect(assignAligned(-1, 10, 10, 0)).toEqual([-10]);
    expect(assignAligned(-10, 10, 10, 0)).toEqual([-10]);
    expect(assignAligned(-11, 10, 10, 0)).toEqual([-20]);
    expect(assignAligned(0, 10, 10, 0)).toEqual([0]);
    expect(assignAligned(9, 10, 10, 0)).toEqual([0]);
  });

  it('tumbling windows with offsets (positive and negative)', () => {
    expect(assignAligned(2, 10, 10, 3)).toEqual([-7]);
    expect(assignAligned(3, 10, 10, 3)).toEqual([3]);
    expect(assignAligned(-8, 10, 10, 3)).toEqual([-17]);
    expect(assignAligned(-7, 10, 10, 3)).toEqual([-7]);
    expect(assignAligned(0, 10, 10, -3)).toEqual([-3]);
    expect(assignAligned(-4, 10, 10, -3)).toEqual([-13]);
  });

  it('sliding windows where slide does not divide size', () => {
    expect(assignAligned(5, 10, 4, 0)).toEqual([-4, 0, 4]);
    expect(assignAligned(6, 10, 4, 0)).toEqual([0, 4]);
    expect(assignAligned(-3, 10, 4, 0)).toEqual([-12, -8, -4]);
    expect(assignAligned(5, 10, 4, 1)).toEqual([-3, 1, 5]);
    expect(assignAligned(5, 10, 4, -1)).toEqual([-1, 3]);
  });

  it('every start contains t and is aligned (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1000, max: 1000 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: -25, max: 25 }),
        (t, size, slide, offset) => {
          const starts = assignAligned(t, size, slide, offset);
          // Brute force over a range that covers every candidate.
          const expected: number[] = [];
          for (let s = t - size - 2 * slide; s <= t; s++) {
            if (((s - offset) % slide + slide) % slide === 0 && t - size < s) expected.push(s);
          }
          expect(starts).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects non-positive sizes', () => {
    expect(() => assignAligned(0, 0, 1, 0)).toThrow(RangeError);
    expect(() => assignAligned(0, 10, 0, 0)).toThrow(RangeError);
  });
});

describe('tumbling windows', () => {
  it('fires at W = e−1, not at W = e−2; a record at e−1 after W = e−1 is too late', () => {
    const r = run([rec(5), wm(8), rec(9), wm(9), rec(9)], tumbling10);
    expect(r.panes).toEqual([pane('a', 0, 10, 2, 'on-time', 0, true)]);
    expect(r.late).toEqual([{ value: { k: 'a', n: 1 }, timestamp: 9, key: 'a', missedWindows: [{ start: 0, end: 10 }] }]);
    expect(r.counts).toEqual({ in: 3, accepted: 2, tooLate: 1, tooLatePairs: 1 });
  });

  it('the next window is unaffected at its start boundary', () => {
    const r = run([rec(9), wm(9), rec(10)], tumbling10);
    expect(r.panes).toEqual([pane('a', 0, 10, 1, 'on-time', 0, true), pane('a', 10, 20, 1, 'on-time', 0, true)]);
    expect(r.late).toEqual([]);
  });

  it('ignores a watermark that does not advance', () => {
    const r = run([wm(-Infinity), rec(1), wm(9), wm(5), rec(7)], tumbling10);
    expect(r.panes).toEqual([pane('a', 0, 10, 1, 'on-time', 0, true)]);
    expect(r.counts).toEqual({ in: 2, accepted: 1, tooLate: 1, tooLatePairs: 1 });
  });

  it('negative timestamps with a positive offset', () => {
    const r = run([rec(-8), wm(-8), rec(-7), rec(2), rec(3)], { kind: 'tumbling', size: 10, offset: 3 });
    expect(r.panes).toEqual([
      pane('a', -17, -7, 1, 'on-time', 0, true),
      pane('a', -7, 3, 2, 'on-time', 0, true),
      pane('a', 3, 13, 1, 'on-time', 0, true),
    ]);
  });

  it('negative offset', () => {
    const r = run([rec(0), rec(-4)], { kind: 'tumbling', size: 10, offset: -3 });
    expect(r.panes).toEqual([pane('a', -13, -3, 1, 'on-time', 0, true), pane('a', -3, 7, 1, 'on-time', 0, true)]);
  });

  it('allowed lateness re-fires late panes with increasing index, then purges', () => {
    const steps = [rec(1), wm(9), rec(2), wm(13), rec(3), wm(14), rec(4)];
    const r = run(steps, tumbling10, { allowedLateness: 5 });
    expect(r.panes).toEqual([
      pane('a', 0, 10, 1, 'on-time', 0, false),
      pane('a', 0, 10, 2, 'late', 1, false),
      pane('a', 0, 10, 3, 'late', 2, false),
    ]);
    expect(r.late).toEqual([{ value: { k: 'a', n: 1 }, timestamp: 4, key: 'a', missedWindows: [{ start: 0, end: 10 }] }]);
    expect(r.counts).toEqual({ in: 4, accepted: 3, tooLate: 1, tooLatePairs: 1 });
  });

  it('discarding mode: each pane holds only what arrived since the previous one', () => {
    const steps = [rec(1), rec(2), wm(9), rec(3), rec(4)];
    const r = run(steps, tumbling10, { allowedLateness: 10, accumulation: 'discarding' });
    expect(r.panes).toEqual([
      pane('a', 0, 10, 2, 'on-time', 0, false),
      pane('a', 0, 10, 1, 'late', 1, false),
      pane('a', 0, 10, 1, 'late', 2, false),
    ]);
    const acc = run(steps, tumbling10, { allowedLateness: 10 });
    expect(acc.panes.map((p) => p.value)).toEqual([2, 3, 4]);
  });

  it('the on-time pane is final when the watermark jumps past end − 1 + L', () => {
    const r = run([rec(1), wm(20), rec(5)], tumbling10, { allowedLateness: 5 });
    expect(r.panes).toEqual([pane('a', 0, 10, 1, 'on-time', 0, true)]);
    expect(r.counts.tooLate).toBe(1);
  });

  it('end of input fires everything as final, ordered by window end', () => {
    const r = run([rec(12), rec(1)], tumbling10, { allowedLateness: 5 });
    expect(r.panes).toEqual([pane('a', 0, 10, 1, 'on-time', 0, true), pane('a', 10, 20, 1, 'on-time', 0, true)]);
  });

  it('a window born behind the watermark emits a late pane, never an on-time one', () => {
    const r = run([wm(15), rec(3), wm(19), rec(4)], tumbling10, { allowedLateness: 10 });
    expect(r.panes).toEqual([pane('a', 0, 10, 1, 'late', 0, false)]);
    expect(r.counts).toEqual({ in: 2, accepted: 1, tooLate: 1, tooLatePairs: 1 });
  });

  it('orders panes fired by one watermark by end, start, then key', () => {
    const r = run([rec(1, 1, 'b'), rec(15, 1, 'a'), rec(2, 1, 'a'), wm(30)], tumbling10);
    expect(r.panes.map((p) => [p.key, p.window.start])).toEqual([
      ['a', 0],
      ['b', 0],
      ['a', 10],
    ]);
  });

  it('uses the aggregate in arrival order', () => {
    const list: RefAggregate<Rec, number[], number[]> = {
      create: () => [],
      add: (a, r) => [...a, r.n],
      merge: (a, b) => [...a, ...b],
      result: (a) => a,
    };
    const r = referenceWindows([rec(5, 3), rec(1, 1), rec(7, 2)], { key: byK, windowing: tumbling10, aggregate: list });
    expect(r.panes.map((p) => p.value)).toEqual([[3, 1, 2]]);
  });
});

describe('sliding windows', () => {
  it('slide that does not divide size: 2 or 3 windows per record', () => {
    const r = run([rec(5), rec(6), rec(-3)], { kind: 'sliding', size: 10, slide: 4 });
    expect(r.panes).toEqual([
      pane('a', -12, -2, 1, 'on-time', 0, true),
      pane('a', -8, 2, 1, 'on-time', 0, true),
      pane('a', -4, 6, 2, 'on-time', 0, true),
      pane('a', 0, 10, 2, 'on-time', 0, true),
      pane('a', 4, 14, 2, 'on-time', 0, true),
    ]);
    expect(r.counts).toEqual({ in: 3, accepted: 3, tooLate: 0, tooLatePairs: 0 });
  });

  it('a record can be too late for its oldest windows and on time for newer ones', () => {
    const r = run([rec(12), wm(14), rec(7), rec(11)], { kind: 'sliding', size: 10, slide: 5 });
    expect(r.panes).toEqual([pane('a', 5, 15, 1, 'on-time', 0, true), pane('a', 10, 20, 2, 'on-time', 0, true)]);
    expect(r.late).toEqual([
      {
        value: { k: 'a', n: 1 },
        timestamp: 7,
        key: 'a',
        missedWindows: [
          { start: 0, end: 10 },
          { start: 5, end: 15 },
        ],
      },
      { value: { k: 'a', n: 1 }, timestamp: 11, key: 'a', missedWindows: [{ start: 5, end: 15 }] },
    ]);
    expect(r.counts).toEqual({ in: 3, accepted: 2, tooLate: 1, tooLatePairs: 3 });
  });

  it('with allowed lateness: too late for one window, late pane for another, on time for a third', () => {
    const r = run([rec(3), wm(7), rec(4), wm(9), rec(6)], { kind: 'sliding', size: 10, slide: 5 }, { allowedLateness: 3 });
    expect(r.panes).toEqual([
      pane('a', -5, 5, 1, 'on-time', 0, true),
      pane('a', 0, 10, 2, 'on-time', 0, false),
      pane('a', 0, 10, 3, 'late', 1, false),
      pane('a', 5, 15, 1, 'on-time', 0, true),
    ]);
    expect(r.late).toEqual([{ value: { k: 'a', n: 1 }, timestamp: 4, key: 'a', missedWindows: [{ start: -5, end: 5 }] }]);
    expect(r.counts).toEqual({ in: 3, accepted: 3, tooLate: 0, tooLatePairs: 1 });
  });

  it('with an offset', () => {
    const r = run([rec(5)], { kind: 'sliding', size: 10, slide: 4, offset: 1 });
    expect(r.panes.map((p) => p.window)).toEqual([
      { start: -3, end: 7 },
      { start: 1, end: 11 },
      { start: 5, end: 15 },
    ]);
  });
});

describe('session windows', () => {
  const gap10: RefWindowing<Rec> = { kind: 'session', gap: 10 };

  it('records exactly gap apart are separate sessions; gap − 1 apart merge', () => {
    expect(run([rec(0), rec(10)], gap10).panes).toEqual([
      pane('a', 0, 10, 1, 'on-time', 0, true),
      pane('a', 10, 20, 1, 'on-time', 0, true),
    ]);
    expect(run([rec(10), rec(0)], gap10).panes).toEqual([
      pane('a', 0, 10, 1, 'on-time', 0, true),
      pane('a', 10, 20, 1, 'on-time', 0, true),
    ]);
    expect(run([rec(0), rec(9)], gap10).panes).toEqual([pane('a', 0, 19, 2, 'on-time', 0, true)]);
  });

  it('merges transitively: a record bridges two sessions', () => {
    expect(run([rec(0), rec(15), rec(8)], gap10).panes).toEqual([pane('a', 0, 25, 3, 'on-time', 0, true)]);
    expect(run([rec(0), rec(20), rec(9)], gap10).panes).toEqual([
      pane('a', 0, 19, 2, 'on-time', 0, true),
      pane('a', 20, 30, 1, 'on-time', 0, true),
    ]);
  });

  it('negative timestamps', () => {
    expect(run([rec(-20), rec(-11), rec(-1)], gap10).panes).toEqual([
      pane('a', -20, -1, 2, 'on-time', 0, true),
      pane('a', -1, 9, 1, 'on-time', 0, true),
    ]);
  });

  it('a late record is judged against the merged session, not its own proto-window', () => {
    const r = run([rec(5), wm(10), rec(1)], gap10);
    expect(r.panes).toEqual([pane('a', 1, 15, 2, 'on-time', 0, true)]);
    expect(r.late).toEqual([]);
  });

  it('purged sessions do not merge with later records', () => {
    const r = run([rec(0), rec(15), wm(9), rec(8)], gap10);
    expect(r.panes).toEqual([pane('a', 0, 10, 1, 'on-time', 0, true), pane('a', 8, 25, 2, 'on-time', 0, true)]);
  });

  it('a late record bridges two fired sessions into a new window (index 0, late pane)', () => {
    const r = run([rec(0), rec(12), wm(21), rec(5), wm(41), rec(20), rec(0)], gap10, { allowedLateness: 20 });
    expect(r.panes).toEqual([
      pane('a', 0, 10, 1, 'on-time', 0, false),
      pane('a', 12, 22, 1, 'on-time', 0, false),
      pane('a', 0, 22, 3, 'late', 0, false), // born of a merge behind the watermark
      pane('a', 20, 30, 1, 'late', 0, false), // born behind the watermark, within L
    ]);
    expect(r.late).toEqual([{ value: { k: 'a', n: 1 }, timestamp: 0, key: 'a', missedWindows: [{ start: 0, end: 10 }] }]);
    expect(r.counts).toEqual({ in: 5, accepted: 4, tooLate: 1, tooLatePairs: 1 });
    // Merged-away sessions' panes are not retracted: they stay among the final panes.
    expect(finalPanes(r.panes).size).toBe(4);
  });

  it('a record inside an existing session keeps the window (pane index continues)', () => {
    const dyn: RefWindowing<Rec> = { kind: 'session', gap: (r) => r.n };
    const r = run([rec(0, 10), wm(9), rec(0, 10), rec(2, 3)], dyn, { allowedLateness: 10 });
    expect(r.panes).toEqual([
      pane('a', 0, 10, 1, 'on-time', 0, false),
      pane('a', 0, 10, 2, 'late', 1, false),
      pane('a', 0, 10, 3, 'late', 2, false),
    ]);
  });

  it('dynamic gaps: each record has its own proto-window', () => {
    const dyn: RefWindowing<Rec> = { kind: 'session', gap: (r) => r.n };
    // [0,5) and [5,7) touch only; [6,16) overlaps [5,7) only.
    expect(run([rec(0, 5), rec(5, 2), rec(6, 10)], dyn).panes).toEqual([
      pane('a', 0, 5, 1, 'on-time', 0, true),
      pane('a', 5, 16, 2, 'on-time', 0, true),
    ]);
  });

  it('discarding: a merged window holds only the not-yet-emitted records', () => {
    const steps = [rec(0, 1), wm(9), rec(9, 10), wm(18)];
    const spec = { key: byK, windowing: gap10, aggregate: sumN, allowedLateness: 20 } as const;
    expect(referenceWindows(steps, { ...spec, accumulation: 'discarding' }).panes).toEqual([
      pane('a', 0, 10, 1, 'on-time', 0, false),
      pane('a', 0, 19, 10, 'on-time', 0, false),
    ]);
    expect(referenceWindows(steps, spec).panes).toEqual([
      pane('a', 0, 10, 1, 'on-time', 0, false),
      pane('a', 0, 19, 11, 'on-time', 0, false),
    ]);
  });

  it('sessions are per key', () => {
    const r = run([rec(0, 1, 'a'), rec(5, 1, 'b'), rec(8, 1, 'a')], gap10);
    // Ordered by window end: b's [5,15) before a's [0,18).
    expect(r.panes).toEqual([pane('b', 5, 15, 1, 'on-time', 0, true), pane('a', 0, 18, 2, 'on-time', 0, true)]);
  });
});

describe('global window', () => {
  it('fires once per key, only at end of input', () => {
    const r = run([rec(5, 1, 'a'), rec(-100, 1, 'b'), rec(1e6, 1, 'a'), wm(1e9), rec(0, 1, 'a')], { kind: 'global' });
    expect(r.panes).toEqual([
      pane('a', -Infinity, Infinity, 3, 'on-time', 0, true),
      pane('b', -Infinity, Infinity, 1, 'on-time', 0, true),
    ]);
    expect(r.panes[0]?.timestamp).toBe(8.64e15) // the largest valid timestamp: the global window never ends;
    expect(r.late).toEqual([]);
  });

  it('after an explicit +Infinity watermark every record is too late', () => {
    const r = run([rec(1), wm(Infinity), rec(2)], { kind: 'global' }, { allowedLateness: 1000 });
    expect(r.panes).toEqual([pane('a', -Infinity, Infinity, 1, 'on-time', 0, true)]);
    expect(r.late).toEqual([
      { value: { k: 'a', n: 1 }, timestamp: 2, key: 'a', missedWindows: [{ start: -Infinity, end: Infinity }] },
    ]);
  });
});

describe('keys', () => {
  it('compares keys by value: 1, "1" and 1n are distinct; equal arrays are one key', () => {
    type V = { key: unknown };
    const steps: RefStep<V>[] = [1, '1', 1n, ['x', 1], ['x', 1], true].map((key, i) => ({
      kind: 'record',
      value: { key },
      timestamp: i,
    }));
    const r = referenceWindows(steps, { key: (v: V) => v.key, windowing: { kind: 'global' }, aggregate: count });
    expect(r.panes.map((p) => [p.key, p.value])).toEqual(
      expect.arrayContaining([
        [1, 1],
        ['1', 1],
        [1n, 1],
        [['x', 1], 2],
        [true, 1],
      ]),
    );
    expect(r.panes).toHaveLength(5);
  });
});

describe('validation', () => {
  it('rejects invalid windowing and inputs', () => {
    const bad = (windowing: RefWindowing<Rec>, steps: RefStep<Rec>[] = [rec(0)], allowedLateness = 0) => () =>
      run(steps, windowing, { allowedLateness });
    expect(bad({ kind: 'tumbling', size: 0 })).toThrow(RangeError);
    expect(bad({ kind: 'tumbling', size: 10, offset: 10 })).toThrow(RangeError);
    expect(bad({ kind: 'sliding', size: 10, slide: 11 })).toThrow(RangeError);
    expect(bad({ kind: 'sliding', size: 10, slide: 4, offset: -4 })).toThrow(RangeError);
    expect(bad({ kind: 'session', gap: 0 })).toThrow(RangeError);
    expect(bad({ kind: 'session', gap: () => -1 })).toThrow(RangeError);
    expect(bad(tumbling10, [rec(0.5)])).toThrow(RangeError);
    expect(bad(tumbling10, [wm(Number.NaN)])).toThrow(RangeError);
    expect(bad(tumbling10, [rec(0)], -1)).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
// Internal consistency (properties)
// ---------------------------------------------------------------------------------------------

const windowingArb: fc.Arbitrary<RefWindowing<Rec>> = fc.oneof(
  fc
    .integer({ min: 1, max: 12 })
    .chain((size) => fc.record({ kind: fc.constant('tumbling' as const), size: fc.constant(size), offset: fc.integer({ min: -size + 1, max: size - 1 }) })),
  fc.integer({ min: 1, max: 12 }).chain((size) =>
    fc.integer({ min: 1, max: size }).chain((slide) =>
      fc.record({
        kind: fc.constant('sliding' as const),
        size: fc.constant(size),
        slide: fc.constant(slide),
        offset: fc.integer({ min: -slide + 1, max: slide - 1 }),
      }),
    ),
  ),
  fc.integer({ min: 1, max: 12 }).map((gap): RefWindowing<Rec> => ({ kind: 'session', gap })),
  fc.constant<RefWindowing<Rec>>({ kind: 'session', gap: (r: Rec) => r.n + 1 }),
  fc.constant<RefWindowing<Rec>>({ kind: 'global' }),
);

const stepArb: fc.Arbitrary<RefStep<Rec>> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.integer({ min: -30, max: 30 }), n: fc.integer({ min: 0, max: 5 }), k: fc.constantFrom('a', 'b') }).map(({ t, n, k }) => rec(t, n, k)) },
  { weight: 1, arbitrary: fc.integer({ min: -35, max: 35 }).map(wm) },
);

describe('properties of the model', () => {
  it('conserves records and keeps pane metadata consistent', () => {
    fc.assert(
      fc.property(
        fc.array(stepArb, { maxLength: 25 }),
        windowingArb,
        fc.integer({ min: 0, max: 15 }),
        fc.constantFrom('accumulating' as const, 'discarding' as const),
        (steps, windowing, allowedLateness, accumulation) => {
          const r = referenceWindows(steps, { key: byK, windowing, aggregate: count, allowedLateness, accumulation });
          const records = steps.filter((s) => s.kind === 'record').length;
          expect(r.counts.in).toBe(records);
          expect(r.counts.accepted + r.counts.tooLate).toBe(r.counts.in);
          expect(r.late.reduce((n, l) => n + l.missedWindows.length, 0)).toBe(r.counts.tooLatePairs);
          expect(r.late.length).toBeGreaterThanOrEqual(r.counts.tooLate);
          for (const l of r.late) {
            const starts = l.missedWindows.map((w) => w.start);
            expect(starts).toEqual([...starts].sort((a, b) => a - b));
            expect(l.missedWindows.length).toBeGreaterThan(0);
          }
          // Per window: indices 0,1,2,…; at most one on-time pane and it comes first; nothing after a final pane.
          const seen = new Map<string, RefPane<string, number>[]>();
          for (const p of r.panes) {
            expect(p.timestamp).toBe(p.window.end === Infinity ? 8.64e15 : p.window.end - 1);
            const id = windowId(p.key, p.window);
            const list = seen.get(id) ?? [];
            list.push(p);
            seen.set(id, list);
          }
          for (const list of seen.values()) {
            list.forEach((p, i) => {
              expect(p.pane.index).toBe(i);
              if (i > 0) expect(p.pane.timing).toBe('late');
              if (i < list.length - 1) expect(p.pane.final).toBe(false);
            });
            if (accumulation === 'accumulating') {
              const values = list.map((p) => p.value);
              expect(values).toEqual([...values].sort((a, b) => a - b));
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('aligned windows: admitted (record, window) pairs all reach the panes', () => {
    fc.assert(
      fc.property(
        fc.array(stepArb, { maxLength: 25 }),
        windowingArb.filter((w) => w.kind !== 'session'),
        fc.integer({ min: 0, max: 15 }),
        (steps, windowing, allowedLateness) => {
          const spec = { key: byK, windowing, aggregate: count, allowedLateness };
          const acc = referenceWindows(steps, spec);
          const dis = referenceWindows(steps, { ...spec, accumulation: 'discarding' });
          const windowsPerRecord =
            windowing.kind === 'tumbling' || windowing.kind === 'global'
              ? () => 1
              : (t: number) => assignAligned(t, windowing.size, windowing.slide, windowing.offset ?? 0).length;
          const pairs = steps.reduce((n, s) => (s.kind === 'record' ? n + windowsPerRecord(s.timestamp) : n), 0);
          const admitted = pairs - acc.counts.tooLatePairs;
          let lastSum = 0;
          for (const p of finalPanes(acc.panes).values()) lastSum += p.value;
          expect(lastSum).toBe(admitted);
          expect(dis.panes.reduce((n, p) => n + p.value, 0)).toBe(admitted);
          expect(dis.panes.map((p) => [p.key, p.window, p.pane])).toEqual(acc.panes.map((p) => [p.key, p.window, p.pane]));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('without watermark steps nothing is late and every window fires once, on time and final', () => {
    fc.assert(
      fc.property(
        fc.array(stepArb.filter((s) => s.kind === 'record'), { maxLength: 20 }),
        windowingArb,
        fc.integer({ min: 0, max: 15 }),
        (steps, windowing, allowedLateness) => {
          const r = referenceWindows(steps, { key: byK, windowing, aggregate: bagN, allowedLateness });
          expect(r.late).toEqual([]);
          for (const p of r.panes) expect(p.pane).toEqual({ timing: 'on-time', index: 0, final: true });
          const all = r.panes.flatMap((p) => p.value);
          if (windowing.kind === 'session' || windowing.kind === 'global') {
            // Each record is in exactly one window.
            const ns = steps.flatMap((s) => (s.kind === 'record' ? [s.value.n] : []));
            expect([...all].sort((a, b) => a - b)).toEqual([...ns].sort((a, b) => a - b));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
