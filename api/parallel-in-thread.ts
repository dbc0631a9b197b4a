/**
 * Parallel workers simulated in one thread: n pipelines (each built like a worker builds its
 * module) run side by side with the same placement, exchange and checkpoint code as worker
 * threads, over an in-memory network whose delivery order across channels comes from a seeded
 * random function. The testing kit's `simulateParallel` is built on it.
 */
import type { Checkpoint, CheckpointStore, StateMigration } from '../engine/checkpoint.js';
import type { PipelineEventListener } from '../engine/events.js';
import { migrateCheckpoint, planLayout } from '../engine/runtime/parallel-migration.js';
import { workerShares } from '../engine/runtime/parallel-checkpoint.js';
import { placePlan } from '../engine/runtime/placement.js';
import { AlignmentRelay } from '../engine/runtime/alignment-relay.js';
import { PlanError } from '../engine/errors.js';
import { checkKeyGroups } from '../engine/key-groups.js';
import { CheckpointCoordinator, type CheckpointWorker } from '../engine/runtime/checkpoint-coordinator.js';
import { MemoryNetwork } from '../engine/runtime/memory-transport.js';
import { mergeSummaries } from '../engine/runtime/summary-merge.js';
import type { RunSummary } from '../engine/runtime/summary.js';
import type { WorkerCheckpoint } from '../engine/runtime/worker-checkpoint.js';
import type { Pipeline } from './pipeline.js';

/** Options of `runWorkersInThread`. */
export interface InThreadParallelOptions {
  /** Key groups (a power of two ≥ the number of pipelines). */
  readonly keyGroups: number;
  /** Chooses the delivery order across channels (e.g. a seeded generator). */
  readonly random: () => number;
  /** Records a worker may send to another before its sources wait (default 32768). */
  readonly maxUnacked?: number;
  /**
   * Checkpoints: the run restores `restore` (migrated by `migrations`, state the plan lacks dropped
   * with `allowNonRestoredState`; each worker gets its share, split in one pass) and, at its end or
   * when it is stopped, the coordinator takes a final checkpoint into `store` — and one whenever a
   * worker has read `everyRecords` records since the last. Checkpoint ids start at `firstId`
   * (default: after every id in the store).
   */
  readonly checkpoints?: {
    readonly store: CheckpointStore;
    readonly restore?: Checkpoint;
    readonly firstId?: number;
    readonly everyRecords?: number;
    readonly migrations?: Readonly<Record<string, StateMigration>>;
    readonly allowNonRestoredState?: boolean;
  };
  /** Receives the coordinator's checkpoint events. */
  readonly onEvent?: PipelineEventListener;
}

/** A worker's checkpoint operations, called directly (same thread). */
function direct(get: () => WorkerCheckpoint | undefined): CheckpointWorker {
  const cp = (): WorkerCheckpoint => {
    const c = get();
    if (c === undefined) throw new PlanError('tidemark.simulateParallel: a worker has no running pipeline');
    return c;
  };
  return {
    pause: () => cp().pause(),
    counters: () => Promise.resolve(cp().counters()),
    capture: (expected) => cp().capture(expected),
    captureFinal: (id, expected, parts) => cp().captureFinal(id, expected, parts),
    commit: (id, handles) => cp().commit(id, handles),
    resume: () => Promise.resolve(cp().resume()),
  };
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
  const cp = options.checkpoints;
  const plan = (pipelines[0] as Pipeline).plan;
  const saved = cp?.restore;
  const restore = saved === undefined ? undefined : migrateCheckpoint(saved, planLayout(plan), cp?.migrations ?? {}, cp?.allowNonRestoredState === true);
  const shares = restore === undefined ? undefined : workerShares(plan, placePlan(plan, n), restore, keyGroups);
  const firstId = cp === undefined ? 1 : cp.firstId ?? Math.max(0, restore?.id ?? 0, ...(await cp.store.list()).map((c) => c.id)) + 1;
  const checkpoints: (WorkerCheckpoint | undefined)[] = new Array<WorkerCheckpoint | undefined>(n).fill(undefined);
  const coordinator = new CheckpointCoordinator(
    checkpoints.map((_, i) => direct(() => checkpoints[i])),
    cp?.store,
    (pipelines[0] as Pipeline).clock,
    firstId,
    () => new Promise<void>((resolve) => queueMicrotask(resolve)),
    options.onEvent,
  );
  const every = cp?.everyRecords;
  // Alignment groups across the workers: reports reach the others at once (one thread).
  const remotes: (((group: string, minimum: number) => void) | undefined)[] = new Array(n).fill(undefined);
  const relay = new AlignmentRelay(n, (to, group, minimum) => remotes[to]?.(group, minimum));
  // Every worker waits at its end for the others, then for the coordinator's final cut.
  const waiting: ((coordinated: boolean) => void)[] = [];
  let finalCut: Promise<unknown> | undefined;
  const finish = (): Promise<boolean> => new Promise<boolean>((resolve, reject) => {
    waiting.push(resolve);
    if (waiting.length < n) return;
    finalCut = coordinator.take('checkpoint').then(() => {
      for (const w of waiting) w(cp !== undefined);
    }, reject);
  });
  let failed = false;
  const runs = pipelines.map((p, worker) =>
    p.runPart({
      worker,
      workers: n,
      keyGroups,
      transport: network.transport(worker),
      ...(options.maxUnacked === undefined ? {} : { maxUnacked: options.maxUnacked }),
      restoresShare: true,
      alignment: {
        report: (group, minimum) => relay.report(worker, group, minimum),
        attach: (setRemote) => {
          remotes[worker] = setRemote;
          relay.catchUp(worker);
        },
      },
      coordinated: {
        attach: (c) => {
          checkpoints[worker] = c;
        },
        finish,
        checkpointing: cp !== undefined,
        ...(every === undefined ? {} : { everyRecords: { records: every, request: () => coordinator.request() } }),
      },
    }, shares?.[worker]).catch((error: unknown) => {
      if (!failed) {
        failed = true;
        for (const other of pipelines) if (other !== p) other.abortPart(error);
        // Workers already waiting for the final cut go on (and fail with the error).
        for (const w of waiting) w(true);
      }
      throw error;
    }));
  const settled = await Promise.allSettled(runs);
  await finalCut?.catch(() => undefined);
  const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected !== undefined) throw rejected.reason;
  const summary = mergeSummaries(settled.map((r) => (r as PromiseFulfilledResult<RunSummary>).value));
  if (cp !== undefined) summary.checkpoints = { ...coordinator.summary, ...(restore === undefined ? {} : { restoredFrom: restore.id }) };
  return summary;
}
