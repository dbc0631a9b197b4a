/**
 * Sketch aggregates: approxDistinct (HyperLogLog), quantiles (DDSketch) and topK (Space-Saving).
 * Each obeys the aggregate laws, stays within its stated error against exact answers on seeded
 * data, round-trips through msgpackr/JSON as plain data, and works in a windowed pipeline.
 */
import fc from 'fast-check';
import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  type Aggregate, type ApproxDistinctAcc, type KeyPrimitive, type QuantilesAcc, type Stream, type TopKAcc, type TopKEntry,
  type WindowResult, approxDistinct, quantiles, topK, tumbling,
} from 'tidemark';
import { checkReorderInvariance, harness, seededRandom } from 'tidemark/testing';

// ---- helpers --------------------------------------------------------------------------------

const rng = seededRandom;

function fold<T, A, R>(agg: Aggregate<T, A, R>, values: readonly T[]): A {
  let acc = agg.create();
  for (const v of values) acc = agg.add(acc, v);
  return acc;
}

/** Splits `xs` at two cut points (fractions in [0, 1]) into three parts. */
function thirds<T>(xs: readonly T[], c1: number, c2: number): [T[], T[], T[]] {
  const i = Math.floor(Math.min(c1, c2) * xs.length);
  const j = Math.floor(Math.max(c1, c2) * xs.length);
  return [xs.slice(0, i), xs.slice(i, j), xs.slice(j)];
}

/** Folds `xs` as random panes merged in a random tree (a different grouping and order each time). */
function foldInPanes<T, A, R>(agg: Aggregate<T, A, R>, xs: readonly T[], random: () => number): A {
  const shuffled = xs.slice();
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j] as T, shuffled[i] as T];
  }
  const panes: A[] = [];
  for (let i = 0; i < shuffled.length;) {
    const size = 1 + Math.floor(random() * Math.max(1, shuffled.length / 4));
    panes.push(fold(agg, shuffled.slice(i, i + size)));
    i += size;
  }
  if (panes.length === 0) return agg.create();
  while (panes.length > 1) {
    const i = Math.floor(random() * (panes.length - 1));
    panes.splice(i, 2, agg.merge(panes[i] as A, panes[i + 1] as A));
  }
  return panes[0] as A;
}

/** Checks associativity and identity on results, and that merge leaves its second argument alone. */
function checkLaws<T, A, R>(agg: Aggregate<T, A, R>, xs: readonly T[], c1: number, c2: number, copy: (a: A) => A): void {
  const [p1, p2, p3] = thirds(xs, c1, c2);
  const left = agg.merge(agg.merge(fold(agg, p1), fold(agg, p2)), fold(agg, p3));
  const b = agg.merge(fold(agg, p2), fold(agg, p3));
  const bBefore = copy(b);
  const right = agg.merge(fold(agg, p1), b);
  expect(b).toEqual(bBefore);
  const whole = fold(agg, xs);
  expect(agg.result(left)).toEqual(agg.result(right));
  expect(agg.result(agg.merge(agg.create(), fold(agg, xs)))).toEqual(agg.result(whole));
  expect(agg.result(agg.merge(fold(agg, xs), agg.create()))).toEqual(agg.result(whole));
}

const primitive: fc.Arbitrary<KeyPrimitive> = fc.oneof(
  fc.integer({ min: -50, max: 50 }),
  fc.string({ maxLength: 3 }),
  fc.bigInt({ min: -5n, max: 5n }),
  fc.boolean(),
  fc.constantFrom(0.5, -0, NaN),
);

// ---- approxDistinct -------------------------------------------------------------------------

