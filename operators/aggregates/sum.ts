/** `sum(fn)`: the sum of a numeric field. */
import type { Aggregate } from '../../engine/aggregate.js';

/**
 * Sums `fn(record)` over the window.
 *
 * @example
 * orders.keyBy((o) => o.shop).window(tumbling('PT1H')).aggregate(sum((o) => o.total));
 */
export function sum<T>(fn: (record: T) => number): Aggregate<T, number, number> {
  return {
    name: 'sum',
    create: () => 0,
    add: (acc, r) => acc + fn(r),
    merge: (a, b) => a + b,
    result: (acc) => acc,
    retract: (acc, r) => acc - fn(r),
  };
}
