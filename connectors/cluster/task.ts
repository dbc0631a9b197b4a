/**
 * One task of a multi-process run: the module's pipeline for one partition. It builds the plan
 * from the module (a fresh `Pipeline`), derives the task's copy (fenced sinks, partition guards),
 * opens the partition's own checkpoint lineage in the shared store — advancing the partition's
 * fence before reading anything — restores the latest checkpoint of that lineage, and runs with
 * every partitioned source reading only its partition. A lost lease or a refused (fenced) write
 * stops the task at once: no later checkpoint or commit of it can succeed.
 */
import type { CheckpointStore } from '../../engine/checkpoint.js';
import { PlanError } from '../../engine/errors.js';
import type { PipelineEventListener } from '../../engine/events.js';
import type { Plan } from '../../engine/plan.js';
import { Runtime } from '../../engine/runtime/runtime.js';
import type { FenceToken } from '../../engine/sink.js';
import { Pipeline } from '../../index.js';
import { postgresCheckpoints } from '../checkpoints/postgres-store.js';
import { FencedError } from '../postgres/fence.js';
import { taskPlan } from './task-plan.js';
import type { PartitionedModule, ResolvedCheckpoints } from './options.js';

/** Everything a task needs. */
export interface TaskConfig {
  readonly module: PartitionedModule;
  readonly args: unknown;
  readonly applicationId: string;
  readonly partition: number;
  readonly partitions: number;
  readonly keyGroups: number;
  /** The lease's fencing token. */
  readonly token: number;
  /** The lease TTL: how long a paused writer's open transaction may block a successor. */
  readonly holdMs: number;
  readonly checkpoints: ResolvedCheckpoints;
  readonly batchSize: number | undefined;
  /** False once this instance knows it lost the lease: every write is then refused locally. */
  readonly leaseHeld: () => boolean;
  readonly onEvent: PipelineEventListener | undefined;
  /** Called once a stage has restored (with the checkpoint id) or found no checkpoint (undefined). */
  readonly onRestored?: (lineage: string, checkpoint: number | undefined) => void;
  /**
   * Turns the module's plan into the plans this task runs (one per sub-topology) with the name
   * of each plan's checkpoint lineage; default: the plan itself, lineage `p<partition>`.
   */
  readonly stages?: StageSplitter | undefined;
}

/** Who runs a task: its partition, its lease's token, and whether the lease is still held. */
export interface TaskIdentity {
  readonly partition: number;
  readonly token: number;
  readonly leaseHeld: () => boolean;
}

/** Splits the module's plan into the sub-topologies a task runs. */
export type StageSplitter = (plan: Plan, task: TaskIdentity) => readonly TaskStage[];

/** One sub-topology of a task. */
export interface TaskStage {
  /** The lineage (and fence scope) suffix, e.g. `p3` or `byUser/p3`. */
  readonly lineage: string;
  readonly plan: Plan;
  /** keyBy nodes not to guard (they feed a repartition: their keys belong to other partitions). */
  readonly unguarded?: readonly string[];
}

/** How a task ended. */
export type TaskOutcome =
  | { readonly kind: 'finished' }
  | { readonly kind: 'stopped' }
  | { readonly kind: 'fenced'; readonly error: unknown }
  | { readonly kind: 'failed'; readonly error: unknown };

/** A running task (see the module comment). */
export class PartitionTask {
  /** Resolves when every stage has ended. */
  readonly done: Promise<TaskOutcome>;
  private readonly runtimes: Runtime[] = [];
  private stopReason: string | undefined;

  constructor(private readonly cfg: TaskConfig) {
    this.done = this.run();
  }

  /** Stops the task: sources stop, a final checkpoint is taken (unless the lease is lost), sinks close. */
  stop(reason: string): void {
    this.stopReason ??= reason;
    for (const r of this.runtimes) r.stop(reason);
  }

  private async run(): Promise<TaskOutcome> {
    const c = this.cfg;
    try {
      const p = new Pipeline(c.batchSize === undefined ? {} : { batchSize: c.batchSize });
      await c.module(p, c.args);
      const stages = c.stages?.(p.plan, { partition: c.partition, token: c.token, leaseHeld: c.leaseHeld }) ?? [{ lineage: `p${c.partition}`, plan: p.plan }];
      // The first stage to fail stops the others at once (the partition moves or restarts whole):
      // a live upstream must not keep running — renewing the lease — beside a dead downstream.
      let firstFailure: { error: unknown } | undefined;
      const results = await Promise.allSettled(stages.map(async (stage) => {
        try {
          const { runtime, store } = await this.prepare(stage, p);
          try {
            if (this.stopReason !== undefined) runtime.stop(this.stopReason);
            const summary = await runtime.run();
            return summary.stopped === undefined ? 'finished' : 'stopped';
          } finally {
            await store.close?.();
          }
        } catch (error) {
          if (firstFailure === undefined) {
            firstFailure = { error };
            this.stop(`stage '${stage.lineage}' of the task failed`);
          }
          throw error;
        }
      }));
      if (firstFailure !== undefined) {
        const error: unknown = firstFailure.error;
        return error instanceof FencedError || !c.leaseHeld() ? { kind: 'fenced', error } : { kind: 'failed', error };
      }
      return results.every((r) => r.status === 'fulfilled' && r.value === 'finished') ? { kind: 'finished' } : { kind: 'stopped' };
    } catch (error) {
      return error instanceof FencedError || !c.leaseHeld() ? { kind: 'fenced', error } : { kind: 'failed', error };
    }
  }

