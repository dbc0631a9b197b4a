/**
 * `runParallel`: runs a pipeline module on n worker threads of this process. The main thread is
 * the coordinator only: it starts the workers (they start running together once all have built
 * their pipeline), gives each a direct channel to every other, takes the run's checkpoints
 * (`CheckpointCoordinator`), and combines the workers' summaries — or fails the run with the
 * first worker's error, after aborting the others.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import {
  type Checkpoint, type CheckpointStore, DEFAULT_KEY_GROUPS, type Duration, type PipelineEventListener, PlanError, type RunSummary,
  SystemClock, checkKeyGroups, restoredKeyGroups, toMillis,
} from '../../index.js';
import { CheckpointCoordinator, SealedCheckpointError } from '../../engine/runtime/checkpoint-coordinator.js';
import { mergeSummaries } from '../../engine/runtime/summary-merge.js';
import type { WorkerError, WorkerPipelineOptions, WorkerStart } from './protocol.js';
import { WorkerHandle } from './worker-handle.js';

/** Checkpoints of a parallel run. */
export interface ParallelCheckpointOptions {
  readonly store: CheckpointStore;
  /** Take a checkpoint every `interval` (real time). */
  readonly interval?: Duration;
  /** Where the run starts: the `latest` checkpoint or savepoint (default), `none`, or the one with this id. */
  readonly restore?: 'latest' | 'none' | number;
}

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
  /** Stops the run cleanly when aborted: sources stop, a final checkpoint is taken, sinks close. */
  readonly signal?: AbortSignal;
  /** Receives checkpoint and restore events. */
  readonly onEvent?: PipelineEventListener;
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

function checkOptions(options: RunParallelOptions): { module: string; n: number; pipeline: WorkerPipelineOptions; intervalMs: number | undefined } {
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
  }
  const pipeline: WorkerPipelineOptions = {
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    ...(options.sinkRetry === undefined ? {} : { sinkRetry: options.sinkRetry }),
  };
  return { module, n, pipeline, intervalMs };
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

/**
 * Runs the pipeline module `module` on `parallelism` worker threads: keyed operators run where
 * their key groups live (group `g` on worker `g mod parallelism`), records cross to that worker in
 * columnar batches over direct channels, watermarks travel with the data (minimum rule), sources
 * that are not partitioned are read once (by worker 0) and sinks run on worker 0. Results equal a
 * single-worker run's. Resolves with the combined summary (counters summed over workers); rejects
 * with the first worker's error (a `WorkerError` with the original name and message, naming the
 * worker), after the other workers were aborted.
 *
 * @example
 * const summary = await runParallel({
 *   module: './pipelines/page-counts.ts', parallelism: 2, args: { into: './out' },
 *   checkpoints: { store: fileCheckpoints('./checkpoints'), interval: '10s' },
 * });
 */
export async function runParallel(options: RunParallelOptions): Promise<RunSummary> {
  const { module, n, pipeline, intervalMs } = checkOptions(options);
  const cp = options.checkpoints;
  const which = cp?.restore ?? 'latest';
  const restore: Checkpoint | undefined = cp === undefined || which === 'none' ? undefined : which === 'latest' ? await cp.store.latest() : await cp.store.load(which);
  const keyGroups = cp === undefined ? options.keyGroups ?? DEFAULT_KEY_GROUPS : restoredKeyGroups(restore, options.keyGroups, WHERE);
  if (keyGroups < n) throw new PlanError(`${WHERE}: keyGroups (${keyGroups}) must be ≥ parallelism (${n})`);
  const firstId = cp === undefined ? 1 : Math.max(0, restore?.id ?? 0, ...(await cp.store.list()).map((c) => c.id)) + 1;
  const onEvent = options.onEvent ?? (() => undefined);
  if (restore !== undefined) onEvent({ type: 'restored', id: restore.id, checkpointType: restore.type, takenAt: restore.takenAt });

  const ports = channels(n);
  const program = workerProgram();
  const workers: WorkerHandle[] = [];
  let failure: WorkerError | Error | undefined;
  let ready = 0;
  let finishing = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const fail = (error: WorkerError | Error): void => {
    if (failure !== undefined) return;
    failure = error;
    if (timer !== undefined) clearTimeout(timer);
    const from = 'worker' in error ? `worker ${String(error.worker)}` : 'the coordinator';
    for (const w of workers) w.send({ type: 'abort', reason: `${from} failed: ${error.message}` });
  };
  const coordinator = new CheckpointCoordinator(workers, cp?.store, new SystemClock(), firstId, () => new Promise((r) => setImmediate(r)), onEvent);
  const periodic = (): void => {
    if (intervalMs === undefined || failure !== undefined || finishing > 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      coordinator.take('checkpoint').then(periodic, (error: unknown) => {
        // A checkpoint that failed before anything was sealed is skipped; after, the run fails.
        if (error instanceof SealedCheckpointError) fail(error);
        else periodic();
      });
    }, intervalMs);
  };
  const events = {
    ready: (): void => {
      // Every worker has built its pipeline: they start together.
      if (++ready !== n) return;
      for (const w of workers) w.send({ type: 'start' });
      periodic();
    },
    finishing: (): void => {
      // Every worker is done (or stopped): the final cut, then they close.
      if (++finishing !== n) return;
      if (timer !== undefined) clearTimeout(timer);
      coordinator.take('checkpoint').then(
        () => {
          for (const w of workers) w.send({ type: 'finished', coordinated: cp !== undefined });
        },
        (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))),
      );
    },
    failed: fail,
  };
  for (let worker = 0; worker < n; worker++) {
    const own = ports[worker] as (MessagePort | undefined)[];
    const start: WorkerStart = {
      module, args: options.args ?? {}, worker, workers: n, keyGroups, pipeline, ports: own,
      logLevel: options.logLevel ?? 'silent', restore, checkpointing: cp !== undefined,
    };
    workers.push(new WorkerHandle(program, start, events));
  }
  const onAbort = (): void => {
    for (const w of workers) w.send({ type: 'stop', reason: String(options.signal?.reason ?? 'requested') });
  };
  if (options.signal?.aborted === true) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const settled = await Promise.allSettled(workers.map((w) => w.done));
    if (failure !== undefined) throw failure;
    const summary = mergeSummaries(settled.map((r) => (r as PromiseFulfilledResult<RunSummary>).value));
    if (cp !== undefined) summary.checkpoints = { ...coordinator.summary, ...(restore === undefined ? {} : { restoredFrom: restore.id }) };
    return summary;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    for (const w of workers) w.send({ type: 'exit' });
    // A worker stuck in user code is terminated after a grace period.
    const grace = setTimeout(() => {
      for (const w of workers) w.terminate();
    }, 5_000);
    await Promise.all(workers.map((w) => w.exited));
    clearTimeout(grace);
    await cp?.store.close?.();
  }
}
