/**
 * The watermark generator contract. A strategy is a plain description (validated when the plan is
 * built); each source instance creates its own generator from it.
 */

/**
 * Tracks event-time progress for one source (or partition).
 * `onRecord` is called for each accepted record (in arrival order) and returns the watermark
 * after it; `onPeriodic`, if present, is called every `periodMs` of processing time and returns
 * the current watermark. Returned values may lag or repeat; the runtime keeps watermarks monotone.
 */
export interface WatermarkGenerator<T> {
  onRecord(timestamp: number, record: T): number;
  onPeriodic?(now: number): number;
}

/**
 * How a source derives watermarks: a generator factory plus idleness.
 *
 * @example
 * p.source(fromArray(rows), { timestamp: (r) => r.ts, watermark: boundedOutOfOrderness(5_000) });
 */
export interface WatermarkStrategy<T> {
  readonly name: string;
  /** Processing time (ms) without records after which the source is idle; `undefined` = never. */
  readonly idleTimeout: number | undefined;
  /** Processing-time period of `onPeriodic` calls, when the generator has one. */
  readonly periodMs: number | undefined;
  create(): WatermarkGenerator<T>;
}
