/**
 * The source contract. A source yields chunks of records (with or without their own event
 * timestamps), and scripted sources (TestStream) may also yield watermarks and processing-time
 * steps. Readers may answer synchronously (arrays) or with a promise (async iterables, brokers).
 */
import type { Clock } from './clock.js';

/** One step of a source. */
export type SourceChunk<T> =
  | {
    readonly kind: 'records';
    readonly values: readonly T[];
    readonly timestamps?: readonly number[];
    /** The partition the records come from (per-partition watermarks); omit when unpartitioned. */
    readonly partition?: number;
  }
  | { readonly kind: 'watermark'; readonly time: number }
  | { readonly kind: 'processing-time'; readonly advanceBy: number };

/** Reads a source; `next()` returns `null` at the end of input. */
export interface SourceReader<T> {
  next(): SourceChunk<T> | null | Promise<SourceChunk<T> | null>;
  /**
   * The partitions this reader will read, when known at open: each holds the source's watermark
   * back until it has records. Partitions first seen later join once they have caught up.
   */
  readonly partitions?: readonly number[];
  /** Releases resources; called once, at end of input or when the run stops. */
  close?(): void | Promise<void>;
  /** Source-specific counters for the run summary (e.g. `{ dropped }` for a push source). */
  stats?(): Record<string, number>;
}

/** What a source sees of the run. */
export interface SourceContext {
  readonly name: string;
  /** Preferred number of records per chunk. */
  readonly batchSize: number;
  readonly clock: Clock;
}

/**
 * A source of records `T`.
 *
 * @example
 * const numbers: Source<number> = {
 *   kind: 'numbers', providesTimestamps: false, providesWatermarks: false,
 *   open: () => { let done = false; return { next: () => (done ? null : ((done = true), { kind: 'records', values: [1, 2, 3] })) }; },
 * };
 */
export interface Source<T> {
  readonly kind: string;
  /** True when every records chunk carries `timestamps` (no extractor needed). */
  readonly providesTimestamps: boolean;
  /** True when the source scripts its own watermarks (a strategy is then not allowed). */
  readonly providesWatermarks: boolean;
  /** True when the source steps processing time itself (needs a pipeline with a ManualClock). */
  readonly stepsProcessingTime?: boolean;
  open(ctx: SourceContext): SourceReader<T>;
}
