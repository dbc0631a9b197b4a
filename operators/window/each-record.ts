/**
 * Shared helpers of the window operators: the per-record loop with error recovery (a record whose
 * user function throws fails the run or is dead-lettered, and the loop goes on), and a binary
 * search over sorted window or pane starts.
 */
import type { Batch } from '../../engine/batch.js';
import { UserFunctionError } from '../../engine/errors.js';
import type { Key } from '../../engine/keys.js';
import type { OperatorContext } from '../../engine/operator.js';

/**
 * Calls `record(value, timestamp, key)` for each record of a keyed batch. An error thrown by user
 * code (an aggregate, a gap function) goes to `ctx.userError` with `what`; the loop continues.
 */
export function eachRecord(
  batch: Batch,
  ctx: OperatorContext,
  what: string,
  record: (value: unknown, t: number, key: Key) => void,
): void {
  const { values, times } = batch;
  const keys = batch.keys as readonly Key[];
  const n = values.length;
  let i = 0;
  while (i < n) {
    try {
      for (; i < n; i++) record(values[i], times[i] as number, keys[i] as Key);
    } catch (e) {
      if (e instanceof UserFunctionError) throw e;
      ctx.userError(e, values[i], times[i], what);
      i++;
    }
  }
}

/** The first index of sorted `a` (from `from`) whose value is ≥ `x`. */
export function lowerBound(a: readonly number[], x: number, from = 0): number {
  let lo = from;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
