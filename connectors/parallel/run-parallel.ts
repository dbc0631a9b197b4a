/**
 * `runParallel` and `startParallel`: run a pipeline module on n worker threads of this process.
 * The main thread is the coordinator only: it starts the workers (they start running together
 * once all have built their pipeline, with the restored checkpoint migrated to the plan), gives
 * each a direct channel to every other, takes the run's checkpoints (`CheckpointCoordinator`: on
 * an interval, when a worker has read `everyRecords` records, on request as savepoints, and a
 * final one when the run ends or is stopped), collects the workers' counters for metrics and
 * progress, and combines their summaries. A worker's error ends the attempt (the other workers
 * are aborted); with a restart strategy every worker starts again from the latest checkpoint.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import {
  type AttemptStart, type BackoffOptions, type Backoff, type Checkpoint, type CheckpointInfo, CheckpointError, type Duration,
  type PipelineEventListener, PlanError, type RunSummary, SystemClock, backoff, checkKeyGroups, restoredKeyGroups, runAttempts, toMillis,
} from '../../index.js';
import { CheckpointCoordinator, SealedCheckpointError } from '../../engine/runtime/checkpoint-coordinator.js';
import { type PlanLayout, migrateCheckpoint } from '../../engine/runtime/parallel-migration.js';
import { AlignmentRelay } from '../../engine/runtime/alignment-relay.js';
import { mergeSummaries } from '../../engine/runtime/summary-merge.js';
import type { CheckpointOptions } from '../../index.js';
import type { WorkerError, WorkerPipelineOptions, WorkerStart } from './protocol.js';
import { WorkerHandle } from './worker-handle.js';

/**
 * Checkpoints of a parallel run: the options of a single-threaded pipeline's checkpoints, with
 * `everyRecords` counted per worker (a worker that has read that many records since the last
 * checkpoint asks the coordinator, and its sources wait for the checkpoint) and `migrations`
 * applied once, by the coordinator, before the workers take their shares.
 */
export type ParallelCheckpointOptions = CheckpointOptions;

/** Options of `runParallel`. */
export interface RunParallelOptions {
  /**
   * The pipeline module (what `tidemark run` takes): a path (relative to the working directory)
   * or a URL of a module whose default export `(p: Pipeline, args) => void | Promise<void>` adds
   * sources, operators and sinks to `p`. Every worker imports it and builds the same plan.
   */
  readonly module: string | URL;
  /** Number of worker threads (1 runs one worker thread). */
  readonly parallelism: number;
  /**
   * Plain data for the module (structured-cloned to every worker); the module receives it with
   * `signal` (aborted when the run stops), `log` (a pino logger), `worker` and `workers` added.
   */
  readonly args?: Readonly<Record<string, unknown>>;
  /**
   * Key groups keyed state is divided into: a power of two ≥ parallelism, fixed when a pipeline
   * first starts (default 128; a restored run keeps its checkpoint's).
   */
  readonly keyGroups?: number;
  /** Preferred records per batch in every worker (default 1024). */
  readonly batchSize?: number;
  /** How sink writes are retried (as `PipelineOptions.sinkRetry`; delays in ms). */
  readonly sinkRetry?: false | { readonly attempts: number; readonly delay: number };
  /**
   * Consistent checkpoints of all workers into one ordinary checkpoint (restorable with any
   * number of workers, one included). The run starts from the latest one in the store.
   */
  readonly checkpoints?: ParallelCheckpointOptions;
  /**
   * Restart a failed run (any worker's error) from its latest checkpoint — every worker — with a
   * fixed or exponential delay, at most `attempts` times (as `PipelineOptions.restart`). Default:
   * no restarts.
   */
  readonly restart?: BackoffOptions;
  /** Stops the run cleanly when aborted: sources stop, a final checkpoint is taken, sinks close. */
  readonly signal?: AbortSignal;
  /** Receives checkpoint, restore, restart, sink-retry and stopping events. */
  readonly onEvent?: PipelineEventListener;
  /** How often each worker reports its counters for `summary()` (default 1s; at most one message per worker per interval). */
  readonly reportInterval?: Duration;
  /** Level of the pino logger handed to the module as `args.log` (default `silent`). */
  readonly logLevel?: string;
}

