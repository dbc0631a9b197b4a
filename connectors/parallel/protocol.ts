/**
 * What the coordinator of a parallel run and its worker threads tell each other: the worker's
 * start data, commands (start with the checkpoint to restore — once every worker has built its
 * pipeline —, stop, abort, the checkpoint operations, answers to checkpoint requests, finished,
 * exit, alignment minima) and reports (ready with the plan's layout, progress counters, sink-retry
 * events, alignment minima,
 * checkpoint requests and replies, finishing, done with a summary, failed with an error), and how
 * errors cross the thread boundary (name, message, stack, cause chain — from any thrown value).
 */
import type { MessagePort } from 'node:worker_threads';
import type { Checkpoint, RunSummary } from '../../index.js';
import type { PlanLayout } from '../../engine/runtime/parallel-migration.js';

/** Plain pipeline options every worker's `Pipeline` gets. */
export interface WorkerPipelineOptions {
  readonly batchSize?: number;
  readonly sinkRetry?: false | { readonly attempts: number; readonly delay: number };
}

/** The `workerData` of a worker thread. */
export interface WorkerStart {
  /** URL of the pipeline module. */
  readonly module: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly worker: number;
  readonly workers: number;
  readonly keyGroups: number;
  readonly pipeline: WorkerPipelineOptions;
  /** `ports[w]`: the channel to worker `w` (none to itself). */
  readonly ports: readonly (MessagePort | undefined)[];
  /** Pino log level of the logger handed to the module as `args.log` (default: silent). */
  readonly logLevel: string;
  /** The coordinator writes checkpoints. */
  readonly checkpointing: boolean;
  /** Ask the coordinator for a checkpoint after this many records read by this worker. */
  readonly everyRecords: number | undefined;
  /** How often the worker reports its counters (ms). */
  readonly reportEveryMs: number;
}

/** The checkpoint operations the coordinator calls on a worker (see `CheckpointWorker`). */
export type CheckpointOp = 'pause' | 'counters' | 'capture' | 'captureFinal' | 'commit' | 'resume';

/** Coordinator → worker. */
export type ToWorker =
  /** Every worker is ready: run, restoring a share of `restore` (already migrated). */
  | { readonly type: 'start'; readonly restore: Checkpoint | undefined }
  /** Watermark alignment: the other workers' slowest active member of `group`. */
  | { readonly type: 'align'; readonly group: string; readonly minimum: number }
  /** The checkpoint this worker requested (`cp-request`) is taken, or was skipped. */
  | { readonly type: 'cp-done'; readonly rid: number }
  | { readonly type: 'stop'; readonly reason: string }
  | { readonly type: 'abort'; readonly reason: string }
  | { readonly type: 'cp'; readonly rid: number; readonly op: CheckpointOp; readonly args: readonly unknown[] }
  /** The final cut is taken: `coordinated` when it was a checkpoint (sinks committed). */
  | { readonly type: 'finished'; readonly coordinated: boolean }
  | { readonly type: 'exit' };

/** An error as it crosses threads: name, message, stack and its cause chain (each in this form). */
export interface WorkerErrorData {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** The error's `cause`, if it had one (chains are cut after 8 links and at cycles). */
  readonly cause?: WorkerErrorData;
}

/** Worker → coordinator. */
export type FromWorker =
  /** The pipeline is built; `layout` is its plan as a restore checks it. */
  | { readonly type: 'ready'; readonly layout: PlanLayout }
  /** The worker's counters so far (sent every `reportEveryMs`). */
  | { readonly type: 'progress'; readonly summary: RunSummary }
  /** A sink write on the worker is retried. */
  | { readonly type: 'sink-retry'; readonly sink: string; readonly attempt: number; readonly delayMs: number; readonly error: WorkerErrorData }
  /** Watermark alignment: this worker's slowest active member of `group` (at most every 5 ms per worker). */
  | { readonly type: 'align'; readonly group: string; readonly minimum: number }
  /** This worker read `everyRecords` records since the last cut: it asks for a checkpoint. */
  | { readonly type: 'cp-request'; readonly rid: number }
  | { readonly type: 'done'; readonly summary: RunSummary }
  /** Pumps done and every node ended (or stopped): waiting for the final cut. */
  | { readonly type: 'finishing' }
  | { readonly type: 'cp-reply'; readonly rid: number; readonly ok: true; readonly value: unknown }
  | { readonly type: 'cp-reply'; readonly rid: number; readonly ok: false; readonly error: WorkerErrorData }
  | { readonly type: 'failed'; readonly error: WorkerErrorData };

/** Links of a cause chain carried across threads. */
const MAX_CAUSES = 8;

/** `String(value)` that cannot throw (a value with a throwing `toString`). */
function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Reads `key` of `value` without letting a throwing getter escape. */
function field(value: object, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/**
 * The cross-thread form of `error` — any thrown value: an `Error` (or error-like object, such as
 * a `DOMException`) keeps its name, message, stack and cause chain; anything else becomes an
 * `Error` whose message is the value as a string. Never throws.
 *
 * @example
 * port.postMessage({ type: 'failed', error: errorData(e) });
 */
export function errorData(error: unknown, seen: Set<unknown> = new Set()): WorkerErrorData {
  if (error === null || typeof error !== 'object') return { name: 'Error', message: safeString(error), stack: undefined };
  seen.add(error);
  const name = field(error, 'name');
  const message = field(error, 'message');
  const stack = field(error, 'stack');
  const cause = field(error, 'cause');
  const data: WorkerErrorData = {
    name: typeof name === 'string' && name !== '' ? name : 'Error',
    message: typeof message === 'string' ? message : safeString(error),
    stack: typeof stack === 'string' ? stack : undefined,
  };
  if (cause === undefined || seen.has(cause) || seen.size >= MAX_CAUSES) return data;
  return { ...data, cause: errorData(cause, seen) };
}

/** An `Error` rebuilt from its cross-thread form (name, message, stack, cause chain). */
function rebuilt(data: WorkerErrorData): Error {
  const error = new Error(data.message, data.cause === undefined ? undefined : { cause: rebuilt(data.cause) });
  error.name = data.name;
  if (data.stack !== undefined) error.stack = data.stack;
  return error;
}

/**
 * A worker's error, rebuilt in the coordinator: the original name, message and stack, the cause
 * chain (each link an `Error` with its original name, message and stack), plus the worker it
 * happened on (`runParallel` rejects with it). The original class is not kept across threads:
 * check `error.name` (e.g. `'UserFunctionError'`) rather than `instanceof`.
 *
 * @example
 * try { await runParallel({ module, parallelism: 2 }); } catch (e) {
 *   if ((e as WorkerError).name === 'UserFunctionError') log.error(`worker ${(e as WorkerError).workerIndex}: ${(e as Error).message}`);
 * }
 */
export class WorkerError extends Error {
  constructor(readonly worker: number, data: WorkerErrorData) {
    super(data.message, data.cause === undefined ? undefined : { cause: rebuilt(data.cause) });
    this.name = data.name;
    if (data.stack !== undefined) this.stack = data.stack;
  }

  /** The index of the worker the error happened on (the same as `worker`). */
  get workerIndex(): number {
    return this.worker;
  }
}
