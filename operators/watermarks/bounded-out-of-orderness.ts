/**
 * `boundedOutOfOrderness(B)`: the watermark trails the largest timestamp seen by `B`.
 */
import { PlanError } from '../../engine/errors.js';
import { type Duration, toMillis } from '../../engine/time.js';
import type { WatermarkStrategy } from '../../engine/watermark.js';

/** Options shared by the built-in watermark strategies. */
export interface IdleOptions {
  /** Processing time without records after which the source stops holding back the minimum. */
  readonly idleTimeout?: Duration;
}

/** Validates an `idleTimeout` option (shared by the built-in strategies). */
export function idleTimeoutOf(options: IdleOptions, where: string): number | undefined {
  if (options.idleTimeout === undefined) return undefined;
  const ms = toMillis(options.idleTimeout, `${where}: idleTimeout`);
  if (!(ms > 0)) throw new PlanError(`${where}: idleTimeout must be positive, got ${ms} ms`);
  return ms;
}

/**
 * Watermarks for records at most `maxOutOfOrderness` behind the largest timestamp seen:
 * `W = maxTimestampSeen − maxOutOfOrderness − 1`. Records further behind are late.
 *
 * @example
 * p.source(fromArray(clicks), { timestamp: (c) => c.ts, watermark: boundedOutOfOrderness('PT5S', { idleTimeout: 60_000 }) });
 */
export function boundedOutOfOrderness(maxOutOfOrderness: Duration, options: IdleOptions = {}): WatermarkStrategy<unknown> {
  const where = 'tidemark.boundedOutOfOrderness';
  const bound = toMillis(maxOutOfOrderness, `${where}: maxOutOfOrderness`);
  if (bound < 0) throw new PlanError(`${where}: maxOutOfOrderness must be ≥ 0, got ${bound} ms`);
  return boundedStrategy(bound, idleTimeoutOf(options, where), bound === 0 ? 'monotonic' : `bounded(${bound})`);
}

/** The strategy behind `boundedOutOfOrderness` and `monotonic`. */
export function boundedStrategy(bound: number, idleTimeout: number | undefined, name: string): WatermarkStrategy<unknown> {
  const lag = bound + 1;
  return Object.freeze({
    name,
    idleTimeout,
    periodMs: undefined,
    create() {
      let max = -Infinity;
      return {
        onRecord(t: number): number {
          if (t > max) max = t;
          return max - lag;
        },
      };
    },
  });
}