  /** Opens a stage's fenced checkpoint lineage, restores its latest checkpoint, and compiles it. */
  private async prepare(stage: TaskStage, p: Pipeline): Promise<{ runtime: Runtime; store: CheckpointStore }> {
    const c = this.cfg;
    const fence: FenceToken = { scope: `${c.applicationId}/${stage.lineage}`, token: c.token, holdMs: c.holdMs };
    const plan = taskPlan(stage.plan, { partition: c.partition, partitions: c.partitions, keyGroups: c.keyGroups, fence, unguarded: stage.unguarded ?? [] });
    const assigned = assignedShare(plan, c.partition, c.partitions);
    const store = leaseGuarded(postgresCheckpoints({ ...c.checkpoints.store, application: fence.scope, fence }), c.leaseHeld, fence);
    let restore: Awaited<ReturnType<CheckpointStore['latest']>>;
    let ids: number[];
    try {
      restore = await store.latest();
      ids = (await store.list()).map((i) => i.id);
    } catch (e) {
      await store.close?.();
      throw e;
    }
    let runtime: Runtime;
    try {
      runtime = new Runtime(plan, {
      clock: p.clock,
      batchSize: p.batchSize,
      firstCheckpointId: Math.max(0, restore?.id ?? 0, ...ids) + 1,
      checkpoints: {
        store,
        ...(c.checkpoints.intervalMs === undefined ? {} : { intervalMs: c.checkpoints.intervalMs }),
        ...(c.checkpoints.everyRecords === undefined ? {} : { everyRecords: c.checkpoints.everyRecords }),
      },
      ...(restore === undefined ? {} : { restore }),
      assignedPartitions: assigned,
      ...(c.onEvent === undefined ? {} : { onEvent: c.onEvent }),
      });
    } catch (e) {
      await store.close?.(); // (a plan the runtime refuses must not leak the store's pool)
      throw e;
    }
    this.runtimes.push(runtime);
    c.onRestored?.(stage.lineage, restore?.id);
    return { runtime, store };
  }
}

/**
 * The share of every source of a task's plan: partition `partition` of each. Every source must be
 * partitioned with exactly `partitions` partitions (an unpartitioned one would be read whole by
 * every task); otherwise a `PlanError` names it.
 */
export function assignedShare(plan: Plan, partition: number, partitions: number): Record<string, number[]> {
  const assigned: Record<string, number[]> = {};
  for (const node of plan.nodes) {
    const source = node.source?.source;
    if (source === undefined) continue;
    if (source.partitionCount !== partitions) {
      throw new PlanError(`tidemark.runPartitioned: source '${node.name}' (${source.kind}) ${source.partitionCount === undefined
        ? 'is not partitioned; every source of a partitioned run must be, e.g. fromJetStream({ partitions: n })'
        : `has ${source.partitionCount} partitions, but the run has ${partitions}`}`);
    }
    assigned[node.name] = [partition];
  }
  return assigned;
}

/** `store` refusing every write once `held()` turns false (the lease was lost). */
function leaseGuarded(store: CheckpointStore, held: () => boolean, fence: FenceToken): CheckpointStore {
  // A delegating object (not a prototype copy: a class store with #private fields must be called
  // on itself).
  const guarded: CheckpointStore = {
    kind: store.kind,
    encodeState: (state) => store.encodeState(state),
    ...(store.close === undefined ? {} : { close: () => (store.close as () => Promise<void>).call(store) }),
    latest: () => store.latest(),
    list: () => store.list(),
    load: (id) => store.load(id),
    write: (meta, state, sinks) => {
      if (!held()) {
        return Promise.reject(new FencedError(`checkpoint ${meta.id} of '${fence.scope}' was refused: this instance no longer holds the partition's lease (token ${fence.token})`, fence.scope, fence.token, fence.token));
      }
      return store.write(meta, state, sinks);
    },
  };
  return guarded;
}
