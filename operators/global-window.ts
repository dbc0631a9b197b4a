/**
 * `globalWindow()`: one window per key over all of time.
 */
import type { GlobalAssigner } from './window/assigners.js';

/**
 * The global window: one window per key, `[-∞, +∞)`, fired only at end of input (its results
 * carry timestamp `+∞`). Useful for whole-input aggregates of bounded streams.
 *
 * @example
 * orders.keyBy((o) => o.customer).window(globalWindow()).aggregate(sum((o) => o.total));
 */
export function globalWindow(): GlobalAssigner {
  return GLOBAL;
}

const GLOBAL: GlobalAssigner = Object.freeze({ kind: 'global' });
