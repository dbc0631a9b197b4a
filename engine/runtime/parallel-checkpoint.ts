/**
 * Checkpoints of parallel runs are ordinary checkpoints: the workers' states at one consistent cut
 * are merged into the state one worker would have had (`mergeWorkerStates`), and each worker of a
 * restored run — with any number of workers, one included — takes its share of it back
 * (`workerShare`): the keyed operators' rows of the key groups it owns, the positions and
 * watermarks of the source partitions it reads, everything else on worker 0.
 */
import type { Checkpoint, CheckpointState, NodeWatermarks, OperatorCheckpoint, SourceCheckpoint } from '../checkpoint.js';
import { CheckpointError } from '../errors.js';
import { filterOperatorSnapshot, mergeOperatorSnapshots, splitOperatorSnapshot } from '../key-group-state.js';
import { keyGroupOf } from '../key-groups.js';
import type { Key } from '../keys.js';
import type { Plan, PlanNode } from '../plan.js';
import type { Placement } from './placement.js';

/** One worker's state at a cut: node watermarks per physical input, with each one's logical input. */
export interface WorkerState extends CheckpointState {
  /** For nodes whose physical inputs differ from their logical ones: the logical input of each. */
  readonly inputOf: Readonly<Record<string, readonly number[]>>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** True when the position key `key` names a partition that worker `worker` of `workers` reads. */
function readsPartition(key: string, worker: number, workers: number): boolean {
  const p = Number(key);
  return !Number.isInteger(p) || p < 0 || p % workers === worker;
}

/**
 * One partitioned source's saved state from the workers that read it (`parts[i].worker`): each
 * partition's position entry comes from the worker that reads the partition (another worker's
 * entry for it, restored but never advanced there, is stale), other keys from any worker.
 */
function mergeSources(name: string, parts: readonly { readonly worker: number; readonly saved: SourceCheckpoint }[], workers: number): SourceCheckpoint {
  if (parts.length === 1) return (parts[0] as { saved: SourceCheckpoint }).saved;
  const positions = parts.filter((p) => p.saved.position !== undefined);
  if (!positions.every((p) => isPlainObject(p.saved.position))) {
    throw new CheckpointError(`checkpoint: the readers of partitioned source '${name}' saved positions that are not objects keyed by partition, so they cannot be merged`);
  }
  const position: Record<string, unknown> = {};
  // Keys that are not partitions first (any worker's), then every partition's from its reader.
  for (const { saved } of positions) {
    for (const [k, v] of Object.entries(saved.position as Record<string, unknown>)) if (!(k in position)) position[k] = v;
  }
  for (const { worker, saved } of positions) {
    for (const [k, v] of Object.entries(saved.position as Record<string, unknown>)) if (readsPartition(k, worker, workers)) position[k] = v;
  }
  const all = parts.map((p) => p.saved);
  return {
    position: positions.length === 0 ? undefined : position,
    replayable: all.every((p) => p.replayable),
    watermark: Math.min(...all.map((p) => p.watermark)),
    partitions: all.flatMap((p) => p.partitions),
    read: all.reduce((n, p) => n + p.read, 0),
  };
}

/**
 * The checkpoint state of a parallel run from its workers' states (taken at one consistent cut):
 * shaped as if one worker had run everything, with `keyGroups` recorded.
 *
 * @example
 * const state = mergeWorkerStates(plan, placePlan(plan, 2), [s0, s1], 128);
 */
export function mergeWorkerStates(plan: Plan, placement: Placement, parts: readonly WorkerState[], keyGroups: number): CheckpointState {
  const byName = new Map(plan.nodes.map((n) => [n.name, n]));
  const sources: Record<string, SourceCheckpoint> = {};
  const sourceNames = new Set(parts.flatMap((p) => Object.keys(p.sources)));
  for (const name of sourceNames) {
    const saved = parts.flatMap((p, worker) => (p.sources[name] === undefined ? [] : [{ worker, saved: p.sources[name] }]));
    sources[name] = mergeSources(name, saved, parts.length);
  }
  const operators: Record<string, OperatorCheckpoint> = {};
  const operatorNames = new Set(parts.flatMap((p) => Object.keys(p.operators)));
  for (const name of operatorNames) {
    const saved = parts.flatMap((p) => (p.operators[name] === undefined ? [] : [p.operators[name]]));
    const first = saved[0] as OperatorCheckpoint;
    const factory = byName.get(name)?.factory;
    if (saved.length === 1 || factory === undefined) {
      operators[name] = first;
      continue;
    }
    operators[name] = { ...first, state: mergeOperatorSnapshots(factory, name, saved.map((s) => s.state)) };
  }
  const watermarks: Record<string, NodeWatermarks> = {};
  for (const node of plan.nodes) {
    const marks = parts.flatMap((p) => {
      const m = p.watermarks?.[node.name];
      return m === undefined ? [] : [{ m, inputOf: p.inputOf[node.name] }];
    });
    if (marks.length === 0) continue;
    const logical = Math.max(1, placement.nodes.get(node)?.inputs.length ?? 1);
    const inputs = new Array<number>(logical).fill(Infinity);
    for (const { m, inputOf } of marks) {
      m.inputs.forEach((w, j) => {
        const i = inputOf === undefined ? j : (inputOf[j] as number);
        if (w < (inputs[i] as number)) inputs[i] = w;
      });
    }
    watermarks[node.name] = {
      inputs,
      input: Math.min(...marks.map(({ m }) => m.input)),
      output: Math.min(...marks.map(({ m }) => m.output)),
    };
  }
  return { sources, operators, watermarks, keyGroups };
}

/** True when `node` runs on every worker, each with its key groups. */
function isKeyedPlaced(placement: Placement, node: PlanNode | undefined): boolean {
  return node !== undefined && node.source === undefined && placement.workers > 1 && placement.nodes.get(node)?.distribution === 'keyed';
}

/** The saved state of a keyed-placed operator cut for one worker. */
type Cut = (name: string, factory: NonNullable<PlanNode['factory']>, state: unknown, worker: number) => unknown;

function shareOf(plan: Plan, placement: Placement, checkpoint: Checkpoint, worker: number, cut: Cut): Checkpoint {
  const workers = placement.workers;
  const byName = new Map(plan.nodes.map((n) => [n.name, n]));
  const sources: Record<string, SourceCheckpoint> = {};
  for (const [name, saved] of Object.entries(checkpoint.sources)) {
    const count = byName.get(name)?.source?.source.partitionCount;
    if (count === undefined || workers === 1) {
      if (worker === 0) sources[name] = saved;
      continue;
    }
    const partitions = saved.partitions.filter(([p]) => p % workers === worker);
    // Only the position entries of the partitions this worker reads (the merge takes each from its reader).
    const position = isPlainObject(saved.position)
      ? Object.fromEntries(Object.entries(saved.position).filter(([k]) => readsPartition(k, worker, workers)))
      : saved.position;
    sources[name] = {
      ...saved,
      position,
      partitions,
      watermark: partitions.length === 0 ? saved.watermark : Math.min(...partitions.map(([, w]) => w)),
      // The count continues on worker 0; the summary sums the workers'.
      read: worker === 0 ? saved.read : 0,
    };
  }
  const operators: Record<string, OperatorCheckpoint> = {};
  for (const [name, saved] of Object.entries(checkpoint.operators)) {
    const node = byName.get(name);
    if (isKeyedPlaced(placement, node)) {
      operators[name] = { ...saved, state: cut(name, node?.factory as NonNullable<PlanNode['factory']>, saved.state, worker) };
    } else if (worker === 0) {
      operators[name] = saved;
    }
  }
  const { sources: _s, operators: _o, sinks, ...rest } = checkpoint;
  return { ...rest, sources, operators, sinks: worker === 0 ? sinks : {} };
}

/**
 * What worker `worker` of a parallel run restores from `checkpoint` (written with any number of
 * workers): keyed operators cut to the key groups it owns (`g mod workers = worker`), partitioned
 * sources with the watermarks and position entries of the partitions it reads, and —
 * on worker 0 only — everything that runs there: other operators, unpartitioned sources, sinks.
 * A worker thread takes its own share (one filtering pass, in parallel with the others).
 *
 * @example
 * const mine = workerShare(plan, placePlan(plan, 3), checkpoint, 1, 128);
 */
export function workerShare(plan: Plan, placement: Placement, checkpoint: Checkpoint, worker: number, keyGroups: number): Checkpoint {
  const workers = placement.workers;
  const owns = (key: Key): boolean => keyGroupOf(key, keyGroups) % workers === worker;
  return shareOf(plan, placement, checkpoint, worker, (name, factory, state) => filterOperatorSnapshot(factory, name, state, owns));
}

/**
 * Every worker's share of `checkpoint` (as `workerShare` gives each), with each keyed operator's
 * state split for all workers in one pass (`splitOperatorSnapshot`): what a runner that restores
 * all workers in one thread uses.
 *
 * @example
 * const [s0, s1, s2] = workerShares(plan, placePlan(plan, 3), checkpoint, 128);
 */
export function workerShares(plan: Plan, placement: Placement, checkpoint: Checkpoint, keyGroups: number): Checkpoint[] {
  const workers = placement.workers;
  const split = new Map<string, unknown[]>();
  const partOf = (key: Key): number => keyGroupOf(key, keyGroups) % workers;
  const cut: Cut = (name, factory, state, worker) => {
    let parts = split.get(name);
    if (parts === undefined) {
      parts = splitOperatorSnapshot(factory, name, state, workers, partOf);
      split.set(name, parts);
    }
    return parts[worker];
  };
  return Array.from({ length: workers }, (_, w) => shareOf(plan, placement, checkpoint, w, cut));
}
