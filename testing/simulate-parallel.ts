/**
 * `simulateParallel`: a pipeline run as n parallel workers inside one thread — the same
 * placement, key-group exchange and watermark combination as `runParallel`'s worker threads, over
 * an in-memory network whose delivery order across channels is chosen by a seeded scheduler (FIFO
 * per channel). Fast and deterministic for one seed; many seeds explore many interleavings.
 */
import {
  type Checkpoint, type CheckpointStore, ManualClock, Pipeline, PlanError, type RunSummary, restoredKeyGroups, runWorkersInThread,
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
  readonly checkpoints?: { readonly store: CheckpointStore; readonly restore?: 'latest' | 'none' | number };
  /** Stops every worker when aborted (sources stop, a final checkpoint is taken, sinks close). */
  readonly signal?: AbortSignal;
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
  const make = async (checkpoints?: { readonly store: CheckpointStore; readonly restore: 'latest' | 'none' | number }): Promise<Pipeline> => {
    const p = new Pipeline({
      clock: new ManualClock(),
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      ...(checkpoints === undefined ? {} : { checkpoints }),
    });
    await build(p);
    return p;
  };
  const pipelines: Pipeline[] = [];
  const stop = (): void => {
    for (const p of pipelines) p.stop(String(options.signal?.reason ?? 'requested'));
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    if (n === 1) {
      const p = await make(cp === undefined ? undefined : { store: cp.store, restore: cp.restore ?? 'latest' });
      pipelines.push(p);
      if (options.signal?.aborted === true) stop();
      return await p.run();
    }
    let restore: Checkpoint | undefined;
    if (cp !== undefined && cp.restore !== 'none') restore = cp.restore === undefined || cp.restore === 'latest' ? await cp.store.latest() : await cp.store.load(cp.restore);
    const keyGroups = restoredKeyGroups(restore, options.keyGroups, where);
    for (let i = 0; i < n; i++) pipelines.push(await make());
    if (options.signal?.aborted === true) stop();
    return await runWorkersInThread(pipelines, {
      keyGroups,
      random: seededRandom(seed),
      ...(options.maxUnacked === undefined ? {} : { maxUnacked: options.maxUnacked }),
      ...(cp === undefined ? {} : { checkpoints: { store: cp.store, ...(restore === undefined ? {} : { restore }) } }),
    });
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
}
