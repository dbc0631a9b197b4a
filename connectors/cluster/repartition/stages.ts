/**
 * Sub-topologies of a partitioned application. Every keyBy named in `repartition` cuts the
 * module's plan in two: upstream, the keyBy is followed by the hand-off (`out.ts`) and a publisher
 * (`sink.ts`) into the repartition stream `<applicationId>-repartition-<keyBy>`, partitioned by the
 * new key; downstream starts with a reader of that stream (`source.ts`) followed by the same keyBy
 * and the rest of the plan. A task of partition `p` runs every sub-topology for `p` — upstream
 * reading source partition `p`, downstream reading repartition partition `p` — each with its own
 * checkpoint lineage (`p<p>`, `<keyBy>/p<p>`). Dead-letter collectors appear in every
 * sub-topology (each collects its own). A node that combines streams of two sub-topologies is
 * refused, and so is a cut whose upstream is not deterministic — more than one source, or any
 * step other than map, filter, flatMap and keyBy (windows, joins, process functions: their output
 * may depend on timing, so a replay could hand over different records under the same counters).
 */
import { RetentionPolicy, StorageType, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { PlanError } from '../../../engine/errors.js';
import { Plan, type PlanInput, type PlanNode } from '../../../engine/plan.js';
import type { Sink } from '../../../engine/sink.js';
import type { ResolvedOptions } from '../options.js';
import { WHERE } from '../options.js';
import type { StageSplitter, TaskIdentity, TaskStage } from '../task.js';
import { repartitionStream } from './messages.js';
import { repartitionOut } from './out.js';
import { repartitionSink } from './sink.js';
import { repartitionSource } from './source.js';

/** The root sub-topology (the one with the application's sources). */
const ROOT = '';
/** Nodes present in every sub-topology (dead-letter collectors and what follows them). */
const EVERY = '*';

/**
 * Creates the repartition streams (if missing) and returns how a task splits the module's plan;
 * `undefined` when nothing is repartitioned.
 */
export async function prepareRepartition(nc: NatsConnection, o: ResolvedOptions): Promise<StageSplitter | undefined> {
  if (o.repartition.length === 0) return undefined;
  const jsm = await jetstreamManager(nc);
  for (const name of o.repartition) {
    const stream = repartitionStream(o.applicationId, name);
    const config = {
      name: stream, subjects: [`${stream}.*`], retention: RetentionPolicy.Limits, storage: StorageType.File,
      duplicate_window: o.duplicateWindowMs * 1_000_000,
    };
    try {
      const info = await jsm.streams.info(stream);
      // (the window only saves storage now — the readers de-duplicate — but keep it as configured)
      if (info.config.duplicate_window !== config.duplicate_window) {
        await jsm.streams.update(stream, { ...info.config, duplicate_window: config.duplicate_window });
      }
    } catch {
      await jsm.streams.add(config).catch(async (e: unknown) => {
        // another instance created it meanwhile
        await jsm.streams.info(stream).catch(() => {
          throw e;
        });
      });
    }
  }
  return (plan, task) => splitStages(plan, task, o);
}

/** Steps whose output is a function of their input alone (allowed upstream of a cut). */
const DETERMINISTIC = new Set(['source', 'map', 'filter', 'flatMap', 'keyBy', 'tap']);

/**
 * Refuses a cut whose upstream could emit a different sequence on a replay: the counters of the
 * hand-off identify records by position, so the upstream must be one source read in order and
 * stateless, timing-independent steps.
 */
function checkDeterministic(cut: PlanNode, cuts: ReadonlyMap<string, PlanNode>): void {
  const sources: string[] = [];
  let bad: PlanNode | undefined;
  const seen = new Set<PlanNode>();
  const visit = (node: PlanNode): void => {
    if (seen.has(node)) return;
    seen.add(node);
    if (node !== cut && cuts.get(node.name) === node) {
      sources.push(`repartition '${node.name}'`); // (an earlier cut: read from its own stream)
      return;
    }
    if (node !== cut && !DETERMINISTIC.has(node.kind)) bad ??= node;
    if (node.source !== undefined) sources.push(node.name);
    for (const i of node.inputs) visit(i.node);
  };
  visit(cut);
  if (sources.length > 1) {
    throw new PlanError(`${WHERE}: repartition '${cut.name}' reads ${sources.length} sources (${sources.join(', ')}); the order of a union depends on timing, so a replay would hand over different records. Repartition each source separately, or combine them after the repartition`);
  }
  if (bad !== undefined) {
    throw new PlanError(`${WHERE}: repartition '${cut.name}' needs a deterministic upstream (one source, then only map, filter, flatMap or keyBy), but '${bad.name}' (${bad.kind}) comes before it: its output may depend on timing, and a replay would hand over different records. Move it after the repartition`);
  }
}

/** The sub-topologies of `plan` for `task` (see the module comment). */
export function splitStages(plan: Plan, task: TaskIdentity, o: Pick<ResolvedOptions, 'applicationId' | 'repartition' | 'partitions' | 'keyGroups' | 'nats' | 'natsOptions'>): TaskStage[] {
  const cuts = new Map<string, PlanNode>();
  for (const name of o.repartition) {
    const node = plan.nodes.find((n) => n.name === name);
    if (node === undefined || node.kind !== 'keyBy') {
      throw new PlanError(`${WHERE}: repartition names '${name}', which is not a keyBy of the pipeline (name it with keyBy(fn, { name: '${name}' }))`);
    }
    cuts.set(name, node);
  }
  for (const cut of cuts.values()) checkDeterministic(cut, cuts);
  const partition = task.partition;
  // The sub-topology of every node.
  const stageOf = new Map<PlanNode, string>();
  for (const node of plan.nodes) {
    if (cuts.has(node.name)) {
      stageOf.set(node, node.name);
      continue;
    }
    if (node.source !== undefined) {
      stageOf.set(node, ROOT);
      continue;
    }
    const stages = new Set(node.inputs.map((i) => stageOf.get(i.node) as string));
    if (stages.size === 0) {
      stageOf.set(node, EVERY);
      continue;
    }
    stages.delete(EVERY);
    if (stages.size > 1) {
      const names = [...stages].map((s) => (s === ROOT ? 'the sources' : `keyBy '${s}'`));
      throw new PlanError(`${WHERE}: '${node.name}' combines streams of different sub-topologies (after ${names.join(' and ')}); a node can only read streams cut by the same repartition`);
    }
    stageOf.set(node, stages.size === 0 ? EVERY : ([...stages][0] as string));
  }

  const build = (stage: string): TaskStage => {
    const out = new Plan();
    const copies = new Map<PlanNode, PlanNode>();
    const input = (i: PlanInput): PlanInput => ({ node: copies.get(i.node) as PlanNode, port: i.port });
    const copy = (node: PlanNode, inputs: readonly PlanInput[]): PlanNode => {
      const { id: _id, ...rest } = node;
      const c = out.add({ ...rest, inputs }, WHERE);
      copies.set(node, c);
      return c;
    };
    const cut = stage === ROOT ? undefined : cuts.get(stage);
    const unguarded: string[] = [];
    if (cut !== undefined) {
      // Downstream: the repartition stream, then the keyBy again (on the original records).
      const stream = repartitionStream(o.applicationId, cut.name);
      const source = out.add({
        kind: 'source', name: `${cut.name}:repartition-in`, inputs: [], onError: 'dead-letter', ordering: 'none',
        source: { source: repartitionSource(o.natsOptions, stream, o.partitions), timestamp: undefined, watermark: undefined, maxFutureSkew: undefined },
      }, WHERE);
      copy(cut, [{ node: source, port: 'main' }]);
    }
    for (const node of plan.nodes) {
      const s = stageOf.get(node);
      if (node === cut || (s !== stage && s !== EVERY)) {
        // Upstream of a cut in this sub-topology: the keyBy, the hand-off and the publisher.
        if (cuts.has(node.name) && node !== cut && stageOf.get(node.inputs[0]?.node as PlanNode) === stage) {
          const keyBy = copy(node, node.inputs.map(input));
          unguarded.push(keyBy.name);
          const hand = out.add({
            kind: 'repartition-out', name: `${node.name}:repartition-out`, inputs: [{ node: keyBy, port: 'main' }],
            factory: repartitionOut(partition, task.token, o.partitions, o.keyGroups), onError: 'fail', ordering: 'none',
          }, WHERE);
          out.add({
            kind: 'sink', name: `${node.name}:repartition-sink`, inputs: [{ node: hand, port: 'main' }], onError: 'fail', ordering: 'none',
            sink: repartitionSink(o.nats, repartitionStream(o.applicationId, node.name), task.leaseHeld) as Sink<unknown>,
          }, WHERE);
        }
        continue;
      }
      copy(node, node.inputs.map(input));
    }
    const lineage = stage === ROOT ? `p${partition}` : `${stage.replace(/[^A-Za-z0-9_-]/g, '_')}/p${partition}`;
    return { lineage, plan: out, unguarded };
  };
  return [ROOT, ...cuts.keys()].map(build);
}
