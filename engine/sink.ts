/**
 * The sink contract. A sink receives batches of values with their timestamps; a write may return
 * a promise, and the runtime awaits outstanding writes before reading more input (backpressure).
 *
 * Exactly-once sinks take part in checkpoints with a two-phase commit: at a checkpoint the
 * runtime calls `preCommit(id)` — the sink seals what it was given since the last checkpoint as
 * epoch `id` and makes it durable but not yet visible — stores the returned handle in the
 * checkpoint, writes the checkpoint durably, then calls `commit(id, handle)`. A restored run calls
 * `open` with the checkpoint's `{ id, handle }`: the sink commits that epoch again (idempotently:
 * it may or may not have been committed before the crash) and discards anything written after it.
 */

/** What a sink sees of the run. */
export interface SinkContext {
  readonly name: string;
  /**
   * Restoring from a checkpoint: the epoch pre-committed with it (commit it again, idempotently)
   * and its handle. Anything the sink received after that checkpoint must be discarded.
   */
  readonly restored?: { readonly checkpointId: number; readonly handle: unknown };
  /**
   * Fencing (multi-process runs): the scope this sink instance writes for and its owner's token.
   * A sink that supports it keeps its lineage per scope and refuses — with an error — any write
   * or commit once a newer token has been seen for the scope; absent in single-process runs.
   */
  readonly fence?: FenceToken;
}

/**
 * A fencing token: `token` grows with every change of owner of `scope` (e.g. the revision of the
 * lease that grants a partition); a writer with an older token than the newest seen is refused.
 *
 * @example
 * const fence: FenceToken = { scope: 'orders/p3', token: 42 };
 */
export interface FenceToken {
  readonly scope: string;
  readonly token: number;
  /**
   * How long (ms) a writer may keep a transaction open and idle while it holds the scope (a
   * paused process): the store ends such a transaction so that a new owner is not blocked for
   * longer. Default 10 s; multi-process runs use the lease TTL.
   */
  readonly holdMs?: number;
}

/**
 * What a sink promises about its output after a crash and restore from a checkpoint:
 * `exactly-once` (the output equals an uninterrupted run's), `at-least-once` (results since the
 * last checkpoint may repeat), `at-most-once` (they may be lost).
 */
export type DeliveryGuarantee = 'exactly-once' | 'at-least-once' | 'at-most-once';

/**
 * A sink of values `T`.
 *
 * @example
 * const printer: Sink<string> = { kind: 'printer', write: (values) => values.forEach((v) => console.log(v)) };
 */
export interface Sink<T> {
  readonly kind: string;
  /** What the sink promises after a restore (default `at-least-once`; exactly-once needs `preCommit` and `commit`). */
  readonly guarantee?: DeliveryGuarantee;
  open?(ctx: SinkContext): void | Promise<void>;
  write(values: readonly T[], timestamps: readonly number[]): void | Promise<void>;
  /**
   * Seals everything written since the previous checkpoint as epoch `checkpointId` — synchronously:
   * later writes belong to the next epoch — and resolves once it is durable but not yet visible.
   * What it resolves with (plain, msgpack-encodable data) is stored in the checkpoint.
   */
  preCommit?(checkpointId: number): unknown;
  /** Makes epoch `checkpointId` visible. Must be idempotent: recovery may call it again. */
  commit?(checkpointId: number, handle: unknown): void | Promise<void>;
  /** Called once after the last write, when the run completes. */
  close?(): void | Promise<void>;
  /** Called when the run fails, instead of `close`. */
  abort?(error: unknown): void | Promise<void>;
}
