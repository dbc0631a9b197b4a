/**
 * Compiles a plan into running nodes and runs it: one pump per source (interleaving between
 * chunks), synchronous batch propagation through the graph, awaited sink writes, and a summary.
 * The harness uses the same compiled graph with its sources driven by hand.
 */
import type { Clock } from '../clock.js';
import type { Key } from '../keys.js';
import { AlignmentGroup } from './alignment.js';
import { explainPlan, explainWindow } from './explain.js';
import type { Plan, PlanNode } from '../plan.js';
import { Emitter } from './emitter.js';
import { OperatorNode } from './operator-node.js';
import { passThrough, sinkFactory } from './sink-node.js';
import { SourceDriver, pump } from './source-driver.js';
import type { OperatorSummary, RunSummary } from './summary.js';

/** How to compile a plan. */
export interface CompileOptions {
  readonly clock: Clock;
  readonly batchSize: number;
  /** Sources are driven by hand (the harness): no generators, no idleness timers. */
  readonly manual?: boolean;
  /** Operator state to restore, by operator name (from `snapshot()`). */
  readonly resume?: Readonly<Record<string, unknown>>;
}

/** A compiled, runnable plan. */
export class Runtime {
  readonly sources: SourceDriver[] = [];
  readonly operators: OperatorNode[] = [];
  private readonly byNode = new Map<PlanNode, Emitter>();
  private readonly sinkNodes: { node: OperatorNode; plan: PlanNode }[] = [];
  private pending: Promise<void>[] = [];
  private failure: { error: unknown } | undefined;
  /** Wakes the pumps when the run fails (set by `run`). */
  private signalStop: () => void = () => undefined;

  /** Records the run's first failure and stops the pumps. */
  private fail(error: unknown): void {
    if (this.failure === undefined) this.failure = { error };
    this.signalStop();
  }
  private startedAt = 0;

  constructor(readonly plan: Plan, readonly options: CompileOptions) {
    // A tracked write or async call that rejects fails the run at once (not when a pump next drains).
    const track = (p: Promise<unknown>): void => {
      this.pending.push(p.then(() => undefined, (error: unknown) => this.fail(error)));
    };
    // Dead-letter collectors take every node's dead port except their own downstream (no cycles).
    const downstreamOfCollector = new Set<PlanNode>();
    for (const node of plan.nodes) {
      if (node.collectsAllDeadLetters === true || node.inputs.some((i) => downstreamOfCollector.has(i.node))) {
        downstreamOfCollector.add(node);
      }
    }
    const eligible = plan.nodes.filter((n) => !downstreamOfCollector.has(n));
    for (const node of plan.nodes) {
      const position = plan.position(node);
      if (node.source !== undefined) {
        const driver = new SourceDriver(node.name, node.source, options.clock, options.manual === true);
        this.sources.push(driver);
        this.byNode.set(node, driver);
        continue;
      }
      const collector = node.collectsAllDeadLetters === true;
      const factory = node.sink !== undefined ? sinkFactory(node.sink, track) : collector ? passThrough : node.factory;
      if (factory === undefined) throw new Error(`plan node '${node.name}' has nothing to run`);
      const inputs = collector ? eligible.length : node.inputs.length;
      const op = new OperatorNode(node.name, position, node.kind, options.clock, node.onError, factory, Math.max(1, inputs), options.resume?.[node.name]);
      op.tracker = track;
      this.operators.push(op);
      this.byNode.set(node, op);
      if (node.sink !== undefined) this.sinkNodes.push({ node: op, plan: node });
    }
    for (const node of plan.nodes) {
      const op = this.byNode.get(node) as Emitter;
      if (node.collectsAllDeadLetters === true) {
        const to = op as OperatorNode;
        if (eligible.length === 0) to.receiveEnd(0);
        eligible.forEach((n, i) => (this.byNode.get(n) as Emitter).dead.edges.push({ to, input: i }));
      } else {
        node.inputs.forEach((input, i) => {
          const from = this.byNode.get(input.node) as Emitter;
          from.port(input.port).edges.push({ to: op as OperatorNode, input: i });
        });
      }
    }
    this.markInterleaving(plan);
    const groups = new Map<string, AlignmentGroup>();
    for (const n of plan.nodes) {
      const a = n.source?.alignment;
      if (a === undefined) continue;
      let g = groups.get(a.group);
      if (g === undefined) {
        g = new AlignmentGroup(a.group, a.maxDrift);
        groups.set(a.group, g);
      }
      const driver = this.byNode.get(n) as SourceDriver;
      driver.alignment = g;
      g.add(driver);
      const group = g;
      driver.onProgress = () => group.changed();
    }
  }

