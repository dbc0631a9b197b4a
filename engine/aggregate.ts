/**
 * The aggregate contract: algebraic accumulators, so panes, session merges and late firings
 * combine accumulators instead of replaying records.
 */

/**
 * An aggregate function over records `T` with accumulator `A` and result `R`.
 * - `create()` returns an empty accumulator;
 * - `add(acc, value)` returns the accumulator with `value` added (it may mutate and return
 *   `acc` when `acc` is an object that `create`/`merge` made; numbers need no boxing);
 * - `merge(a, b)` returns `a` combined with `b` (may mutate `a`, must not mutate `b`);
 * - `result(acc)` returns the result and must not hand out `acc` itself if it is mutable
 *   (a later pane of the same window keeps adding to it).
 * Laws: `merge` is associative and `create()` is its identity.
 *
 * @example
 * const total: Aggregate<{ v: number }, number, number> = {
 *   create: () => 0, add: (a, r) => a + r.v, merge: (a, b) => a + b, result: (a) => a,
 * };
 */
export interface Aggregate<T, A, R> {
  create(): A;
  add(acc: A, value: T): A;
  merge(a: A, b: A): A;
  result(acc: A): R;
  /** Optional inverse of `add`, for retracting panes and sliding optimisations. */
  retract?(acc: A, value: T): A;
  /** A short name for plans and errors (e.g. `'count'`). */
  readonly name?: string;
  /**
   * For checkpoints, when the accumulator is not plain data (a `Map`, a class instance, a
   * symbol): turns it into plain, msgpack-encodable data. Plain accumulators need neither.
   */
  snapshotAcc?(acc: A): unknown;
  /** Turns what `snapshotAcc` returned back into an accumulator (throws on a wrong shape). */
  restoreAcc?(data: unknown): A;
}
