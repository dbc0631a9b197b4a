/** `reduce(fn)`: folds the window's records pairwise with an associative function. */
import type { Aggregate } from '../../engine/aggregate.js';
import type { AccumulatorCodec } from '../snapshot.js';

const EMPTY: unique symbol = Symbol('empty');

/**
 * Combines records with `fn`, which must be associative (panes and session merges combine
 * partial results in any grouping). The result is `undefined` only for an empty accumulator.
 * In checkpoints an accumulator is `[]` (empty) or `[value]`.
 *
 * @example
 * bids.keyBy((b) => b.auction).window(tumbling(10_000)).aggregate(reduce((a, b) => (b.price > a.price ? b : a)));
 */
export function reduce<T>(fn: (a: T, b: T) => T): Aggregate<T, T | typeof EMPTY, T> & AccumulatorCodec<T | typeof EMPTY> {
  return {
    name: 'reduce',
    create: () => EMPTY,
    add: (acc, r) => (acc === EMPTY ? r : fn(acc, r)),
    merge: (a, b) => (a === EMPTY ? b : b === EMPTY ? a : fn(a, b)),
    result: (acc) => (acc === EMPTY ? (undefined as T) : acc),
    snapshotAcc: (acc) => (acc === EMPTY ? [] : [acc]),
    restoreAcc: (data) => {
      if (!Array.isArray(data) || data.length > 1) throw new TypeError('a reduce accumulator must be [] or [value]');
      return data.length === 0 ? EMPTY : (data[0] as T);
    },
  };
}
