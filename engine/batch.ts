/**
 * Batches: the unit that moves between operators. Columns, not record objects: `values[i]`
 * happened at `times[i]`; keyed streams add `keys[i]`. A batch is immutable once emitted: the
 * producer never reuses its arrays and consumers only read them.
 */
import type { Key } from './keys.js';

/** A batch of records with their event timestamps (and keys, after `keyBy`). */
export interface Batch<T = unknown> {
  readonly values: readonly T[];
  readonly times: readonly number[];
  /** Present on keyed streams: the key of each record. */
  readonly keys?: readonly Key[];
}
