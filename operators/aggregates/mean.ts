/** `mean(fn)`: the arithmetic mean of a numeric field. */
import type { Aggregate } from '../../engine/aggregate.js';

/** Accumulator of `mean`: a running sum and count. */
export interface MeanAcc {
  sum: number;
  count: number;
}

/**
 * The mean of `fn(record)` over the window (`NaN` for an empty accumulator).
 *
 * @example
 * requests.keyBy((r) => r.route).window(sliding(60_000, 10_000)).aggregate(mean((r) => r.ms));
 */
export function mean<T>(fn: (record: T) => number): Aggregate<T, MeanAcc, number> {
  return {
    name: 'mean',
    create: () => ({ sum: 0, count: 0 }),
    add: (acc, r) => {
      acc.sum += fn(r);
      acc.count++;
      return acc;
    },
    merge: (a, b) => {
      a.sum += b.sum;
      a.count += b.count;
      return a;
    },
    result: (acc) => acc.sum / acc.count,
    retract: (acc, r) => {
      acc.sum -= fn(r);
      acc.count--;
      return acc;
    },
  };
}