const WHERE = 'tidemark.runParallel';

function moduleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== 'string' || module.length === 0) throw new PlanError(`${WHERE}: module must be a path or URL of a pipeline module`);
  if (/^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[a-z]:[\\/]/i.test(module)) return module;
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
}

/**
 * The worker threads' program: from TypeScript sources, an entry that registers tsx in the thread
 * (so TypeScript pipeline modules load too); from a build, the compiled worker.
 */
function workerProgram(): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? './worker-entry.mjs' : './worker.js', import.meta.url);
}

interface Checked {
  readonly module: string;
  readonly n: number;
  readonly pipeline: WorkerPipelineOptions;
  readonly intervalMs: number | undefined;
  readonly restart: Backoff | undefined;
  readonly reportEveryMs: number;
}

function checkOptions(options: RunParallelOptions): Checked {
  if (options === null || typeof options !== 'object') throw new PlanError(`${WHERE}: options must be an object`);
  const module = moduleUrl(options.module);
  const n = options.parallelism;
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new PlanError(`${WHERE}: parallelism must be an integer from 1 to 256, got ${String(n)}`);
  if (options.keyGroups !== undefined) checkKeyGroups(options.keyGroups, WHERE);
  if (options.args !== undefined && (options.args === null || typeof options.args !== 'object')) throw new PlanError(`${WHERE}: args must be an object of plain data`);
  if (options.batchSize !== undefined && (!Number.isInteger(options.batchSize) || options.batchSize < 1)) {
    throw new PlanError(`${WHERE}: batchSize must be a positive integer, got ${String(options.batchSize)}`);
  }
  const cp = options.checkpoints;
  let intervalMs: number | undefined;
  if (cp !== undefined) {
    if (cp === null || typeof cp !== 'object' || typeof cp.store?.write !== 'function' || typeof cp.store.encodeState !== 'function') {
      throw new PlanError(`${WHERE}: checkpoints.store must be a checkpoint store such as fileCheckpoints(dir)`);
    }
    intervalMs = cp.interval === undefined ? undefined : toMillis(cp.interval, `${WHERE}: checkpoints.interval`);
    if (intervalMs !== undefined && intervalMs <= 0) throw new PlanError(`${WHERE}: checkpoints.interval must be > 0, got ${intervalMs} ms`);
    const r = cp.restore;
    if (r !== undefined && r !== 'latest' && r !== 'none' && !(Number.isInteger(r) && r > 0)) {
      throw new PlanError(`${WHERE}: checkpoints.restore must be 'latest', 'none' or a checkpoint id, got ${String(r)}`);
    }
    if (cp.everyRecords !== undefined && (!Number.isInteger(cp.everyRecords) || cp.everyRecords < 1)) {
      throw new PlanError(`${WHERE}: checkpoints.everyRecords must be a positive integer, got ${String(cp.everyRecords)}`);
    }
    if (cp.migrations !== undefined && (cp.migrations === null || typeof cp.migrations !== 'object' || Object.values(cp.migrations).some((m) => typeof m !== 'function'))) {
      throw new PlanError(`${WHERE}: checkpoints.migrations must map operator names to functions (state, from) => state`);
    }
  }
  const restart = options.restart === undefined ? undefined : backoff(options.restart, `${WHERE}: restart`);
  const reportEveryMs = options.reportInterval === undefined ? 1_000 : toMillis(options.reportInterval, `${WHERE}: reportInterval`);
  if (!(reportEveryMs >= 10)) throw new PlanError(`${WHERE}: reportInterval must be ≥ 10 ms, got ${reportEveryMs} ms`);
  const pipeline: WorkerPipelineOptions = {
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    ...(options.sinkRetry === undefined ? {} : { sinkRetry: options.sinkRetry }),
  };
  return { module, n, pipeline, intervalMs, restart, reportEveryMs };
}