  /** Sources feeding an operator that interleaves output with watermarks cut at every advance. */
  private markInterleaving(plan: Plan): void {
    const downstream = new Map<PlanNode, PlanNode[]>();
    for (const n of plan.nodes) for (const i of n.inputs) downstream.set(i.node, [...(downstream.get(i.node) ?? []), n]);
    const reaches = (n: PlanNode, seen = new Set<PlanNode>()): boolean => {
      if (seen.has(n)) return false;
      seen.add(n);
      if (n.factory?.interleavesWithWatermarks === true) return true;
      return (downstream.get(n) ?? []).some((d) => reaches(d, seen));
    };
    for (const n of plan.nodes) {
      if (n.source !== undefined && reaches(n)) (this.byNode.get(n) as SourceDriver).cutEveryAdvance = true;
    }
  }

  /** The running node of a plan node. */
  emitterOf(node: PlanNode): Emitter | undefined {
    return this.byNode.get(node);
  }

  /** Runs every source to its end; resolves with the summary, rejects with the first failure. */
  async run(): Promise<RunSummary> {
    this.startedAt = this.options.clock.now();
    for (const { plan } of this.sinkNodes) await plan.sink?.open?.({ name: plan.name });
    const stop = (): boolean => this.failure !== undefined;
    const stopped = new Promise<void>((resolve) => {
      this.signalStop = resolve;
    });
    // A processing-time timer that throws (outside any source's pump) fails the run too.
    for (const op of this.operators) op.onAsyncError = (error) => this.fail(error);
    for (const src of this.sources) src.onAsyncError = (error) => this.fail(error);
    const drain = (): Promise<void> | undefined => {
      if (this.pending.length === 0) return undefined;
      const all = this.pending;
      this.pending = [];
      return Promise.all(all).then(() => undefined);
    };
    const pumps = this.plan.nodes
      .filter((n) => n.source !== undefined)
      .map(async (n) => {
        const driver = this.byNode.get(n) as SourceDriver;
        try {
          const reader = (n.source as NonNullable<PlanNode['source']>).source.open({
            name: n.name,
            batchSize: this.options.batchSize,
            clock: this.options.clock,
          });
          await pump(reader, driver, stop, stopped, drain);
        } catch (error) {
          this.fail(error);
        }
      });
    await Promise.all(pumps);
    try {
      while (this.pending.length > 0 && this.failure === undefined) await drain();
    } catch (error) {
      if (this.failure === undefined) this.failure = { error };
    }
    if (this.failure !== undefined) {
      for (const { plan } of this.sinkNodes) {
        try {
          await plan.sink?.abort?.(this.failure.error);
        } catch {
          // the run already failed; the first error is the one reported
        }
      }
      throw this.failure.error;
    }
    for (const { plan } of this.sinkNodes) await plan.sink?.close?.();
    return this.summary();
  }

  /** The state of every operator that has some, by name (plain data; see `OperatorLogic.snapshot`). */
  snapshot(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const op of this.operators) {
      const s = op.logic.snapshot?.();
      if (s !== undefined) out[op.name] = s;
    }
    return out;
  }

  /** The plan with each node's watermarks and counters (see `explainPlan`). */
  explain(): string {
    return explainPlan(this.plan, (n) => this.byNode.get(n), this.options.clock.now());
  }

  /** Why `[start, end)` of `key` has not fired yet. */
  whyNotFired(key: Key, start: number, end: number): string {
    return explainWindow(this.plan, (n) => this.byNode.get(n), key, start, end);
  }

  /** Waits until all tracked work (async operators, sink writes) has settled (the harness uses it). */
  async settle(): Promise<void> {
    while (this.pending.length > 0) {
      const all = this.pending;
      this.pending = [];
      await Promise.all(all);
    }
    if (this.failure !== undefined) throw this.failure.error;
  }

  /** Counters so far. */
  summary(): RunSummary {
    const sources: RunSummary['sources'] = {};
    const operators: RunSummary['operators'] = {};
    const sinks: RunSummary['sinks'] = {};
    let deadLetters = 0;
    let lateRecords = 0;
    for (const s of this.sources) {
      sources[s.name] = s.summary();
      deadLetters += s.deadLettered;
    }
    const sinkSet = new Set(this.sinkNodes.map((x) => x.node));
    for (const op of this.operators) {
      if (sinkSet.has(op)) {
        sinks[op.name] = { in: op.recordsIn };
        continue;
      }
      if (op.kind === 'dead-letters') continue;
      const o: OperatorSummary = {
        kind: op.kind,
        in: op.recordsIn,
        out: op.out.count,
        deadLettered: op.deadLettered,
        late: op.late.count,
        watermark: op.outWatermark,
        ...(op.logic.stats?.() ?? {}),
      };
      operators[op.name] = o;
      deadLetters += op.deadLettered;
      lateRecords += op.late.count;
    }
    return { sources, operators, sinks, deadLetters, lateRecords, durationMs: this.options.clock.now() - this.startedAt };
  }
}
