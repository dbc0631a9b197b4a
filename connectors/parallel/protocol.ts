/**
 * What the coordinator of a parallel run and its worker threads tell each other: the worker's
 * start data, commands (start with the checkpoint to restore — once every worker has built its
 * pipeline —, stop, abort, the checkpoint operations, answers to checkpoint requests, finished,
 * exit, alignment minima) and reports (ready with the plan's layout, progress counters, sink-retry
 * events, alignment minima,
 * checkpoint requests and replies, finishing, done with a summary, failed with an error), and how
 * errors cross the thread boundary (name, message, stack).
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

/** An error as it crosses threads. */
export interface WorkerErrorData {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
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

/** The cross-thread form of `error`. */
export function errorData(error: unknown): WorkerErrorData {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error), stack: undefined };
}

/**
 * A worker's error, rebuilt in the coordinator: the original name, message and stack, plus the
 * worker it happened on (`runParallel` rejects with it).
 *
 * @example
 * try { await runParallel({ module, parallelism: 2 }); } catch (e) { if (e instanceof WorkerError) log.error(`worker ${e.worker}: ${e.name}: ${e.message}`); }
 */
export class WorkerError extends Error {
  constructor(readonly worker: number, data: WorkerErrorData) {
    super(data.message);
    this.name = data.name;
    if (data.stack !== undefined) this.stack = data.stack;
  }
}
