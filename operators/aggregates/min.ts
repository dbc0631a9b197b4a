/** `min(fn)`: the smallest value of a numeric field. */
import type { Aggregate } from '../../engine/aggregate.js';

/**
 * The minimum of `fn(record)` over the window (`+Infinity` for an empty accumulator).
 *
 * @example
 * readings.keyBy((r) => r.sensor).window(tumbling(60_000)).aggregate(min((r) => r.celsius));
 */
export function min<T>(fn: (record: T) => number): Aggregate<T, number, number> {
  return {
    name: 'min',
    create: () => Infinity,
    add: (acc, r) => {
      const v = fn(r);
      return v < acc ? v : acc;
    },
    merge: (a, b) => (b < a ? b : a),
    result: (acc) => acc,
  };
}
