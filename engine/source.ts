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
    /** The reader's position after this chunk (see `SourceReader` and `SourceContext.resume`). */
    readonly position?: unknown;
  }
  | {
    /** Input the source could not turn into records (undecodable, oversized, failing its schema). */
    readonly kind: 'dead-letters';
    readonly letters: readonly SourceDeadLetter[];
    /** The reader's position after this chunk. */
    readonly position?: unknown;
  }
  | { readonly kind: 'watermark'; readonly time: number }
  | { readonly kind: 'processing-time'; readonly advanceBy: number };

/** A piece of input a source rejected, with why and where it was (file and line, offset…). */
export interface SourceDeadLetter {
  /** The raw input (or a bounded prefix of it). */
  readonly value: unknown;
  readonly reason: string;
  /** Where in the source it was, e.g. `{ file, line }` or `{ partition, offset }`. */
  readonly position?: Readonly<Record<string, unknown>>;
}

/**
 * Reads a source; `next()` returns `null` at the end of input.
 *
 * Replayable sources (`Source.replayable`) attach to each chunk the position *after* it — plain,
 * msgpack-encodable data such as `{ offset: 42 }` or per-partition sequences. A checkpoint keeps
 * the position of the last chunk the run has processed, and a restored run opens the source with
 * it (`SourceContext.resume`): the reader must then continue right after that chunk. Positions
 * travel with chunks, so a reader may read ahead or buffer freely.
 */
export interface SourceReader<T> {
  next(): SourceChunk<T> | null | Promise<SourceChunk<T> | null>;
  /**
   * The partitions this reader will read, when known at open: each holds the source's watermark
   * back until it has records. Partitions first seen later join once they have caught up.
   */
  readonly partitions?: readonly number[];
  /** Releases resources; called once, at end of input or when the run stops. */
  close?(): void | Promise<void>;
  /**
   * Watermark alignment of partitions: the runtime names the partitions running more than
   * `maxDrift` ahead of their alignment group; the reader should stop fetching them (others keep
   * flowing) until a later call leaves them out. Readers without it are aligned per source only.
   */
  pause?(partitions: ReadonlySet<number>): void;
  /** Source-specific counters for the run summary (e.g. `{ dropped }` for a push source). */
  stats?(): Record<string, number>;
  /**
   * Called after a chunk and everything it caused downstream have been processed (sink writes
   * awaited). Brokers may acknowledge or record positions here. It does NOT cover records held in
   * window state: a restart that must not lose those resumes from a checkpoint instead.
   */
  ack?(chunk: SourceChunk<T>): void | Promise<void>;
}

/** What a source sees of the run. */
export interface SourceContext {
  readonly name: string;
  /** Preferred number of records per chunk. */
  readonly batchSize: number;
  readonly clock: Clock;
  /**
   * Restoring from a checkpoint: the `position` of the last chunk the checkpointed run processed
   * (continue right after it). `undefined` on a fresh start, or when that run had processed no
   * chunk with a position yet (start from the configured beginning).
   */
  readonly resume?: unknown;
  /**
   * The partitions this reader must read: a share of `Source.partitionCount` given by a parallel
   * or multi-process run (partition `p` of a parallel run goes to worker `p mod n`; a multi-process
   * run assigns them by lease). `undefined`: every partition. A chunk's `partition` must be one of them.
   */
  readonly partitions?: readonly number[];
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
  /**
   * True when the reader attaches positions to its chunks and `open` honours `ctx.resume`: a
   * restored run then reads exactly what the checkpointed run had not processed. Sources without
   * it cannot be replayed; a checkpointed pipeline reports them as at-most-once.
   */
  readonly replayable?: boolean;
  /**
   * A partitioned source: the fixed number of its partitions, known before `open`. Such a source
   * honours `SourceContext.partitions` (reads only those), and its positions are objects keyed by
   * partition so that the positions of readers of disjoint shares merge by union. Sources without
   * it are read once, whole.
   */
  readonly partitionCount?: number;
  open(ctx: SourceContext): SourceReader<T>;
}