/** Direct channels between every pair of workers: `ports[a][b]` reaches `b` from `a`. */
function channels(n: number): (MessagePort | undefined)[][] {
  const ports: (MessagePort | undefined)[][] = Array.from({ length: n }, () => new Array<MessagePort | undefined>(n).fill(undefined));
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const { port1, port2 } = new MessageChannel();
      (ports[a] as (MessagePort | undefined)[])[b] = port1;
      (ports[b] as (MessagePort | undefined)[])[a] = port2;
    }
  }
  return ports;
}


/** A parallel run in progress (`startParallel`). */
export interface ParallelRun {
  /** Resolves with the combined summary (`stopped` set when stopped); rejects with the run's error. */
  readonly done: Promise<RunSummary>;
  /**
   * Stops the run cleanly: every worker's sources stop after the chunk in hand, a final
   * checkpoint is taken across all workers (windows stay open in it), sinks close, and `done`
   * resolves with `summary.stopped = reason`. A failed run is not restarted after a stop.
   */
  stop(reason?: string): void;
  /** Takes a savepoint across all workers now (the run goes on); resolves with where it was stored. */
  savepoint(): Promise<CheckpointInfo>;
  /** The counters so far, summed over the workers' latest reports (`undefined` before the first). */
  summary(): RunSummary | undefined;
}

/** The run's wall clock (restart delays keep the process alive, unlike the engine's timers). */
const wallClock = {
  now: (): number => Date.now(),
  schedule: (at: number, callback: () => void): (() => void) => {
    const t = setTimeout(callback, Math.max(0, at - Date.now()));
    return () => clearTimeout(t);
  },
};

/** One attempt of a parallel run: n workers from one checkpoint to an end, a stop or a failure. */
class Attempt {
  readonly workers: WorkerHandle[] = [];
  readonly coordinator: CheckpointCoordinator;
  /** The workers' latest counters. */
  readonly reports: (RunSummary | undefined)[];
  /** Set once every worker is done (or stopped): no more savepoints. */
  ended = false;
  private failure: WorkerError | Error | undefined;
  private ready = 0;
  private finishing = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private layout: PlanLayout | undefined;

  constructor(
    private readonly options: RunParallelOptions,
    private readonly checked: Checked,
    private readonly start: AttemptStart,
    private readonly keyGroups: number,
    private readonly onEvent: PipelineEventListener,
    private stopReason: string | undefined,
  ) {
    const { n } = checked;
    this.reports = new Array<RunSummary | undefined>(n).fill(undefined);
    this.coordinator = new CheckpointCoordinator(this.workers, options.checkpoints?.store, new SystemClock(), start.firstId, () => new Promise((r) => setImmediate(r)), onEvent);
  }

  /** Ends the attempt with `error`: every worker is aborted (its sinks aborted, not closed). */
  private fail(error: WorkerError | Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const from = 'worker' in error ? `worker ${String(error.worker)}` : 'the coordinator';
    for (const w of this.workers) w.send({ type: 'abort', reason: `${from} failed: ${error.message}` });
    // The grace for workers stuck in user code starts as soon as the failure is known.
    this.startGrace();
  }

  private grace: ReturnType<typeof setTimeout> | undefined;

  /** Terminates every worker thread still running 5 s from now. */
  private startGrace(): void {
    this.grace ??= setTimeout(() => {
      for (const w of this.workers) w.terminate();
    }, 5_000);
  }

  /** A checkpoint that failed before anything was sealed is skipped; after, the attempt fails. */
  private checkpointFailed(error: unknown): void {
    if (error instanceof SealedCheckpointError) this.fail(error);
  }

