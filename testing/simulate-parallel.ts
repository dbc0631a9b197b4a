/**
 * `simulateParallel`: a pipeline run as n parallel workers inside one thread — the same
 * placement, key-group exchange and watermark combination as `runParallel`'s worker threads, over
 * an in-memory network whose delivery order across channels is chosen by a seeded scheduler (FIFO
 * per channel). Fast and deterministic for one seed; many seeds explore many interleavings.
 */
import {
  type BackoffOptions, type CheckpointStore, ManualClock, Pipeline, type PipelineEventListener, PlanError, type RunSummary, type StateMigration,
  backoff, restoredKeyGroups, runAttempts, runWorkersInThread,
} from '../index.js';
import { seededRandom } from './seeded-random.js';

/** Options of `simulateParallel`. */
export interface SimulateParallelOptions {
  /** Number of simulated workers (1 = an ordinary single-worker run). */
  readonly parallelism: number;
  /** Seed of the delivery order (default 1). */
  readonly seed?: number;
  /** Key groups, a power of two ≥ parallelism (default 128). */
  readonly keyGroups?: number;
  /** Batch size of every worker's pipeline (default 1024). */
  readonly batchSize?: number;
  /** Records a worker may send to another before its sources wait (default 32768; small values exercise flow control). */
  readonly maxUnacked?: number;
  /**
   * Checkpoints: the run starts from the `restore` checkpoint of `store` (default `latest`), each
   * worker with its share, and takes a final checkpoint at its end or when stopped (with any
   * `parallelism`, 1 included: checkpoints restore across different numbers of workers).
   */
  readonly checkpoints?: {
    readonly store: CheckpointStore;
    readonly restore?: 'latest' | 'none' | number;
    /** Also a checkpoint whenever a worker has read this many records since the last one (counted per worker). */
    readonly everyRecords?: number;
    /** Converts the saved state of the named operator on restore (as `CheckpointOptions.migrations`). */
    readonly migrations?: Readonly<Record<string, StateMigration>>;
    /** Drop saved state of operators or sources the pipeline no longer has (default: refuse). */
    readonly allowNonRestoredState?: boolean;
  };
  /**
   * Restarts a failed run (any worker's error) from its latest checkpoint — every worker, built
   * anew with `build` — as `PipelineOptions.restart` does; delays pass on a manual clock at once.
   */
  readonly restart?: BackoffOptions;
  /** Stops every worker when aborted (sources stop, a final checkpoint is taken, sinks close). */
  readonly signal?: AbortSignal;
  /** Receives checkpoint, restore and restart events. */
  readonly onEvent?: PipelineEventListener;
}

/**
 * Builds the pipeline once per simulated worker with `build` (as each worker imports a pipeline
 * module) — every pipeline with its own `ManualClock` — and runs them together. Sinks run on
 * worker 0 only, so a sink collecting into an array captured by `build` sees every result once.
 * Resolves with the combined summary (counters summed over workers).
 *
 * @example
 * const out: WindowResult<string, number>[] = [];
 * await simulateParallel((p) => {
 *   p.source(fromArray(clicks), { timestamp: (c) => c.ts, watermark: boundedOutOfOrderness(5) })
 *     .keyBy((c) => c.user).window(tumbling(10)).aggregate(count()).sink(collect(out));
 * }, { parallelism: 3, seed: 42 });
 */
export async function simulateParallel(build: (p: Pipeline) => void | Promise<void>, options: SimulateParallelOptions): Promise<RunSummary> {
  const where = 'tidemark.simulateParallel';
  if (typeof build !== 'function') throw new PlanError(`${where}: build must be a function (p: Pipeline) => void`);
  if (options === null || typeof options !== 'object') throw new PlanError(`${where}: options must be an object`);
  const n = options.parallelism;
  if (!Number.isInteger(n) || n < 1) throw new PlanError(`${where}: parallelism must be a positive integer, got ${String(n)}`);
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed)) throw new PlanError(`${where}: seed must be an integer, got ${String(seed)}`);
  const cp = options.checkpoints;
  const restart = options.restart === undefined ? undefined : backoff(options.restart, `${where}: restart`);
  const onEvent: PipelineEventListener = options.onEvent ?? (() => undefined);
  let pipelines: Pipeline[] = [];
  const stop = (): void => {
    for (const p of pipelines) p.stop(String(options.signal?.reason ?? 'requested'));
  };
  const make = async (checkpoints?: Parameters<typeof pipelineOf>[1]): Promise<Pipeline> => {
    const p = pipelineOf(options, checkpoints, onEvent);
    await build(p);
    return p;
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    if (n === 1) {
      const p = await make(cp === undefined ? undefined : { ...cp, restore: cp.restore ?? 'latest' });
      pipelines = [p];
      if (options.signal?.aborted === true) stop();
      return await p.run();
    }
    // Delays between attempts pass at once: the workers' clocks are manual.
    const clock = new ManualClock();
    return await runAttempts({
      store: cp?.store,
      restore: cp?.restore ?? 'latest',
      restart,
      clock: { now: () => clock.now(), schedule: (_at, callback) => {
        queueMicrotask(callback);
        return () => undefined;
      } },
      onEvent,
      stopped: () => options.signal?.aborted === true,
      attempt: async ({ restore, firstId }) => {
        const keyGroups = restoredKeyGroups(restore, options.keyGroups, where);
        if (restore !== undefined) onEvent({ type: 'restored', id: restore.id, checkpointType: restore.type, takenAt: restore.takenAt });
        const built: Pipeline[] = [];
        for (let i = 0; i < n; i++) built.push(await make());
        pipelines = built;
        if (options.signal?.aborted === true) stop();
        return runWorkersInThread(built, {
          keyGroups,
          random: seededRandom(seed),
          onEvent,
          ...(options.maxUnacked === undefined ? {} : { maxUnacked: options.maxUnacked }),
          ...(cp === undefined ? {} : {
            checkpoints: {
              store: cp.store,
              firstId,
              ...(restore === undefined ? {} : { restore }),
              ...(cp.everyRecords === undefined ? {} : { everyRecords: cp.everyRecords }),
              ...(cp.migrations === undefined ? {} : { migrations: cp.migrations }),
              ...(cp.allowNonRestoredState === undefined ? {} : { allowNonRestoredState: cp.allowNonRestoredState }),
            },
          }),
        });
      },
    });
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
}

/** One simulated worker's pipeline (with a manual clock), or the whole single-worker run's. */
function pipelineOf(
  options: SimulateParallelOptions,
  checkpoints: NonNullable<SimulateParallelOptions['checkpoints']> | undefined,
  onEvent: PipelineEventListener,
): Pipeline {
  return new Pipeline({
    clock: new ManualClock(),
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    ...(checkpoints === undefined ? {} : { checkpoints }),
    // The single-worker run restarts and reports itself; simulated workers leave both to the coordinator.
    ...(options.parallelism !== 1 || options.restart === undefined ? {} : { restart: options.restart }),
    ...(options.parallelism !== 1 ? {} : { onEvent }),
  });
}
