/** `max(fn)`: the largest value of a numeric field. */
import type { Aggregate } from '../../engine/aggregate.js';

/**
 * The maximum of `fn(record)` over the window (`-Infinity` for an empty accumulator).
 *
 * @example
 * bids.keyBy((b) => b.auction).window(tumbling(10_000)).aggregate(max((b) => b.price));
 */
export function max<T>(fn: (record: T) => number): Aggregate<T, number, number> {
  return {
    name: 'max',
    create: () => -Infinity,
    add: (acc, r) => {
      const v = fn(r);
      return v > acc ? v : acc;
    },
    merge: (a, b) => (b > a ? b : a),
    result: (acc) => acc,
  };
}