  private periodic(): void {
    const { intervalMs } = this.checked;
    // A worker with nothing placed on it finishes at once: checkpoints go on until all have.
    if (intervalMs === undefined || this.failure !== undefined || this.finishing === this.checked.n) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.coordinator.take('checkpoint').then(() => this.periodic(), (error: unknown) => {
        this.checkpointFailed(error);
        this.periodic();
      });
    }, intervalMs);
  }

  /** Every worker has built its pipeline: migrate the checkpoint to the plan, then they start together. */
  private allReady(): void {
    const cp = this.options.checkpoints;
    let restore: Checkpoint | undefined;
    try {
      const saved = this.start.restore;
      restore = saved === undefined ? undefined : migrateCheckpoint(saved, this.layout as PlanLayout, cp?.migrations ?? {}, cp?.allowNonRestoredState === true);
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (restore !== undefined) this.onEvent({ type: 'restored', id: restore.id, checkpointType: restore.type, takenAt: restore.takenAt });
    for (const w of this.workers) w.send({ type: 'start', restore });
    this.periodic();
  }

  /** Every worker is done (or stopped): the final cut, then they close. */
  private allFinishing(): void {
    this.ended = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const checkpointing = this.options.checkpoints !== undefined;
    this.coordinator.take('checkpoint').then(
      () => {
        for (const w of this.workers) w.send({ type: 'finished', coordinated: checkpointing });
      },
      (error: unknown) => this.fail(error instanceof Error ? error : new Error(String(error))),
    );
  }

  private stopSent = false;

  /** Stops every worker (a final checkpoint follows when they have all stopped). */
  stop(reason: string): void {
    if (this.stopSent) return;
    this.stopSent = true;
    this.stopReason = reason;
    this.onEvent({ type: 'stopping', reason });
    for (const w of this.workers) w.send({ type: 'stop', reason });
  }

  /** Runs the attempt: resolves with the combined summary, rejects with the first error. */
  async run(): Promise<RunSummary> {
    const { module, n, pipeline, reportEveryMs } = this.checked;
    const cp = this.options.checkpoints;
    const ports = channels(n);
    const program = workerProgram();
    const relay = new AlignmentRelay(n, (to, group, minimum) => this.workers[to]?.send({ type: 'align', group, minimum }));
    const events = {
      ready: (layout: PlanLayout): void => {
        this.layout ??= layout;
        if (++this.ready === n) this.allReady();
      },
      progress: (worker: number, summary: RunSummary): void => {
        this.reports[worker] = summary;
      },
      event: this.onEvent,
      aligned: (worker: number, group: string, minimum: number): void => relay.report(worker, group, minimum),
      requested: (worker: WorkerHandle, rid: number): void => {
        if (cp === undefined || this.failure !== undefined) {
          worker.checkpointDone(rid);
          return;
        }
        this.coordinator.request().then(() => worker.checkpointDone(rid), (error: unknown) => {
          this.checkpointFailed(error);
          worker.checkpointDone(rid);
        });
      },
      finishing: (): void => {
        if (++this.finishing === n) this.allFinishing();
      },
      failed: (error: WorkerError): void => this.fail(error),
    };
    for (let worker = 0; worker < n; worker++) {
      const start: WorkerStart = {
        module, args: this.options.args ?? {}, worker, workers: n, keyGroups: this.keyGroups, pipeline, ports: ports[worker] as (MessagePort | undefined)[],
        logLevel: this.options.logLevel ?? 'silent', checkpointing: cp !== undefined, everyRecords: cp?.everyRecords, reportEveryMs,
      };
      this.workers.push(new WorkerHandle(program, start, events));
    }
    // Stopped while the previous attempt was waiting to restart: this one stops at once.
    if (this.stopReason !== undefined) this.stop(this.stopReason);
    try {
      const settled = await Promise.allSettled(this.workers.map((w) => w.done));
      this.ended = true;
      if (this.failure !== undefined) throw this.failure;
      const parts = settled.map((r) => (r as PromiseFulfilledResult<RunSummary>).value);
      parts.forEach((s, i) => {
        this.reports[i] = s;
      });
      const summary = mergeSummaries(parts);
      const restored = this.start.restore;
      if (cp !== undefined) summary.checkpoints = { ...this.coordinator.summary, ...(restored === undefined ? {} : { restoredFrom: restored.id }) };
      return summary;
    } finally {
      this.ended = true;
      if (this.timer !== undefined) clearTimeout(this.timer);
      for (const w of this.workers) w.send({ type: 'exit' });
      // A worker stuck in user code is terminated after a grace period.
      this.startGrace();
      await Promise.all(this.workers.map((w) => w.exited));
      clearTimeout(this.grace);
    }
  }
}

