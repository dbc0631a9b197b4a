/**
 * `session(gap | (record) => gap)`: per-key activity sessions that merge on strict overlap.
 */
import { PlanError } from '../engine/errors.js';
import { type Duration, toMillis } from '../engine/time.js';
import type { SessionAssigner } from './window/assigners.js';

/** Options of `session()`. */
export interface SessionOptions {
  /**
   * Caps sessions: no session spans a multiple of this duration (aligned to the epoch, like
   * tumbling windows of that size), so a key that is never quiet for `gap` still has its
   * sessions fired and its state released at every boundary. Results stay independent of
   * arrival order. Must be larger than a fixed gap.
   */
  readonly maxSessionLength?: Duration;
}

/**
 * Session windows: each record opens `[t, t + gap)`; windows of one key that strictly overlap
 * merge into their cover. Records exactly `gap` apart are separate sessions (as in Beam; Flink
 * and Kafka Streams merge them). The gap may be a function of the record returning milliseconds
 * (a record whose gap is not a positive integer is dead-lettered). With `maxSessionLength`, sessions
 * are cut at multiples of it.
 *
 * @example
 * clicks.keyBy((c) => c.user).window(session('PT30M')).aggregate(count());
 * clicks.keyBy((c) => c.user).window(session((c) => (c.premium ? 3_600_000 : 1_800_000)));
 * clicks.keyBy((c) => c.user).window(session('PT30M', { maxSessionLength: 'PT24H' })).aggregate(count());
 */
export function session<T = unknown>(gap: Duration | ((record: T) => number), options: SessionOptions = {}): SessionAssigner<T> {
  const where = 'tidemark.session';
  if (options === null || typeof options !== 'object') throw new PlanError(`${where}: options must be an object`);
  let maxLength: number | undefined;
  if (options.maxSessionLength !== undefined) {
    maxLength = toMillis(options.maxSessionLength, `${where}: maxSessionLength`);
    if (!(maxLength > 0)) throw new PlanError(`${where}: maxSessionLength must be positive, got ${maxLength} ms`);
  }
  if (typeof gap === 'function') return Object.freeze({ kind: 'session', gap: undefined, gapOf: gap, maxLength });
  const g = toMillis(gap, `${where}: gap`);
  if (!(g > 0)) throw new PlanError(`${where}: gap must be positive, got ${g} ms`);
  if (maxLength !== undefined && maxLength <= g) throw new PlanError(`${where}: maxSessionLength (${maxLength} ms) must be larger than the gap (${g} ms)`);
  return Object.freeze({ kind: 'session', gap: g, gapOf: undefined, maxLength });
}
