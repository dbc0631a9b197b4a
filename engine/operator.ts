/**
 * The operator contract between the runtime and operator logic. Operators receive batches and
 * watermarks, emit through buffered outputs, and report counters. The runtime — not operator
 * authors — combines input watermarks and forwards the output watermark.
 */
import type { Batch } from './batch.js';
import type { Cancel, Clock } from './clock.js';
import type { Key } from './keys.js';
import type { KeyedStateDeclaration } from './state-layout.js';

/** What an operator does with a failing user function: fail the run, or dead-letter the record. */
export type OnError = 'fail' | 'dead-letter';

/** A buffered output port; the runtime flushes it as one batch after each operator call. */
export interface Output {
  emit(value: unknown, timestamp: number): void;
  emitKeyed(value: unknown, timestamp: number, key: Key): void;
  /** Emits a whole batch; its arrays are passed on without copying when nothing else is buffered. */
  emitBatch(batch: Batch): void;
}

/** What an operator sees of the runtime. */
export interface OperatorContext {
  /** The operator's stable name (user-given or derived). */
  readonly name: string;
  /** Where the operator sits in the pipeline, e.g. `clicks → filter#2 → window 'perUser'`. */
  readonly position: string;
  readonly clock: Clock;
  /**
   * Which of the workers of a parallel run this instance is (keyed operators run on `count`
   * workers, each owning the key groups `g` with `g mod count = index`). Absent: index 0 of 1.
   * Operators whose every instance sees the same input (e.g. a broadcast input) use it to emit what
   * that input causes once: only on index 0.
   */
  readonly worker?: { readonly index: number; readonly count: number };
  /** The combined input watermark as of the current call (`-Infinity` at start). */
  readonly watermark: number;
  readonly out: Output;
  /** Late records (too late for at least one window), routed to `.late()`. */
  readonly late: Output;
  /** The side output named `tag` (read downstream with `stream.sideOutput(tag)`). */
  side(tag: string): Output;
  /** Sends a record to dead letters with a reason; counted. */
  deadLetter(value: unknown, reason: string, timestamp?: number): void;
  /**
   * Handles an exception thrown by a user function for the record `value` at `timestamp`:
   * throws a `UserFunctionError` naming the operator (default), or dead-letters the record when
   * the operator was built with `onError: 'dead-letter'`.
   */
  userError(error: unknown, value: unknown, timestamp: number | undefined, what?: string): void;
  /** Always throws a `UserFunctionError` (for programming errors that must stop the run). */
  fail(message: string, timestamp: number | undefined, cause?: unknown): never;
  /**
   * Runs `callback` when processing time reaches `at` (via the injected clock); what it emits is
   * flushed downstream right after, and an error it throws fails the run.
   */
  schedule(at: number, callback: () => void): Cancel;
  /**
   * Wraps a continuation of asynchronous work (a promise's `then`): when it runs, what it emits is
   * flushed, the output watermark re-evaluated (`holdWatermark`), and an error fails the run.
   */
  callback<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  /** The run awaits `promise` before reading more input (bounded in-flight work, backpressure). */
  track(promise: Promise<unknown>): void;
}

/** The running logic of one operator instance. */
export interface OperatorLogic {
  onBatch(batch: Batch, input: number): void;
  /** Called when the combined input watermark advances (to `+Infinity` at end of input). */
  onWatermark?(watermark: number): void;
  /**
   * Called when the node's inputs turn idle together (`true`: every input is idle, so the node's
   * output is idle too) or one becomes active again (`false`). Optional: only operators that hand
   * idleness on in their own output (e.g. across a process boundary) need it.
   */
  onIdle?(idle: boolean): void;
  /** Called once after the final watermark, before end-of-stream is forwarded. */
  onEnd?(): void;
  /** Counters for the run summary (e.g. `{ accepted, tooLate }`). */
  stats?(): Record<string, number>;
  /**
   * The largest output watermark the operator allows now (e.g. its earliest pending event-time
   * timer − 1): the runtime forwards min(input watermark, hold). Re-read after every call.
   */
  holdWatermark?(): number;
  /**
   * The operator's state as plain, msgpack-encodable data, for checkpoints; `build(ctx, resume)`
   * receives it back. Operators without state omit it. Called between calls (never during one),
   * so the state is consistent; it must include pending timers (event and processing time). It
   * should not return arrays or objects that the operator changes later (copy growing lists);
   * where it still shares (e.g. accumulators), the runtime encodes the checkpoint before the next
   * call. `build` may keep and change what it restores: what it is given is its own (decoded, or
   * a fresh copy from `mergeOperatorSnapshots` / `splitOperatorSnapshot`).
   * Keyed state is listed per key (e.g. `[[key, …], …]`), a key's timers in its rows, so that it
   * can be split by key group; `OperatorFactory.keyedState` declares where the rows are.
   */
  snapshot?(): unknown;
  /** For `whyNotFired`: what the operator holds for `key` in `[start, end)`, or undefined if nothing. */
  describeWindow?(key: Key, start: number, end: number): string | undefined;
}

/** Builds an operator's logic for one run. */
export interface OperatorFactory {
  readonly kind: string;
  /** Builds the logic; `resume` is what its `snapshot()` returned when restoring. */
  build(ctx: OperatorContext, resume?: unknown): OperatorLogic;
  /**
   * True when the operator emits on record arrival (e.g. early panes every N records) in a way
   * whose order relative to watermark-driven output matters. Sources upstream of such an operator
   * then deliver each watermark advance before the next record (smaller batches), so output is
   * the same as if the watermark advanced after every record.
   */
  readonly interleavesWithWatermarks?: boolean;
  /**
   * The version of the shape of `snapshot()`'s data (default 1). Bump it when the shape changes;
   * restoring older state then needs a migration (`PipelineOptions.migrations`).
   */
  readonly stateVersion?: number;
  /**
   * What determines the layout of the operator's state, as a short readable text (e.g.
   * `window tumbling(10000) count`). A checkpoint or savepoint written with another signature is
   * refused for this operator — naming both — unless a migration converts it.
   */
  readonly stateSignature?: string;
  /**
   * How the operator's state is organised by key, so that it can be split by key group (each
   * worker of a parallel run restores the keys it owns) and merged from several workers (a
   * rescaled restore): a `StateLayout` of `snapshot()`'s data, `'stateless'`, or `'not-keyed'`
   * (the operator runs on a single worker). Undeclared: treated as `'not-keyed'`. See
   * `mergeOperatorSnapshots`, `splitOperatorSnapshot` and `filterOperatorSnapshot`.
   *
   * @example
   * // snapshot(): { seq, keys: [[key, …], …] }
   * keyedState: { fields: { seq: 'max', keys: 'keyed' } }
   */
  readonly keyedState?: KeyedStateDeclaration;
}
