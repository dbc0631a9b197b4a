/**
 * The plan a multi-process task runs: a copy of the module's plan in which every sink sees the
 * task's fencing token (`SinkContext.fence`) and every keyBy is followed by a partition guard.
 * The module's own plan is left as it is.
 */
import type { OperatorFactory } from '../../engine/operator.js';
import { Plan, type PlanInput, type PlanNode } from '../../engine/plan.js';
import type { FenceToken, Sink, SinkContext } from '../../engine/sink.js';
import { partitionGuard } from './key-guard.js';

/** How to derive a task's plan. */
export interface TaskPlanOptions {
  readonly partition: number;
  readonly partitions: number;
  readonly keyGroups: number;
  readonly fence: FenceToken;
  /** keyBy nodes not followed by a guard (those feeding a repartition). */
  readonly unguarded?: readonly string[];
}

/** `sink` with `fence` added to the context it is opened with (everything else delegated). */
export function fencedSink(sink: Sink<unknown>, fence: FenceToken): Sink<unknown> {
  const wrapped = Object.create(sink) as Sink<unknown> & { open(ctx: SinkContext): void | Promise<void> };
  wrapped.open = (ctx: SinkContext) => sink.open?.call(sink, { ...ctx, fence });
  return wrapped;
}

/** A copy of `plan` for one task (see the module comment). */
export function taskPlan(plan: Plan, o: TaskPlanOptions): Plan {
  const out = new Plan();
  /** Original node → the node its consumers read (the guard, after a keyBy). */
  const mainOf = new Map<PlanNode, PlanNode>();
  const same = new Map<PlanNode, PlanNode>();
  const where = 'tidemark.runPartitioned';
  for (const node of plan.nodes) {
    const inputs: PlanInput[] = node.inputs.map((i) => ({ node: ((i.port === 'main' ? mainOf.get(i.node) : same.get(i.node)) ?? i.node), port: i.port }));
    const { id: _id, ...rest } = node;
    const copy = out.add({ ...rest, inputs, ...(node.sink === undefined ? {} : { sink: fencedSink(node.sink, o.fence) }) }, where);
    same.set(node, copy);
    mainOf.set(node, copy);
    if (node.kind === 'keyBy' && o.unguarded?.includes(node.name) !== true) {
      const guard = out.add({
        kind: 'partition-guard',
        name: `${node.name}:partition-guard`,
        inputs: [{ node: copy, port: 'main' }],
        factory: partitionGuard(node.name, o.partition, o.partitions, o.keyGroups) as OperatorFactory,
        onError: 'fail',
        ordering: node.ordering,
        ...(node.orderLost === undefined ? {} : { orderLost: node.orderLost }),
      }, where);
      mainOf.set(node, guard);
    }
  }
  return out;
}
