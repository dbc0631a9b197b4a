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

function mergeSources(name: string, parts: readonly SourceCheckpoint[]): SourceCheckpoint {
  if (parts.length === 1) return parts[0] as SourceCheckpoint;
  const positions = parts.map((p) => p.position).filter((p) => p !== undefined);
  if (!positions.every(isPlainObject)) {
    throw new CheckpointError(`checkpoint: the readers of partitioned source '${name}' saved positions that are not objects keyed by partition, so they cannot be merged`);
  }
  return {
    position: positions.length === 0 ? undefined : Object.assign({}, ...positions) as unknown,
    replayable: parts.every((p) => p.replayable),
    watermark: Math.min(...parts.map((p) => p.watermark)),
    partitions: parts.flatMap((p) => p.partitions),
    read: parts.reduce((n, p) => n + p.read, 0),
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
  for (const name of sourceNames) sources[name] = mergeSources(name, parts.flatMap((p) => (p.sources[name] === undefined ? [] : [p.sources[name]])));
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
    sources[name] = {
      ...saved,
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
 * sources with the watermarks of the partitions it reads (and the whole, merged position), and —
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
