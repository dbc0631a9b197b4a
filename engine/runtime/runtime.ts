/**
 * Compiles a plan into running nodes and runs it: one pump per source (interleaving between
 * chunks), synchronous batch propagation through the graph, awaited sink writes, and a summary.
 * The harness uses the same compiled graph with its sources driven by hand.
 */
import type { Backoff } from '../backoff.js';
import type { Checkpoint, CheckpointInfo, StateMigration } from '../checkpoint.js';
import type { Clock } from '../clock.js';
import type { PipelineEventListener } from '../events.js';
import type { Key } from '../keys.js';
import type { OperatorFactory } from '../operator.js';
import type { DeliveryGuarantee } from '../sink.js';
import { AlignmentGroup } from './alignment.js';
import { type CheckpointSchedule, Checkpointer } from './checkpointer.js';
import { restoredOperators } from './restore.js';
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
  /** Take checkpoints (run mode). */
  readonly checkpoints?: CheckpointSchedule;
  /** The checkpoint to restore from (sources seek, operators restore, sinks re-commit). */
  readonly restore?: Checkpoint;
  /** State migrations by operator name (for a checkpoint written by another version). */
  readonly migrations?: Readonly<Record<string, StateMigration>>;
  /** Restore even if the checkpoint has state for operators or sources this plan lacks. */
  readonly allowNonRestoredState?: boolean;
  /** The id of the next checkpoint (after those already in the store). */
  readonly firstCheckpointId?: number;
  /** How sinks retry failed writes (none when undefined). */
  readonly sinkRetry?: Backoff;
  readonly onEvent?: PipelineEventListener;
  /** The share of each partitioned source (by source node name) this runtime reads; absent: all. */
  readonly assignedPartitions?: Readonly<Record<string, readonly number[]>>;
}

