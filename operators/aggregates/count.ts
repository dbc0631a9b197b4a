/** `count()`: the number of records. */
import type { Aggregate } from '../../engine/aggregate.js';

/**
 * Counts records.
 *
 * @example
 * clicks.keyBy((c) => c.page).window(tumbling(60_000)).aggregate(count());
 */
export function count(): Aggregate<unknown, number, number> {
  return COUNT;
}

const COUNT: Aggregate<unknown, number, number> = Object.freeze({
  name: 'count',
  create: () => 0,
  add: (acc: number) => acc + 1,
  merge: (a: number, b: number) => a + b,
  result: (acc: number) => acc,
  retract: (acc: number) => acc - 1,
});
