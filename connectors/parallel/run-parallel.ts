/**
 * `runParallel`: runs a pipeline module on n worker threads of this process. The main thread is
 * the coordinator only: it starts the workers, gives each a direct channel to every other, and
 * combines their summaries (or fails the run with the first worker's error, aborting the others).
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { DEFAULT_KEY_GROUPS, PlanError, type RunSummary, checkKeyGroups } from '../../index.js';
import { mergeSummaries } from '../../engine/runtime/summary-merge.js';
import { type FromWorker, type ToWorker, WorkerError, type WorkerPipelineOptions, type WorkerStart } from './protocol.js';

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
  /** Key groups keyed state is divided into: a power of two ≥ parallelism (default 128). */
  readonly keyGroups?: number;
  /** Preferred records per batch in every worker (default 1024). */
  readonly batchSize?: number;
  /** How sink writes are retried (as `PipelineOptions.sinkRetry`; durations in ms). */
  readonly sinkRetry?: false | { readonly attempts: number; readonly delay: number };
  /** Stops the run cleanly when aborted (sources stop, sinks close; windows are not flushed). */
  readonly signal?: AbortSignal;
  /** Level of the pino logger handed to the module as `args.log` (default `silent`). */
  readonly logLevel?: string;
  /**
   * Not supported yet with parallel workers: passing it is an error (the run would not be
   * recoverable). Run with `parallelism: 1` (`tidemark run` without `--parallelism`) to checkpoint.
   */
  readonly checkpoints?: unknown;
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

/**
 * Runs the pipeline module `module` on `parallelism` worker threads: keyed operators run where
 * their key groups live (group `g` on worker `g mod parallelism`), records cross to that worker in
 * columnar batches over direct channels, watermarks travel with the data (minimum rule), sources
 * that are not partitioned are read once (by worker 0) and sinks run on worker 0. Results equal a
 * single-worker run's. Resolves with the combined summary (counters summed over workers); rejects
 * with the first worker's error (`worker` names it), after the other workers were aborted.
 *
 * @example
 * const summary = await runParallel({ module: './pipelines/page-counts.ts', parallelism: 2, args: { into: './out' } });
 * console.log(summary.sinks);
 */
export async function runParallel(options: RunParallelOptions): Promise<RunSummary> {
  if (options === null || typeof options !== 'object') throw new PlanError(`${WHERE}: options must be an object`);
  const module = moduleUrl(options.module);
  const n = options.parallelism;
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new PlanError(`${WHERE}: parallelism must be an integer from 1 to 256, got ${String(n)}`);
  const keyGroups = checkKeyGroups(options.keyGroups ?? DEFAULT_KEY_GROUPS, WHERE);
  if (keyGroups < n) throw new PlanError(`${WHERE}: keyGroups (${keyGroups}) must be ≥ parallelism (${n})`);
  if (options.checkpoints !== undefined) {
    throw new PlanError(`${WHERE}: checkpoints are not supported with parallel workers yet; run with parallelism 1 to checkpoint`);
  }
  const args = options.args ?? {};
  if (args === null || typeof args !== 'object') throw new PlanError(`${WHERE}: args must be an object of plain data`);
  const pipeline: WorkerPipelineOptions = {
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    ...(options.sinkRetry === undefined ? {} : { sinkRetry: options.sinkRetry }),
  };
  if (pipeline.batchSize !== undefined && (!Number.isInteger(pipeline.batchSize) || pipeline.batchSize < 1)) {
    throw new PlanError(`${WHERE}: batchSize must be a positive integer, got ${String(pipeline.batchSize)}`);
  }
  const url = workerProgram();

  // A direct channel between every pair of workers.
  const ports: (MessagePort | undefined)[][] = Array.from({ length: n }, () => new Array<MessagePort | undefined>(n).fill(undefined));
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const { port1, port2 } = new MessageChannel();
      (ports[a] as (MessagePort | undefined)[])[b] = port1;
      (ports[b] as (MessagePort | undefined)[])[a] = port2;
    }
  }
  const workers: Worker[] = [];
  let ready = 0;
  const results: Promise<RunSummary>[] = [];
  let failure: WorkerError | undefined;
  const send = (w: Worker, message: ToWorker): void => w.postMessage(message);
  const fail = (error: WorkerError): void => {
    if (failure !== undefined) return;
    failure = error;
    for (const w of workers) send(w, { type: 'abort', reason: `worker ${error.worker} failed: ${error.message}` });
  };
  for (let worker = 0; worker < n; worker++) {
    const own = ports[worker] as (MessagePort | undefined)[];
    const start: WorkerStart = { module, args, worker, workers: n, keyGroups, pipeline, ports: own, logLevel: options.logLevel ?? 'silent' };
    const thread = new Worker(url, { workerData: start, transferList: own.filter((p): p is MessagePort => p !== undefined) });
    workers.push(thread);
    results.push(new Promise<RunSummary>((resolveRun, rejectRun) => {
      let settled = false;
      const failed = (error: WorkerError): void => {
        if (settled) return;
        settled = true;
        fail(error);
        rejectRun(error);
      };
      thread.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          // Every worker has built its pipeline: they start together.
          if (++ready === n) for (const w of workers) send(w, { type: 'start' });
        } else if (message.type === 'done') {
          settled = true;
          resolveRun(message.summary);
        } else {
          failed(new WorkerError(worker, message.error));
        }
      });
      thread.on('error', (error) => failed(new WorkerError(worker, { name: error.name, message: error.message, stack: error.stack })));
      thread.on('exit', (code) => failed(new WorkerError(worker, { name: 'Error', message: `worker ${worker} exited (code ${code}) before it finished`, stack: undefined })));
    }));
  }
  const onAbort = (): void => {
    for (const w of workers) send(w, { type: 'stop', reason: String(options.signal?.reason ?? 'requested') });
  };
  if (options.signal?.aborted === true) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const settled = await Promise.allSettled(results);
    if (failure !== undefined) throw failure;
    return mergeSummaries(settled.map((r) => (r as PromiseFulfilledResult<RunSummary>).value));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    const exited = workers.map((w) => new Promise<void>((done) => {
      if (w.threadId === -1) done();
      else w.once('exit', () => done());
    }));
    for (const w of workers) send(w, { type: 'exit' });
    // A worker stuck in user code is terminated after a grace period.
    const grace = setTimeout(() => {
      for (const w of workers) void w.terminate();
    }, 5_000);
    await Promise.all(exited);
    clearTimeout(grace);
  }
}
