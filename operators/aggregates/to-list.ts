/** `toList()`: every record of the window, in arrival order. */
import type { Aggregate } from '../../engine/aggregate.js';

/**
 * Collects the window's records in arrival order (a fresh array per pane).
 *
 * @example
 * clicks.keyBy((c) => c.user).window(session(1_800_000)).aggregate(toList());
 */
export function toList<T>(): Aggregate<T, T[], T[]> {
  return {
    name: 'toList',
    create: () => [],
    add: (acc, r) => {
      acc.push(r);
      return acc;
    },
    merge: (a, b) => {
      for (let i = 0; i < b.length; i++) a.push(b[i] as T);
      return a;
    },
    result: (acc) => acc.slice(),
  };
}
