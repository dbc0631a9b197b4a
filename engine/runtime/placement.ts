/**
 * Placement of a plan on parallel workers: which workers run each node, and how records cross
 * each edge — `local` (same worker, a direct call), `hash` (to the worker that owns the record's
 * key group) or `gather` (to worker 0). Every worker builds the same plan and computes the same
 * placement, so edges are numbered identically everywhere. With one worker every edge is local.
 */
import { isKeyGroupSplittable } from '../key-group-state.js';
import type { Distribution, Plan, PlanNode, Port } from '../plan.js';

/** How records cross an edge between workers. */
export type ExchangeKind = 'local' | 'hash' | 'gather' | 'broadcast';

/** One logical input of a node: where it comes from and how it is exchanged. */
export interface PlacedEdge {
  /** Numbered in plan order over all nodes' inputs: the same on every worker. */
  readonly id: number;
  readonly from: PlanNode;
  readonly port: Port;
  readonly to: PlanNode;
  /** The logical input number of `to`. */
  readonly input: number;
  readonly exchange: ExchangeKind;
}

/** Where one node runs. */
export interface NodePlacement {
  readonly node: PlanNode;
  readonly distribution: Distribution;
  /** The workers running an instance of the node (ascending). */
  readonly workers: readonly number[];
  /** The node's logical inputs, in input order. */
  readonly inputs: readonly PlacedEdge[];
}

/** The placement of a whole plan. */
export interface Placement {
  readonly workers: number;
  readonly nodes: ReadonlyMap<PlanNode, NodePlacement>;
  readonly edges: readonly PlacedEdge[];
}

/**
 * The logical inputs of every node: its declared inputs, or — for a dead-letter collector —
 * the dead-letter port of every node not downstream of a collector (no cycles).
 */
export function logicalInputs(plan: Plan): Map<PlanNode, { node: PlanNode; port: Port; broadcast?: boolean }[]> {
  const downstreamOfCollector = new Set<PlanNode>();
  for (const node of plan.nodes) {
    if (node.collectsAllDeadLetters === true || node.inputs.some((i) => downstreamOfCollector.has(i.node))) downstreamOfCollector.add(node);
  }
  const eligible = plan.nodes.filter((n) => !downstreamOfCollector.has(n));
  const out = new Map<PlanNode, { node: PlanNode; port: Port; broadcast?: boolean }[]>();
  for (const node of plan.nodes) {
    out.set(node, node.collectsAllDeadLetters === true ? eligible.map((n) => ({ node: n, port: 'dead' as const })) : node.inputs.map((i) => ({ ...i })));
  }
  return out;
}

/**
 * Places `plan` on `workers` workers. Sources run on every worker when they are partitioned
 * (`Source.partitionCount`), else on worker 0; `forward` nodes run where their inputs run; `keyed`
 * nodes whose state splits by key group (`isKeyGroupSplittable`) on every worker; everything else
 * (`single`, or no distribution) on worker 0.
 *
 * @example
 * const placement = placePlan(pipeline.plan, 2);
 * placement.nodes.get(windowNode)?.workers; // [0, 1]
 */
export function placePlan(plan: Plan, workers: number): Placement {
  const all = Array.from({ length: workers }, (_, i) => i);
  const inputs = logicalInputs(plan);
  // Where each node runs (a forward node's inputs precede it; a collector runs on worker 0).
  const placed = new Map<PlanNode, { distribution: Distribution; on: number[] }>();
  for (const node of plan.nodes) {
    let distribution: Distribution;
    let on: number[];
    if (node.source !== undefined) {
      // A partitioned source runs on every worker (each reads its partitions).
      const partitioned = node.source.source.partitionCount !== undefined;
      distribution = partitioned ? 'keyed' : 'single';
      on = partitioned ? all : [0];
    } else {
      distribution = node.collectsAllDeadLetters === true ? 'single' : node.distribution ?? 'single';
      // Keyed only if the operator's state splits by key group (else a checkpoint could not move it).
      if (distribution === 'keyed' && node.factory !== undefined && !isKeyGroupSplittable(node.factory)) distribution = 'single';
      if (distribution === 'forward') {
        const set = new Set<number>();
        for (const i of node.inputs) for (const w of (placed.get(i.node) as { on: number[] }).on) set.add(w);
        on = [...set].sort((a, b) => a - b);
      } else {
        on = distribution === 'keyed' ? all : [0];
      }
    }
    placed.set(node, { distribution, on });
  }
  const nodes = new Map<PlanNode, NodePlacement>();
  const edges: PlacedEdge[] = [];
  for (const node of plan.nodes) {
    const { distribution, on } = placed.get(node) as { distribution: Distribution; on: number[] };
    const edgesIn: PlacedEdge[] = (inputs.get(node) ?? []).map((i, input) => {
      const src = (placed.get(i.node) as { on: number[] }).on;
      const exchange: ExchangeKind = workers === 1 || distribution === 'forward'
        ? 'local'
        : distribution === 'keyed'
          ? i.broadcast === true ? 'broadcast' : 'hash'
          : src.length === 1 && src[0] === 0 ? 'local' : 'gather';
      const edge: PlacedEdge = { id: edges.length, from: i.node, port: i.port, to: node, input, exchange };
      edges.push(edge);
      return edge;
    });
    nodes.set(node, { node, distribution, workers: on, inputs: edgesIn });
  }
  return { workers, nodes, edges };
}

/**
 * The workers that send records over `edge` to an instance of its target on `worker`: the local
 * instance of the source node (if any) for a local edge, every instance of it otherwise.
 */
export function sendersOf(placement: Placement, edge: PlacedEdge, worker: number): readonly number[] {
  const from = (placement.nodes.get(edge.from) as NodePlacement).workers;
  if (edge.exchange !== 'local') return from;
  return from.includes(worker) ? [worker] : [];
}
