/**
 * `sliding(size, slide, { offset })`: overlapping event-time windows sharing panes.
 */
import { PlanError } from '../engine/errors.js';
import { type Duration, toMillis } from '../engine/time.js';
import type { SlidingAssigner } from './window/assigners.js';

/**
 * Sliding windows of `size`, one starting every `slide`: a record at `t` belongs to every
 * `[s, s + size)` with `s ≡ offset (mod slide)` and `t − size < s ≤ t`. Requires
 * `0 < slide ≤ size` and `|offset| < slide`; `slide` need not divide `size` (state is kept in
 * panes `gcd(size, slide)` wide and combined when a window fires).
 *
 * @example
 * clicks.keyBy((c) => c.page).window(sliding(10_000, 2_000)).aggregate(count());
 */
export function sliding(size: Duration, slide: Duration, options: { offset?: Duration } = {}): SlidingAssigner {
  const s = toMillis(size, 'tidemark.sliding: size');
  const sl = toMillis(slide, 'tidemark.sliding: slide');
  const offset = options.offset === undefined ? 0 : toMillis(options.offset, 'tidemark.sliding: offset');
  if (!(s > 0)) throw new PlanError(`tidemark.sliding: size must be positive, got ${s} ms`);
  if (!(sl > 0)) throw new PlanError(`tidemark.sliding: slide must be positive, got ${sl} ms`);
  if (sl > s) throw new PlanError(`tidemark.sliding: slide (${sl} ms) must not exceed size (${s} ms)`);
  if (Math.abs(offset) >= sl) throw new PlanError(`tidemark.sliding: offset must satisfy |offset| < slide (${sl} ms), got ${offset} ms`);
  return Object.freeze({ kind: 'sliding', size: s, slide: sl, offset });
}
