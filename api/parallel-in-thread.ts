/**
 * Parallel workers simulated in one thread: n pipelines (each built like a worker builds its
 * module) run side by side with the same placement and exchange code as worker threads, over an
 * in-memory network whose delivery order across channels comes from a seeded random function.
 * The testing kit's `simulateParallel` is built on it.
 */
import { PlanError } from '../engine/errors.js';
import { checkKeyGroups } from '../engine/key-groups.js';
import { MemoryNetwork } from '../engine/runtime/memory-transport.js';
import { mergeSummaries } from '../engine/runtime/summary-merge.js';
import type { RunSummary } from '../engine/runtime/summary.js';
import type { Pipeline } from './pipeline.js';

/** Options of `runWorkersInThread`. */
export interface InThreadParallelOptions {
  /** Key groups (a power of two ≥ the number of pipelines). */
  readonly keyGroups: number;
  /** Chooses the delivery order across channels (e.g. a seeded generator). */
  readonly random: () => number;
  /** Records a worker may send to another before its sources wait (default 65536). */
  readonly maxUnacked?: number;
}

/**
 * @internal Runs `pipelines` (one per worker, built identically) as one parallel run in this
 * thread; resolves with the combined summary, or rejects with the first worker's error (the
 * others are stopped).
 *
 * @example
 * const summary = await runWorkersInThread([p0, p1], { keyGroups: 128, random: seededRandom(7) });
 */
export async function runWorkersInThread(pipelines: readonly Pipeline[], options: InThreadParallelOptions): Promise<RunSummary> {
  const where = 'tidemark.simulateParallel';
  const n = pipelines.length;
  if (n < 1) throw new PlanError(`${where}: needs at least one pipeline`);
  const keyGroups = checkKeyGroups(options.keyGroups, where);
  if (keyGroups < n) throw new PlanError(`${where}: keyGroups (${keyGroups}) must be ≥ parallelism (${n})`);
  const network = new MemoryNetwork(n, options.random);
  let failed = false;
  const runs = pipelines.map((p, worker) =>
    p.runPart({ worker, workers: n, keyGroups, transport: network.transport(worker), ...(options.maxUnacked === undefined ? {} : { maxUnacked: options.maxUnacked }) })
      .catch((error: unknown) => {
        if (!failed) {
          failed = true;
          for (const other of pipelines) if (other !== p) other.stop('another worker failed');
        }
        throw error;
      }));
  const settled = await Promise.allSettled(runs);
  const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected !== undefined) throw rejected.reason;
  return mergeSummaries(settled.map((r) => (r as PromiseFulfilledResult<RunSummary>).value));
}