/** A compiled, runnable plan. */
export class Runtime {
  readonly sources: SourceDriver[] = [];
  readonly operators: OperatorNode[] = [];
  private readonly byNode = new Map<PlanNode, Emitter>();
  private readonly sinkNodes: { node: OperatorNode; plan: PlanNode }[] = [];
  private readonly stateful: { node: OperatorNode; factory: OperatorFactory }[] = [];
  readonly checkpointer: Checkpointer;
  private readonly onEvent: PipelineEventListener;
  /** The run has ended (completed, stopped or failed): nothing may reach the sinks any more. */
  private over = false;
  /** Set by `stop()`: the pumps end after their current chunk, without flushing windows. */
  private stopping: string | undefined;
  private pending: Promise<void>[] = [];
  /**
   * Every tracked promise until it settles — including those a pump's drain has taken out of
   * `pending` — so that a checkpoint never cuts while a write is still in flight.
   */
  private readonly inFlight = new Set<Promise<void>>();
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
    const listener = options.onEvent;
    this.onEvent = listener === undefined ? () => undefined : (e) => {
      try {
        listener(e);
      } catch {
        // a listener's error must not disturb the run
      }
    };
    const restore = options.restore;
    const resume = restore === undefined ? options.resume : { ...options.resume, ...restoredOperators(plan, restore, options.migrations ?? {}, options.allowNonRestoredState === true) };
    // A tracked write or async call that rejects fails the run at once (not when a pump next drains).
    const track = (p: Promise<unknown>): void => {
      const settled: Promise<void> = p.then(() => undefined, (error: unknown) => this.fail(error)).finally(() => {
        this.inFlight.delete(settled);
      });
      this.inFlight.add(settled);
      this.pending.push(settled);
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
        const saved = restore?.sources[node.name];
        if (saved !== undefined) driver.restore(saved);
        this.sources.push(driver);
        this.byNode.set(node, driver);
        continue;
      }
      const collector = node.collectsAllDeadLetters === true;
      const retry = {
        policy: options.sinkRetry,
        over: () => this.over,
        clock: options.clock,
        onRetry: (attempt: number, delayMs: number, error: unknown) => this.onEvent({ type: 'sink-retry', sink: node.name, attempt, delayMs, error }),
      };
      const factory = node.sink !== undefined ? sinkFactory(node.name, node.sink, track, retry) : collector ? passThrough : node.factory;
      if (factory === undefined) throw new Error(`plan node '${node.name}' has nothing to run`);
      const inputs = collector ? eligible.length : node.inputs.length;
      const op = new OperatorNode(node.name, position, node.kind, options.clock, node.onError, factory, Math.max(1, inputs), resume?.[node.name]);
      op.tracker = track;
      const marks = restore?.watermarks?.[node.name];
      if (marks !== undefined) op.restoreWatermarks(marks);
      this.operators.push(op);
      if (node.sink === undefined && !collector) this.stateful.push({ node: op, factory });
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
    this.checkpointer = new Checkpointer({
      clock: options.clock,
      sources: this.sources,
      operators: this.stateful,
      nodes: this.operators,
      sinks: this.sinkNodes.map(({ plan: n }) => ({ name: n.name, sink: n.sink as NonNullable<PlanNode['sink']> })),
      settle: () => this.settle(),
      fail: (error) => this.fail(error),
      onEvent: this.onEvent,
    }, options.checkpoints, options.firstCheckpointId ?? (restore === undefined ? 1 : restore.id + 1));
    if (restore !== undefined) this.checkpointer.summary.restoredFrom = restore.id;
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
    const restore = this.options.restore;
    const opened: PlanNode[] = [];
    try {
      for (const { plan } of this.sinkNodes) {
        await plan.sink?.open?.(restore === undefined ? { name: plan.name } : { name: plan.name, restored: { checkpointId: restore.id, handle: restore.sinks[plan.name] } });
        opened.push(plan);
      }
    } catch (error) {
      // Sinks already open are aborted (they may hold locks or connections), then the run fails.
      this.over = true;
      for (const plan of opened) {
        try {
          await plan.sink?.abort?.(error);
        } catch {
          // the open failure is the error reported
        }
      }
      throw error;
    }
    if (restore !== undefined) this.onEvent({ type: 'restored', id: restore.id, checkpointType: restore.type, takenAt: restore.takenAt });
    const stop = (): boolean => this.failure !== undefined || this.stopping !== undefined;
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
            ...(driver.readerPosition === undefined ? {} : { resume: driver.readerPosition }),
            ...(this.options.assignedPartitions?.[n.name] === undefined ? {} : { partitions: this.options.assignedPartitions[n.name] }),
          });
          await pump(reader, driver, stop, stopped, drain, this.checkpointer);
        } catch (error) {
          this.fail(error);
        }
      });
    this.checkpointer.start((error) => this.fail(error));
    await Promise.all(pumps);
    await this.checkpointer.stop();
    try {
      while (this.pending.length > 0 && this.failure === undefined) await drain();
      // The final checkpoint (or, without a store, the final commit of exactly-once sinks).
      if (this.failure === undefined) await this.checkpointer.take('checkpoint');
    } catch (error) {
      if (this.failure === undefined) this.failure = { error };
    }
    // No more checkpoints (a savepoint already queued completes first); no stale timers.
    this.checkpointer.close(this.failure === undefined ? 'it has ended' : 'it failed');
    await this.checkpointer.stop();
    this.over = true;
    for (const op of this.operators) op.dispose();
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

  /**
   * Stops the run after the chunks being processed: sources stop reading (windows are not
   * flushed), a final checkpoint is taken (with a store; otherwise exactly-once sinks commit what
   * they have), sinks close, and `run()` resolves with `stopped` in its summary.
   */
  stop(reason = 'requested'): void {
    if (this.stopping !== undefined || this.failure !== undefined) return;
    this.stopping = reason;
    this.onEvent({ type: 'stopping', reason });
    this.signalStop();
  }

  /** Takes a savepoint now (the run goes on); resolves with where it was stored. */
  savepoint(): Promise<CheckpointInfo | undefined> {
    return this.checkpointer.take('savepoint');
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
    while (this.pending.length > 0 || this.inFlight.size > 0) {
      const all = [...this.pending, ...this.inFlight];
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
    const summary: RunSummary = { sources, operators, sinks, deadLetters, lateRecords, durationMs: this.options.clock.now() - this.startedAt };
    if (this.stopping !== undefined) summary.stopped = this.stopping;
    if (this.options.checkpoints !== undefined || this.options.restore !== undefined) {
      summary.checkpoints = { ...this.checkpointer.summary };
      summary.guarantees = this.guarantees();
    }
    return summary;
  }

  /**
   * What each sink's output promises after a crash and restore: exactly-once needs a sink with a
   * two-phase commit and replayable sources only; a source that cannot replay makes it at-most-once.
   */
  guarantees(): Record<string, DeliveryGuarantee> {
    const replayable = this.sources.every((s) => s.spec.source.replayable === true);
    const out: Record<string, DeliveryGuarantee> = {};
    for (const { plan } of this.sinkNodes) {
      const sink = plan.sink as NonNullable<PlanNode['sink']>;
      const twoPhase = sink.guarantee === 'exactly-once' && sink.preCommit !== undefined && sink.commit !== undefined;
      out[plan.name] = !replayable ? 'at-most-once' : twoPhase ? 'exactly-once' : sink.guarantee === 'at-most-once' ? 'at-most-once' : 'at-least-once';
    }
    return out;
  }
}
