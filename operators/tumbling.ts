/**
 * `tumbling(size, { offset })`: fixed, non-overlapping event-time windows.
 */
import { PlanError } from '../engine/errors.js';
import { type Duration, toMillis } from '../engine/time.js';
import type { TumblingAssigner } from './window/assigners.js';

/**
 * Tumbling windows of `size`: a record at `t` belongs to `[start, start + size)` where
 * `start = t − ((t − offset) mod size)` (correct for negative timestamps). Requires
 * `size > 0` and `0 ≤ |offset| < size`.
 *
 * @example
 * clicks.keyBy((c) => c.page).window(tumbling('PT1M')).aggregate(count());
 * tumbling(86_400_000, { offset: -3_600_000 }); // days starting at 23:00 UTC
 */
export function tumbling(size: Duration, options: { offset?: Duration } = {}): TumblingAssigner {
  const s = toMillis(size, 'tidemark.tumbling: size');
  const offset = options.offset === undefined ? 0 : toMillis(options.offset, 'tidemark.tumbling: offset');
  if (!(s > 0)) throw new PlanError(`tidemark.tumbling: size must be positive, got ${s} ms`);
  if (Math.abs(offset) >= s) throw new PlanError(`tidemark.tumbling: offset must satisfy 0 ≤ |offset| < size (${s} ms), got ${offset} ms`);
  return Object.freeze({ kind: 'tumbling', size: s, offset });
}
