/** `quantiles(fn)`: quantiles of a numeric field, estimated with a DDSketch. */
import type { Aggregate } from '../../engine/aggregate.js';

/** Options of `quantiles`. */
export interface QuantilesOptions {
  /** α, 0 < α < 1 (default 0.01): every estimate is within α·|v| of the value v at its rank. */
  readonly relativeAccuracy?: number;
  /** The quantiles to report, each from 0 to 1 (default `[0.5, 0.9, 0.99]`). */
  readonly qs?: readonly number[];
  /**
   * Buckets per sign at most (default ⌈40/ln γ⌉: a dynamic range of e^40 ≈ 2.4·10^17 per sign —
   * 2001 buckets at α = 1%, 20001 at 0.1%). When one sign's keys span more, its lowest buckets (the
   * values nearest zero) collapse into one; see `quantiles`.
   */
  readonly maxBuckets?: number;
}

/** A store of bucket counts: `counts[i]` counts bucket `offset + i`. */
export interface QuantilesStore {
  offset: number;
  counts: number[];
}

/**
 * Accumulator of `quantiles`: plain, JSON-safe data.
 * - `count`: values added; `zeros`: how many of them were 0 (or of magnitude below 2^−1022);
 * - `min`, `max`: the exact extremes (0 while `count` is 0);
 * - `positive`, `negative`: bucket counts of v > 0 and of |v| for v < 0, where bucket k holds
 *   (γ^(k−1), γ^k], γ = (1 + α)/(1 − α).
 */
export interface QuantilesAcc {
  count: number;
  zeros: number;
  min: number;
  max: number;
  positive: QuantilesStore;
  negative: QuantilesStore;
}

/** A result of `quantiles`: the estimate for each requested q, keyed by q (e.g. `{ 0.5: 12.3 }`). */
export type QuantilesResult = Record<number, number>;

/**
 * Estimates quantiles of `fn(record)` (finite numbers; others throw; magnitudes below 2^−1022 ≈
 * 2.2e−308 count as 0) with a DDSketch (Masson,
 * Rim and Lee, 2019): values fall into logarithmic buckets (γ^(k−1), γ^k], γ = (1 + α)/(1 − α),
 * counted per sign (zero apart), and a bucket reports 2γ^k/(γ + 1), which is within relative
 * error α of every value in it. The quantile q is the value at rank ⌊q·(n − 1)⌋ (0-based, in
 * ascending order); its estimate is within α·|v| of that value v, clamped to the exact min and max.
 *
 * Memory: at most `maxBuckets` counters per sign (2·maxBuckets + 4 numbers), only as many as the
 * data's range of keys needs. When one sign's keys span more than that, the lowest (the values
 * nearest zero) collapse into the lowest kept bucket; the guarantee then holds for every value of
 * magnitude above γ^(K − maxBuckets), K the largest key of its sign — by default a range of
 * 2.4·10^17 below the largest magnitude, so real data rarely collapses at all. Merging adds counts bucket by bucket: the accumulator then depends
 * only on the multiset of values (collapsing maps key k to max(k, K − maxBuckets + 1)), so merge is
 * associative and arrival order does not change the result. An empty accumulator gives NaN.
 *
 * @example
 * requests.keyBy((r) => r.route).window(tumbling(60_000)).aggregate(quantiles((r) => r.ms, { qs: [0.5, 0.99] }));
 * // value: { 0.5: 12.3, 0.99: 97.2 }
 */