describe('approxDistinct (HyperLogLog)', () => {
  const id = (v: KeyPrimitive): KeyPrimitive => v;

  it('merge is associative, create() is its identity, merge leaves b alone (sparse and dense)', () => {
    for (const precision of [4, 8]) {
      const agg = approxDistinct(id, { precision });
      fc.assert(
        fc.property(fc.array(fc.oneof(primitive, fc.integer()), { maxLength: 400 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (xs, c1, c2) => {
          checkLaws(agg, xs, c1, c2, (a) => structuredClone(a));
        }),
        { numRuns: 60, seed: 1 },
      );
    }
  });

  it('does not depend on arrival order or grouping (the registers are the same)', () => {
    const agg = approxDistinct(id, { precision: 10 });
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 600 }), fc.integer(), (xs, seed) => {
        const a = fold(agg, xs);
        const b = foldInPanes(agg, xs, rng(seed));
        expect(agg.result(b)).toBe(agg.result(a));
      }),
      { numRuns: 60, seed: 2 },
    );
  });

  it('is exact up to 1 for small cardinalities (linear counting), and ignores duplicates', () => {
    const agg = approxDistinct((x: string) => x);
    for (const n of [0, 1, 2, 10, 50, 100]) {
      const xs = Array.from({ length: n }, (_, i) => `user-${i}`);
      const once = agg.result(fold(agg, xs));
      expect(Math.abs(once - n)).toBeLessThanOrEqual(1);
      expect(agg.result(fold(agg, [...xs, ...xs, ...xs]))).toBe(once);
    }
  });

  it('treats values as keys are treated: 1, "1", 1n and true are distinct; 0 and -0 are not', () => {
    const agg = approxDistinct((x: KeyPrimitive | readonly KeyPrimitive[]) => x);
    expect(agg.result(fold(agg, [1, '1', 1n, true, 0, -0, ['a', 1], ['a', 1], ['a', '1']]))).toBe(7);
  });

  // [precision, cardinality, value kind, seed]: within 3 standard errors of the true count
  const cases: [number, number, 'int' | 'string' | 'bigint', number][] = [
    [14, 1_000, 'string', 1], [14, 5_000, 'int', 2], [14, 20_000, 'bigint', 3], [14, 100_000, 'string', 4],
    [14, 1_000_000, 'int', 5], [10, 3_000, 'int', 6], [10, 50_000, 'string', 7], [12, 10_000, 'int', 8],
    [4, 1_000, 'string', 9], [18, 200_000, 'int', 10],
  ];
  const measured: string[] = [];

  it.each(cases)('p=%i, %i distinct %s values: within 3 standard errors', (precision, n, kind, seed) => {
    const agg = approxDistinct((x: KeyPrimitive) => x, { precision });
    const base = Math.floor(rng(seed)() * 1e9);
    let acc = agg.create();
    for (let i = 0; i < n; i++) {
      const v = base + i;
      acc = agg.add(acc, kind === 'int' ? v : kind === 'bigint' ? BigInt(v) * 1_000_003n : `s${v}`);
    }
    const estimate = agg.result(acc);
    const error = (estimate - n) / n;
    measured.push(`p=${precision} n=${n}: ${(error * 100).toFixed(2)}% (${(error / agg.standardError).toFixed(2)}σ)`);
    expect(Math.abs(error)).toBeLessThanOrEqual(3 * agg.standardError);
    expect(agg.standardError).toBeCloseTo(1.04 / Math.sqrt(2 ** precision), 10);
  });

  it('the mean error over many seeded runs is small (no bias across the small/large switch)', () => {
    const agg = approxDistinct((x: number) => x, { precision: 8 });
    for (const n of [50, 200, 640, 1_500, 5_000]) {
      let sum = 0;
      const runs = 40;
      for (let r = 0; r < runs; r++) {
        let acc = agg.create();
        for (let i = 0; i < n; i++) acc = agg.add(acc, r * 1e7 + i);
        sum += (agg.result(acc) - n) / n;
      }
      measured.push(`p=8 n=${n}: mean error over ${runs} runs ${((sum / runs) * 100).toFixed(2)}%`);
      // the mean of 40 runs has standard error σ/√40
      expect(Math.abs(sum / runs)).toBeLessThanOrEqual((3 * agg.standardError) / Math.sqrt(runs) + 0.002);
    }
    console.info(`approxDistinct measured errors:\n  ${measured.join('\n  ')}`);
  });

  it('round-trips through msgpackr and structuredClone, and keeps working after', () => {
    const agg = approxDistinct((x: number) => x, { precision: 10 });
    for (const n of [10, 5_000]) {
      const acc = fold(agg, Array.from({ length: n }, (_, i) => i));
      const restored = unpack(pack(acc)) as ApproxDistinctAcc;
      expect(agg.result(restored)).toBe(agg.result(acc));
      const more = fold(agg, Array.from({ length: 1_000 }, (_, i) => -i - 1));
      const before = structuredClone(more);
      expect(agg.result(agg.merge(structuredClone(more), restored))).toBe(agg.result(agg.merge(acc, more)));
      expect(agg.result(agg.merge(restored, more))).toBe(agg.result(agg.merge(structuredClone(before), acc)));
      expect(more).toEqual(before);
    }
  });

  it('rejects bad options and values that are not keys', () => {
    expect(() => approxDistinct((x: number) => x, { precision: 3 })).toThrow(RangeError);
    expect(() => approxDistinct((x: number) => x, { precision: 19 })).toThrow(RangeError);
    const agg = approxDistinct((x: unknown) => x as KeyPrimitive);
    expect(() => agg.add(agg.create(), { id: 1 })).toThrow(/approxDistinct: key must be/);
    const a = approxDistinct((x: number) => x, { precision: 10 });
    const b = approxDistinct((x: number) => x, { precision: 11 });
    expect(() => a.merge(a.create(), b.create())).toThrow(/precision/);
  });
});

