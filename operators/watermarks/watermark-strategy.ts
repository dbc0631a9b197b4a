/**
 * `watermarkStrategy(create, options)`: a user-defined watermark generator, per record and/or
 * periodic (driven by the pipeline's processing-time clock).
 */
import { PlanError } from '../../engine/errors.js';
import { type Duration, toMillis } from '../../engine/time.js';
import type { WatermarkGenerator, WatermarkStrategy } from '../../engine/watermark.js';
import { idleTimeoutOf, type IdleOptions } from './bounded-out-of-orderness.js';

/** Options of a custom watermark strategy. */
export interface CustomWatermarkOptions extends IdleOptions {
  /** Period of `onPeriodic` calls in processing time (required when the generator has one). */
  readonly period?: Duration;
  readonly name?: string;
}

/**
 * A custom strategy: `create()` is called once per source and returns a generator whose
 * `onRecord(timestamp, record)` returns the watermark after that record (and optional
 * `onPeriodic(now)` the watermark at processing time `now`). Watermarks never go backwards:
 * smaller values are ignored.
 *
 * @example
 * // watermark = the largest timestamp of records flagged as "complete up to here"
 * watermarkStrategy<Tick>(() => {
 *   let w = -Infinity;
 *   return { onRecord: (t, r) => (r.checkpoint ? (w = t) : w) };
 * });
 */
export function watermarkStrategy<T>(create: () => WatermarkGenerator<T>, options: CustomWatermarkOptions = {}): WatermarkStrategy<T> {
  const where = 'tidemark.watermarkStrategy';
  if (typeof create !== 'function') throw new PlanError(`${where}: expected a function returning a generator`);
  const period = options.period === undefined ? undefined : toMillis(options.period, `${where}: period`);
  if (period !== undefined && !(period > 0)) throw new PlanError(`${where}: period must be positive, got ${period} ms`);
  return Object.freeze({
    name: options.name ?? 'custom',
    idleTimeout: idleTimeoutOf(options, where),
    periodMs: period,
    create() {
      const gen = create();
      if (gen === null || typeof gen !== 'object' || typeof gen.onRecord !== 'function') {
        throw new PlanError(`${where}: the generator must have an onRecord(timestamp, record) method`);
      }
      if (gen.onPeriodic !== undefined && period === undefined) {
        throw new PlanError(`${where}: a generator with onPeriodic needs the period option`);
      }
      return gen;
    },
  });
}