export function quantiles<T>(fn: (record: T) => number, options: QuantilesOptions = {}): Aggregate<T, QuantilesAcc, QuantilesResult> {
  const alpha = options.relativeAccuracy ?? 0.01;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`quantiles: relativeAccuracy must be between 0 and 1; got ${alpha}`);
  const qs = (options.qs ?? [0.5, 0.9, 0.99]).slice();
  for (const q of qs) if (!(q >= 0 && q <= 1)) throw new RangeError(`quantiles: each q must be from 0 to 1; got ${q}`);
  const gamma = (1 + alpha) / (1 - alpha);
  const lnGamma = Math.log(gamma);
  const maxBuckets = options.maxBuckets ?? Math.ceil(40 / lnGamma);
  if (!Number.isInteger(maxBuckets) || maxBuckets < 1) throw new RangeError(`quantiles: maxBuckets must be a positive integer; got ${maxBuckets}`);
  const key = (magnitude: number): number => Math.ceil(Math.log(magnitude) / lnGamma);
  const lnHalfWidth = Math.log(2 / (gamma + 1));
  // 2γ^k/(γ + 1), in log space so that it stays finite as long as it can
  const bucketValue = (k: number): number => Math.exp(k * lnGamma + lnHalfWidth);

  return {
    name: 'quantiles',
    create: () => ({ count: 0, zeros: 0, min: 0, max: 0, positive: { offset: 0, counts: [] }, negative: { offset: 0, counts: [] } }),
    add: (acc, r) => {
      const v = fn(r);
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`quantiles: value must be a finite number; got ${String(v)}`);
      if (acc.count === 0 || v < acc.min) acc.min = v;
      if (acc.count === 0 || v > acc.max) acc.max = v;
      acc.count++;
      if (Math.abs(v) < MIN_NORMAL) acc.zeros++;
      else {
        const store = v > 0 ? acc.positive : acc.negative;
        const k = key(Math.abs(v));
        cover(store, k, k, maxBuckets);
        const at = Math.max(k, store.offset) - store.offset;
        store.counts[at] = (store.counts[at] as number) + 1;
      }
      return acc;
    },
    merge: (a, b) => {
      if (b.count === 0) return a;
      a.min = a.count === 0 ? b.min : Math.min(a.min, b.min);
      a.max = a.count === 0 ? b.max : Math.max(a.max, b.max);
      a.count += b.count;
      a.zeros += b.zeros;
      mergeStore(a.positive, b.positive, maxBuckets);
      mergeStore(a.negative, b.negative, maxBuckets);
      return a;
    },
    result: (acc) => {
      const out: QuantilesResult = {};
      for (const q of qs) {
        if (acc.count === 0) {
          out[q] = NaN;
          continue;
        }
        const rank = Math.floor(q * (acc.count - 1));
        const estimate = valueAtRank(acc, rank, bucketValue);
        out[q] = Math.min(acc.max, Math.max(acc.min, estimate));
      }
      return out;
    },
  };
}

/** 2^−1022, the smallest normal double: smaller magnitudes count as zero (their buckets would be subnormal). */
const MIN_NORMAL = 2 ** -1022;

/** Makes `store` cover keys lo..hi, collapsing its lowest keys so that it spans at most `maxBuckets`. */
function cover(store: QuantilesStore, lo: number, hi: number, maxBuckets: number): void {
  const old = store.counts;
  if (old.length === 0) {
    store.offset = Math.max(lo, hi - maxBuckets + 1);
    store.counts = new Array<number>(hi - store.offset + 1).fill(0);
    return;
  }
  const oldHi = store.offset + old.length - 1;
  const newHi = Math.max(oldHi, hi);
  const newLo = Math.max(Math.min(store.offset, lo), newHi - maxBuckets + 1);
  if (newLo === store.offset) {
    for (let k = oldHi; k < newHi; k++) old.push(0);
    return;
  }
  const counts = new Array<number>(newHi - newLo + 1).fill(0);
  for (let i = 0; i < old.length; i++) {
    const at = Math.max(store.offset + i, newLo) - newLo;
    counts[at] = (counts[at] as number) + (old[i] as number);
  }
  store.offset = newLo;
  store.counts = counts;
}

function mergeStore(a: QuantilesStore, b: QuantilesStore, maxBuckets: number): void {
  if (b.counts.length === 0) return;
  cover(a, b.offset, b.offset + b.counts.length - 1, maxBuckets);
  for (let i = 0; i < b.counts.length; i++) {
    const at = Math.max(b.offset + i, a.offset) - a.offset;
    a.counts[at] = (a.counts[at] as number) + (b.counts[i] as number);
  }
}

/** The bucket estimate of the value at 0-based `rank`: negatives (largest magnitude first), zeros, positives. */
function valueAtRank(acc: QuantilesAcc, rank: number, bucketValue: (k: number) => number): number {
  let seen = 0;
  const neg = acc.negative;
  for (let i = neg.counts.length - 1; i >= 0; i--) {
    seen += neg.counts[i] as number;
    if (seen > rank) return -bucketValue(neg.offset + i);
  }
  seen += acc.zeros;
  if (seen > rank) return 0;
  const pos = acc.positive;
  for (let i = 0; i < pos.counts.length; i++) {
    seen += pos.counts[i] as number;
    if (seen > rank) return bucketValue(pos.offset + i);
  }
  return acc.max;
}