// ---- quantiles ------------------------------------------------------------------------------

/** The exact q-quantile as the sketch defines it: the value at 0-based rank ⌊q·(n − 1)⌋. */
function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
}

/** Within α relative — or, as documented, about zero for magnitudes below 2^−1022 (they count as 0). */
function expectWithin(estimate: number, exact: number, alpha: number): void {
  if (Math.abs(exact) < 2 ** -1022) expect(Math.abs(estimate)).toBeLessThan(2 ** -1022);
  else expect(Math.abs(estimate - exact)).toBeLessThanOrEqual(alpha * Math.abs(exact) * (1 + 1e-9));
}

/** The documented guarantee covers magnitudes above γ^(K − maxBuckets), K the largest key of the sign. */
function guaranteed(acc: QuantilesAcc, v: number, alpha: number, maxBuckets: number): boolean {
  if (v === 0) return true;
  const store = v > 0 ? acc.positive : acc.negative;
  const top = store.offset + store.counts.length - 1;
  return Math.abs(v) > Math.pow((1 + alpha) / (1 - alpha), top - maxBuckets) * (1 + 1e-9);
}

describe('quantiles (DDSketch)', () => {
  const QS = [0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];
  const value = fc.oneof(
    fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    fc.integer({ min: -20, max: 20 }),
    fc.double({ min: -1e300, max: 1e300, noNaN: true }),
    fc.constant(0),
  );

  it('merge is associative, create() is its identity, merge leaves b alone (also while collapsing)', () => {
    for (const maxBuckets of [2048, 6]) {
      const agg = quantiles((x: number) => x, { qs: QS, maxBuckets });
      fc.assert(
        fc.property(fc.array(value, { maxLength: 200 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (xs, c1, c2) => {
          checkLaws(agg, xs, c1, c2, (a) => structuredClone(a));
        }),
        { numRuns: 80, seed: 3 },
      );
    }
  });

  it('does not depend on arrival order or grouping', () => {
    const agg = quantiles((x: number) => x, { qs: QS, maxBuckets: 10 });
    fc.assert(
      fc.property(fc.array(value, { maxLength: 300 }), fc.integer(), (xs, seed) => {
        expect(agg.result(foldInPanes(agg, xs, rng(seed)))).toEqual(agg.result(fold(agg, xs)));
      }),
      { numRuns: 80, seed: 4 },
    );
  });

  it('every quantile is within relative accuracy α of the exact value at its rank (any data)', () => {
    let checked = 0;
    let total = 0;
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 300 }),
        fc.constantFrom(0.001, 0.01, 0.05, 0.2),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 5 }),
        fc.integer(),
        (xs, alpha, qs, seed) => {
          const agg = quantiles((x: number) => x, { relativeAccuracy: alpha, qs });
          const sorted = xs.slice().sort((a, b) => a - b);
          const acc = foldInPanes(agg, xs, rng(seed));
          const got = agg.result(acc);
          const maxBuckets = Math.ceil(40 / Math.log((1 + alpha) / (1 - alpha))); // the documented default
          for (const q of qs) {
            const exact = exactQuantile(sorted, q);
            total++;
            if (guaranteed(acc, exact, alpha, maxBuckets)) {
              expectWithin(got[q] as number, exact, alpha);
              checked++;
            }
          }
        },
      ),
      { numRuns: 150, seed: 5 },
    );
    console.info(`quantiles, any data: ${checked} of ${total} quantiles in the guaranteed range (the rest collapsed: a range above e^40)`);
    expect(checked).toBeGreaterThan(total * 0.7);
  });

  const distributions: [string, (r: () => number) => number][] = [
    ['uniform 0..1000', (r) => r() * 1000],
    ['log-normal latency', (r) => Math.exp(3 + 1.5 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()))],
    ['pareto (heavy tail)', (r) => 1 / Math.pow(1 - r(), 1 / 1.2)],
    ['signed, with zeros', (r) => (r() < 0.1 ? 0 : (r() - 0.5) * 2e4)],
    ['small integers (many ties)', (r) => Math.floor(r() * 20) - 5],
  ];

  it.each(distributions)('%s, 50 000 seeded values: every quantile within α (α = 1% and 0.1%)', (name, draw) => {
    const r = rng(name.length * 7919);
    const xs = Array.from({ length: 50_000 }, () => draw(r));
    const sorted = xs.slice().sort((a, b) => a - b);
    for (const alpha of [0.01, 0.001]) {
      const agg = quantiles((x: number) => x, { relativeAccuracy: alpha, qs: QS });
      const got = agg.result(foldInPanes(agg, xs, r));
      let worst = 0;
      for (const q of QS) {
        const exact = exactQuantile(sorted, q);
        expectWithin(got[q] as number, exact, alpha);
        if (exact !== 0) worst = Math.max(worst, Math.abs((got[q] as number) - exact) / Math.abs(exact));
      }
      console.info(`quantiles ${name}, α=${alpha}: worst relative error ${(worst * 100).toFixed(3)}%`);
    }
  });

  it('keeps at most maxBuckets buckets per sign; collapsing costs accuracy only near zero', () => {
    const maxBuckets = 64;
    const alpha = 0.01;
    const agg = quantiles((x: number) => x, { relativeAccuracy: alpha, qs: QS, maxBuckets });
    const r = rng(11);
    const xs = Array.from({ length: 20_000 }, () => (r() < 0.5 ? -1 : 1) * Math.exp(r() * 20)); // magnitudes 1..e^20
    const acc = fold(agg, xs);
    expect(acc.positive.counts.length).toBeLessThanOrEqual(maxBuckets);
    expect(acc.negative.counts.length).toBeLessThanOrEqual(maxBuckets);
    const sorted = xs.slice().sort((a, b) => a - b);
    const got = agg.result(acc);
    let checked = 0;
    for (const q of QS) {
      const exact = exactQuantile(sorted, q);
      if (guaranteed(acc, exact, alpha, maxBuckets)) {
        expectWithin(got[q] as number, exact, alpha);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(6);
  });

  it('empty gives NaN; values round-trip as JSON; bad input throws', () => {
    const agg = quantiles((x: number) => x);
    expect(agg.result(agg.create())).toEqual({ 0.5: NaN, 0.9: NaN, 0.99: NaN });
    const acc = fold(agg, [3, 1, 2, -4, 0, 1e-320]);
    const restored = JSON.parse(JSON.stringify(acc)) as QuantilesAcc;
    expect(restored).toEqual(acc);
    expect(agg.result(unpack(pack(acc)) as QuantilesAcc)).toEqual(agg.result(acc));
    expect(Object.keys(agg.result(acc))).toEqual(['0.5', '0.9', '0.99']);
    expect(() => agg.add(agg.create(), NaN)).toThrow(TypeError);
    expect(() => agg.add(agg.create(), Infinity)).toThrow(TypeError);
    expect(() => quantiles((x: number) => x, { relativeAccuracy: 0 })).toThrow(RangeError);
    expect(() => quantiles((x: number) => x, { qs: [1.5] })).toThrow(RangeError);
    expect(() => quantiles((x: number) => x, { maxBuckets: 0 })).toThrow(RangeError);
  });
});