/**
 * Starts the pipeline module `module` on `parallelism` worker threads (see `runParallel`) and
 * returns a handle: `done` (the summary), `stop(reason)` (a final checkpoint across all workers,
 * then a clean end), `savepoint()` (a savepoint across all workers; the run goes on) and
 * `summary()` (counters so far, for metrics and progress). Options are validated at once (a
 * `PlanError` is thrown).
 *
 * @example
 * const run = startParallel({ module: './pipeline.ts', parallelism: 4, checkpoints: { store: fileCheckpoints('./cp'), interval: '10s' } });
 * process.on('SIGTERM', () => run.stop('SIGTERM'));
 * const info = await run.savepoint();
 * const summary = await run.done;
 */
export function startParallel(options: RunParallelOptions): ParallelRun {
  const checked = checkOptions(options);
  const cp = options.checkpoints;
  const onEvent: PipelineEventListener = (event) => {
    try {
      options.onEvent?.(event);
    } catch {
      // a listener's error must not disturb the run
    }
  };
  let current: Attempt | undefined;
  let stopReason: string | undefined;
  let last: RunSummary | undefined;
  const done = runAttempts({
    store: cp?.store,
    restore: cp?.restore ?? 'latest',
    restart: checked.restart,
    clock: wallClock,
    onEvent,
    stopped: () => stopReason !== undefined,
    attempt: async (start) => {
      const keyGroups = cp === undefined ? options.keyGroups ?? restoredKeyGroups(undefined, undefined, WHERE) : restoredKeyGroups(start.restore, options.keyGroups, WHERE);
      if (keyGroups < checked.n) throw new PlanError(`${WHERE}: keyGroups (${keyGroups}) must be ≥ parallelism (${checked.n})`);
      const attempt = new Attempt(options, checked, start, keyGroups, onEvent, stopReason);
      current = attempt;
      try {
        const summary = await attempt.run();
        last = summary;
        return summary;
      } finally {
        const reports = attempt.reports.filter((r): r is RunSummary => r !== undefined);
        if (reports.length > 0) last = mergeSummaries(reports);
        current = undefined;
      }
    },
  }).finally(() => {
    options.signal?.removeEventListener('abort', onAbort);
    return cp?.store.close?.();
  });
  const stop = (reason = 'requested'): void => {
    if (stopReason !== undefined) return;
    stopReason = reason;
    current?.stop(reason);
  };
  const onAbort = (): void => stop(String(options.signal?.reason ?? 'requested'));
  if (options.signal?.aborted === true) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  done.catch(() => undefined);
  return {
    done,
    stop,
    async savepoint(): Promise<CheckpointInfo> {
      if (cp === undefined) throw new PlanError('tidemark.savepoint: the parallel run has no checkpoint store (checkpoints.store)');
      const attempt = current;
      if (attempt === undefined || attempt.ended) throw new PlanError('tidemark.savepoint: the parallel run is not running');
      const info = await attempt.coordinator.take('savepoint');
      if (info === undefined) throw new CheckpointError('tidemark.savepoint: no savepoint was written');
      return info;
    },
    summary(): RunSummary | undefined {
      const reports = current?.reports.filter((r): r is RunSummary => r !== undefined) ?? [];
      return reports.length === 0 ? last : mergeSummaries(reports);
    },
  };
}

/**
 * Runs the pipeline module `module` on `parallelism` worker threads: keyed operators run where
 * their key groups live (group `g` on worker `g mod parallelism`), records cross to that worker in
 * columnar batches over direct channels, watermarks travel with the data (minimum rule), sources
 * that are not partitioned are read once (by worker 0) and sinks run on worker 0. Results equal a
 * single-worker run's. Resolves with the combined summary (counters summed over workers); rejects
 * with the first worker's error (a `WorkerError` with the original name and message, naming the
 * worker), after the other workers were aborted — or, with `restart`, restarts every worker from
 * the latest checkpoint first. `startParallel` gives the same run with a stop/savepoint handle.
 *
 * @example
 * const summary = await runParallel({
 *   module: './pipelines/page-counts.ts', parallelism: 2, args: { into: './out' },
 *   checkpoints: { store: fileCheckpoints('./checkpoints'), interval: '10s' },
 *   restart: { attempts: 3, delay: '1s' },
 * });
 */
export async function runParallel(options: RunParallelOptions): Promise<RunSummary> {
  return startParallel(options).done;
}
