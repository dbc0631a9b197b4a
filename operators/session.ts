/**
 * `session(gap | (record) => gap)`: per-key activity sessions that merge on strict overlap.
 */
import { PlanError } from '../engine/errors.js';
import { type Duration, toMillis } from '../engine/time.js';
import type { SessionAssigner } from './window/assigners.js';

/**
 * Session windows: each record opens `[t, t + gap)`; windows of one key that strictly overlap
 * merge into their cover. Records exactly `gap` apart are separate sessions (as in Beam; Flink
 * and Kafka Streams merge them). The gap may be a function of the record returning milliseconds
 * (a record whose gap is not a positive integer is dead-lettered).
 *
 * @example
 * clicks.keyBy((c) => c.user).window(session('PT30M')).aggregate(count());
 * clicks.keyBy((c) => c.user).window(session((c) => (c.premium ? 3_600_000 : 1_800_000)));
 */
export function session<T = unknown>(gap: Duration | ((record: T) => number)): SessionAssigner<T> {
  if (typeof gap === 'function') return Object.freeze({ kind: 'session', gap: undefined, gapOf: gap });
  const g = toMillis(gap, 'tidemark.session: gap');
  if (!(g > 0)) throw new PlanError(`tidemark.session: gap must be positive, got ${g} ms`);
  return Object.freeze({ kind: 'session', gap: g, gapOf: undefined });
}