// ---- topK -----------------------------------------------------------------------------------

const TYPE_RANK: Record<string, number> = { boolean: 0, number: 1, bigint: 2, string: 3 };

/** The documented total order, written again independently. */
function itemOrder(a: KeyPrimitive, b: KeyPrimitive): number {
  const d = (TYPE_RANK[typeof a] as number) - (TYPE_RANK[typeof b] as number);
  if (d !== 0) return d;
  if (Number.isNaN(a) || Number.isNaN(b)) return Number(Number.isNaN(a)) - Number(Number.isNaN(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

function exactCounts(xs: readonly KeyPrimitive[]): Map<KeyPrimitive, number> {
  const counts = new Map<KeyPrimitive, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  return counts;
}

function exactTopK(xs: readonly KeyPrimitive[], k: number): TopKEntry[] {
  return [...exactCounts(xs)]
    .map(([item, count]) => ({ item: item === 0 ? 0 : item, count }))
    .sort((a, b) => b.count - a.count || itemOrder(a.item, b.item))
    .slice(0, k);
}

/** The Space-Saving guarantees of a summary of `xs`. */
function checkGuarantees(acc: TopKAcc, result: readonly TopKEntry[], xs: readonly KeyPrimitive[], k: number): number {
  const truth = exactCounts(xs);
  const n = xs.length;
  expect(acc.n).toBe(n);
  const full = acc.items.length >= acc.capacity;
  const floor = full ? Math.min(...acc.counts) : 0;
  expect(floor).toBeLessThanOrEqual(n / acc.capacity);
  const held = new Set(acc.items);
  acc.items.forEach((item, i) => {
    const t = truth.get(item) ?? 0;
    const count = acc.counts[i] as number;
    expect(count).toBeGreaterThanOrEqual(t); // never under
    expect(count - t).toBeLessThanOrEqual(acc.errors[i] as number); // over by at most its error ...
    expect(acc.errors[i]).toBeLessThanOrEqual(floor); // ... which is at most the smallest counter
  });
  for (const [item, t] of truth) if (t > floor) expect(held.has(item)).toBe(true);
  // a reported item is at most `floor` less frequent than any true top-k item it displaced
  const kth = exactTopK(xs, k).at(-1)?.count ?? 0;
  for (const e of result) expect(truth.get(e.item) ?? 0).toBeGreaterThanOrEqual(Math.min(kth, e.count) - floor);
  return floor;
}

function zipf(n: number, domain: number, s: number, random: () => number): number[] {
  const cdf: number[] = [];
  let total = 0;
  for (let i = 1; i <= domain; i++) cdf.push((total += 1 / Math.pow(i, s)));
  return Array.from({ length: n }, () => {
    const u = random() * total;
    let lo = 0;
    let hi = domain - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  });
}

describe('topK (exact, then Space-Saving)', () => {
  it('is exact while there are at most `capacity` distinct items, whatever the grouping', () => {
    fc.assert(
      fc.property(fc.array(primitive, { maxLength: 300 }), fc.integer({ min: 1, max: 10 }), fc.integer(), (xs, k, seed) => {
        const agg = topK((x: KeyPrimitive) => x, k, { capacity: 200 });
        const expected = exactTopK(xs, k);
        expect(agg.result(fold(agg, xs))).toEqual(expected);
        expect(agg.result(foldInPanes(agg, xs, rng(seed)))).toEqual(expected);
      }),
      { numRuns: 100, seed: 6 },
    );
  });

  it('merge is associative while exact, create() is its identity, merge leaves b alone', () => {
    fc.assert(
      fc.property(fc.array(primitive, { maxLength: 200 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (xs, c1, c2) => {
        checkLaws(topK((x: KeyPrimitive) => x, 5, { capacity: 200 }), xs, c1, c2, (a) => structuredClone(a));
      }),
      { numRuns: 100, seed: 7 },
    );
  });

  it('full summaries: identity holds exactly; both groupings of a merge keep the guarantees', () => {
    const k = 3;
    const agg = topK((x: number) => x, k, { capacity: 8 });
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 300 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (xs, c1, c2) => {
        const [p1, p2, p3] = thirds(xs, c1, c2);
        const left = agg.merge(agg.merge(fold(agg, p1), fold(agg, p2)), fold(agg, p3));
        const right = agg.merge(fold(agg, p1), agg.merge(fold(agg, p2), fold(agg, p3)));
        checkGuarantees(left, agg.result(left), xs, k);
        checkGuarantees(right, agg.result(right), xs, k);
        expect(agg.result(agg.merge(agg.create(), fold(agg, xs)))).toEqual(agg.result(fold(agg, xs)));
        expect(agg.result(agg.merge(fold(agg, xs), agg.create()))).toEqual(agg.result(fold(agg, xs)));
      }),
      { numRuns: 150, seed: 8 },
    );
  });

  it('keeps the Space-Saving guarantees on skewed (Zipf) data in any order and grouping', () => {
    const k = 10;
    const agg = topK((x: number) => x, k); // capacity max(64, 4k) = 64
    const r = rng(12);
    const xs = zipf(100_000, 10_000, 1.1, r);
    const exact = exactTopK(xs, k);
    const sequential = fold(agg, xs);
    const floors = [checkGuarantees(sequential, agg.result(sequential), xs, k)];
    for (let run = 0; run < 4; run++) {
      const acc = foldInPanes(agg, xs, r);
      floors.push(checkGuarantees(acc, agg.result(acc), xs, k));
    }
    // on data this skewed the top 10 come out right, counts over by at most the smallest counter
    const got = agg.result(sequential);
    expect(got.map((e) => e.item)).toEqual(exact.map((e) => e.item));
    const worst = Math.max(...got.map((e, i) => e.count - (exact[i] as TopKEntry).count));
    console.info(`topK Zipf(1.1), n=100000, c=64: smallest counter (error bound) ${floors.join(', ')} (n/c = ${100_000 / 64}); sequential top-10 overcount at most ${worst}`);
  });

  it('orders ties by item: false < true < numbers (NaN last) < bigints < strings; -0 is 0', () => {
    const agg = topK((x: KeyPrimitive) => x, 10);
    const got = agg.result(fold(agg, ['b', 3n, NaN, 2, true, 'a', -0, false, 1, 'b']));
    expect(got).toEqual([
      { item: 'b', count: 2 }, { item: false, count: 1 }, { item: true, count: 1 }, { item: 0, count: 1 }, { item: 1, count: 1 },
      { item: 2, count: 1 }, { item: NaN, count: 1 }, { item: 3n, count: 1 }, { item: 'a', count: 1 },
    ]);
    expect(Object.is(got[3]?.item, 0)).toBe(true);
  });

  it('round-trips as plain data and keeps counting the same way after', () => {
    const agg = topK((x: number) => x, 5, { capacity: 20 });
    const xs = zipf(5_000, 200, 1.0, rng(13));
    const acc = fold(agg, xs.slice(0, 2_500));
    const restored = JSON.parse(JSON.stringify(acc)) as TopKAcc<number>;
    const viaMsgpack = unpack(pack(acc)) as TopKAcc<number>;
    const rest = xs.slice(2_500);
    const expected = agg.result(fold(agg, xs));
    let a = restored;
    let b = viaMsgpack;
    for (const x of rest) {
      a = agg.add(a, x);
      b = agg.add(b, x);
    }
    expect(agg.result(a)).toEqual(expected);
    expect(agg.result(b)).toEqual(expected);
  });

  it('rejects bad options and values', () => {
    expect(() => topK((x: number) => x, 0)).toThrow(RangeError);
    expect(() => topK((x: number) => x, 10, { capacity: 5 })).toThrow(RangeError);
    const agg = topK((x: unknown) => x as KeyPrimitive, 3);
    expect(() => agg.add(agg.create(), null)).toThrow(/topK: value must be/);
  });
});

// ---- through the pipeline -------------------------------------------------------------------

interface Visit {
  page: string;
  user: string;
  ms: number;
}

describe('sketches in a tumbling window', () => {
  it('per page and minute: distinct users, latency quantiles and top users', () => {
    type Out =
      | { kind: 'users'; res: WindowResult<string, number> }
      | { kind: 'latency'; res: WindowResult<string, Record<number, number>> }
      | { kind: 'top'; res: WindowResult<string, TopKEntry<string>[]> };
    const h = harness((input: Stream<Visit>) => {
      const byPage = input.keyBy((v) => v.page).window(tumbling(60_000));
      const users = byPage.aggregate(approxDistinct((v) => v.user), { name: 'users' }).map((res): Out => ({ kind: 'users', res }));
      const latency = byPage.aggregate(quantiles((v) => v.ms, { qs: [0.5, 0.99] }), { name: 'latency' }).map((res): Out => ({ kind: 'latency', res }));
      const top = byPage.aggregate(topK((v) => v.user, 2), { name: 'top' }).map((res): Out => ({ kind: 'top', res }));
      return users.union(latency, top);
    });
    const r = rng(14);
    const visits: { v: Visit; t: number }[] = [];
    for (let i = 0; i < 3_000; i++) {
      const page = r() < 0.5 ? 'home' : 'cart';
      const user = `u${Math.floor(Math.pow(r(), 3) * 500)}`;
      visits.push({ v: { page, user, ms: 1 + Math.floor(r() * 1_000) }, t: Math.floor(r() * 120_000) });
    }
    for (const { v, t } of visits) h.addElement(v, t);
    h.finish();
    const out = h.takeOutput();
    expect(out).toHaveLength(3 * 4); // three aggregates × two pages × two minutes
    for (const o of out) {
      const { key, window } = o.res;
      const inWindow = visits.filter(({ v, t }) => v.page === key && t >= window.start && t < window.end).map(({ v }) => v);
      if (o.kind === 'users') {
        const exact = new Set(inWindow.map((v) => v.user)).size;
        expect(Math.abs(o.res.value - exact)).toBeLessThanOrEqual(3 * exact * 0.0082);
      } else if (o.kind === 'latency') {
        const sorted = inWindow.map((v) => v.ms).sort((a, b) => a - b);
        for (const q of [0.5, 0.99]) expectWithin(o.res.value[q] as number, exactQuantile(sorted, q), 0.01);
      } else {
        // more than 64 distinct users: Space-Saving; the top two stand out, counts over by ≤ n/64
        const exact = exactTopK(inWindow.map((v) => v.user), 2);
        expect(o.res.value.map((e) => e.item)).toEqual(exact.map((e) => e.item));
        o.res.value.forEach((e, i) => {
          expect(e.count).toBeGreaterThanOrEqual((exact[i] as TopKEntry).count);
          expect(e.count - (exact[i] as TopKEntry).count).toBeLessThanOrEqual(inWindow.length / 64);
        });
      }
    }
  });

  it('approxDistinct and quantiles are reorder-invariant in a pipeline', async () => {
    const records = fc.array(
      fc.record({ k: fc.integer({ min: 0, max: 2 }), v: fc.integer({ min: -50, max: 500 }), t: fc.integer({ min: 0, max: 3_000 }) }),
      { minLength: 1, maxLength: 60 },
    ).map((xs) => xs.map((x) => ({ value: { k: x.k, v: x.v }, timestamp: x.t })));
    await checkReorderInvariance(
      (s: Stream<{ k: number; v: number }>) => {
        const w = s.keyBy((e) => e.k).window(tumbling(1_000));
        // final panes as plain records (two aggregates share each key and window)
        type Out = { kind: string; key: number; start: number; value: unknown };
        const distinct = w.aggregate(approxDistinct((e) => e.v, { precision: 8 })).map((r): Out => ({ kind: 'distinct', key: r.key, start: r.window.start, value: r.value }));
        return distinct.union(w.aggregate(quantiles((e) => e.v)).map((r): Out => ({ kind: 'quantiles', key: r.key, start: r.window.start, value: r.value })));
      },
      { records, maxDisorder: 1_500, numRuns: 30, seed: 15 },
    );
  });
});
