/**
 * The logical plan: the graph the fluent API builds. Nodes are appended in creation order, which
 * is a topological order (a node can only consume nodes that already exist). The plan holds
 * descriptions only; `compile` turns it into running operators.
 */
import { PlanError } from './errors.js';
import type { OnError, OperatorFactory } from './operator.js';
import type { Sink } from './sink.js';
import type { Source } from './source.js';
import type { WatermarkStrategy } from './watermark.js';

/**
 * The order a stream guarantees: every record in arrival order (`total`), per key, per source
 * partition, or `none`.
 */
export type Ordering = 'total' | 'per-key' | 'per-partition' | 'none';

/** An output port of a node: main output, late records, dead letters, or a named side output. */
export type Port = 'main' | 'late' | 'dead' | `side:${string}`;

/** An edge into a node: which node and which of its ports. */
export interface PlanInput {
  readonly node: PlanNode;
  readonly port: Port;
  /** Into a `keyed` node on parallel workers: every instance receives every record (a broadcast input). */
  readonly broadcast?: boolean;
}

/**
 * Where a node runs when a pipeline runs on several workers (see `placePlan`):
 * - `forward`: stateless, runs wherever its input records are (map, filter, flatMap, keyBy, union);
 * - `keyed`: one instance on every worker, each owning the key groups `g ≡ worker (mod workers)`;
 *   its inputs are keyed streams, exchanged by key group;
 * - `single`: one instance, on worker 0 (sinks, non-keyed stateful operators, custom operators).
 * Nodes without one (custom code) are `single`: never parallelised by guesswork.
 */
export type Distribution = 'forward' | 'keyed' | 'single';

/** Options of a source node, already validated and converted. */
export interface SourceSpec {
  readonly source: Source<unknown>;
  readonly timestamp: ((record: unknown) => number) | undefined;
  readonly watermark: WatermarkStrategy<unknown> | undefined;
  /** Milliseconds a timestamp may run ahead of the real-time clock; `undefined` = off. */
  readonly maxFutureSkew: number | undefined;
  /** Apply the guard with any clock (it was configured), not only with a real-time one. */
  readonly maxFutureSkewAlways?: boolean;
  /** Watermark alignment: the group and the largest drift ahead of its slowest source. */
  readonly alignment?: { readonly group: string; readonly maxDrift: number };
}

/** One node of the plan. */
export interface PlanNode {
  readonly id: number;
  readonly name: string;
  readonly kind: string;
  readonly inputs: readonly PlanInput[];
  readonly factory?: OperatorFactory;
  readonly source?: SourceSpec;
  readonly sink?: Sink<unknown>;
  readonly onError: OnError;
  /** The order of this node's main output. */
  readonly ordering: Ordering;
  /** Why the order is weaker than its source's (for error messages). */
  readonly orderLost?: string;
  /** The main output carries retractions (a retracting window, or derived from one). */
  readonly emitsRetractions?: boolean;
  /** `pipeline-dead-letters` nodes collect every dead letter of the plan. */
  readonly collectsAllDeadLetters?: boolean;
  /** Where the node runs with parallel workers (default `single`; sources: see `Source.partitionCount`). */
  readonly distribution?: Distribution;
}

/** A plan under construction. */
export class Plan {
  readonly nodes: PlanNode[] = [];
  private readonly names = new Set<string>();
  private nextId = 0;

  /** Adds a node; `name` must be unique in the plan. */
  add(node: Omit<PlanNode, 'id' | 'name'> & { name?: string | undefined }, where: string): PlanNode {
    const id = this.nextId++;
    let name = node.name;
    if (name !== undefined) {
      if (typeof name !== 'string' || name.length === 0) throw new PlanError(`${where}: name must be a non-empty string`);
      if (this.names.has(name)) throw new PlanError(`${where}: the name '${name}' is already used in this pipeline; names must be unique`);
    } else {
      name = `${node.kind}#${id}`;
      while (this.names.has(name)) name = `${name}'`;
    }
    this.names.add(name);
    const full: PlanNode = { ...node, id, name };
    this.nodes.push(full);
    return full;
  }

  /** A readable path from the sources to `node`, e.g. `clicks → filter#1 → count 'perUser'`. */
  position(node: PlanNode): string {
    if (node.inputs.length === 0) return node.name;
    if (node.inputs.length === 1) return `${this.position((node.inputs[0] as PlanInput).node)} → ${node.name}`;
    return `(${node.inputs.map((i) => this.position(i.node)).join(' | ')}) → ${node.name}`;
  }
}
