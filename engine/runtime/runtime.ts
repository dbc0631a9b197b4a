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
import { workerShare } from './parallel-checkpoint.js';
import { WorkerCheckpoint } from './worker-checkpoint.js';
import { explainPlan, explainWindow } from './explain.js';
import type { Plan, PlanNode } from '../plan.js';
import { Emitter } from './emitter.js';
import { OperatorNode } from './operator-node.js';
import { passThrough, sinkFactory } from './sink-node.js';
import { SourceDriver, pump } from './source-driver.js';
import { Exchange, ExchangeOut, type ExchangeTransport } from './exchange.js';
import { BroadcastOut } from './broadcast-out.js';
import { type NodePlacement, type Placement, placePlan, sendersOf } from './placement.js';
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
  /** Run as one of several parallel workers (see `ParallelPart`). */
  readonly parallel?: ParallelPart;
}

/**
 * This runtime is worker `worker` of `workers`, each running the same plan: it runs the nodes
 * placed on it (`placePlan`) and exchanges records with the others through `transport`.
 */
export interface ParallelPart {
  readonly worker: number;
  readonly workers: number;
  /** Key groups of keyed state (a power of two ≥ workers). */
  readonly keyGroups: number;
  readonly transport: ExchangeTransport;
  /** Records sent to a worker and not yet processed there before sources wait (flow control). */
  readonly maxUnacked?: number;
  /**
   * Watermark alignment across workers: `report` receives this worker's slowest active member of
   * each alignment group whenever it may have changed (+∞: none active); `attach` hands over the
   * function that sets the other workers' slowest member of a group.
   */
  readonly alignment?: {
    readonly report: (group: string, localMinimum: number) => void;
    readonly attach: (setRemote: (group: string, minimum: number) => void) => void;
  };
  /** The checkpoint to restore is already this worker's share (`workerShares`), not the whole. */
  readonly restoresShare?: boolean;
  /**
   * Checkpoints are the coordinator's: `attach` receives this worker's checkpoint operations,
   * and `finish` — called when the pumps are done and every node ended, or the run stopped —
   * resolves once the coordinator's final cut is taken: `true` when it wrote a checkpoint (the
   * sinks' epoch is committed then), `false` when the worker commits its sinks itself.
   */
  readonly coordinated?: {
    readonly attach: (checkpoint: WorkerCheckpoint) => void;
    readonly finish: () => Promise<boolean>;
    /** The coordinator writes checkpoints (the summary reports guarantees). */
    readonly checkpointing: boolean;
    /**
     * Checkpoints by record count, counted per worker: once this worker's sources have read
     * `everyRecords` records since the last cut, the pump asks the coordinator for a checkpoint
     * (`request`) and waits for it, as a single-process run waits for its own.
     */
    readonly everyRecords?: { readonly records: number; readonly request: () => Promise<unknown> };
  };
}

/** The partitions of `count` that `worker` of `workers` reads: `p ≡ worker (mod workers)`. */
export function partitionsOf(count: number, worker: number, workers: number): number[] {
  const out: number[] = [];
  for (let p = worker; p < count; p += workers) out.push(p);
  return out;
}

/** A compiled, runnable plan. */
export class Runtime {
  readonly sources: SourceDriver[] = [];
  readonly operators: OperatorNode[] = [];
  private readonly byNode = new Map<PlanNode, Emitter>();
  /** Where each node runs (every node on this runtime unless it is a parallel worker). */
  readonly placement: Placement;
  /** The exchange with the other workers (parallel workers only). */
  readonly exchange: Exchange | undefined;
  /** What this runtime restored (a parallel worker: its share of the checkpoint). */
  private readonly restored: Checkpoint | undefined;
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
    this.exchange?.release();
    // A checkpoint's pause must not outlive the run: the pumps see the failure and end.
    this.checkpointer.release();
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
    const par = options.parallel;
    const me = par?.worker ?? 0;
    const placement = placePlan(plan, par?.workers ?? 1);
    this.placement = placement;
    // A parallel worker restores its share of the checkpoint (its key groups, its partitions).
    const restore = par === undefined || options.restore === undefined || par.restoresShare === true ? options.restore : workerShare(plan, placement, options.restore, me, par.keyGroups);
    const resume = restore === undefined ? options.resume : { ...options.resume, ...restoredOperators(plan, restore, options.migrations ?? {}, options.allowNonRestoredState === true) };
    // A tracked write or async call that rejects fails the run at once (not when a pump next drains).
    const track = (p: Promise<unknown>): void => {
      const settled: Promise<void> = p.then(() => undefined, (error: unknown) => this.fail(error)).finally(() => {
        this.inFlight.delete(settled);
      });
      this.inFlight.add(settled);
      this.pending.push(settled);
    };
    const exchange = par === undefined ? undefined : new Exchange(me, par.workers, par.keyGroups, par.transport, par.maxUnacked);
    this.exchange = exchange;
    // Physical inputs of each local operator: one per (logical input, sending worker).
    const physical = new Map<PlanNode, Map<number, number>>();
    const endAtStart: { op: OperatorNode; input: number }[] = [];
    for (const node of plan.nodes) {
      const place = placement.nodes.get(node) as NodePlacement;
      if (!place.workers.includes(me)) continue;
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
      const index = new Map<number, number>();
      const inputOf: number[] = [];
      const empty: number[] = [];
      // A logical input with no sender on this worker gets no physical input when others have
      // one: an input ended at start would count as +∞ and let the node jump to the end as
      // soon as its live inputs go idle.
      const live = place.inputs.some((edge) => sendersOf(placement, edge, me).length > 0);
      for (const edge of place.inputs) {
        const senders = sendersOf(placement, edge, me);
        if (senders.length === 0 && !live) {
          empty.push(inputOf.length);
          inputOf.push(edge.input);
        }
        for (const s of senders) {
          index.set(edge.id * placement.workers + s, inputOf.length);
          inputOf.push(edge.input);
        }
      }
      if (inputOf.length === 0) {
        // A dead-letter collector with nothing to collect: its only input ends at once.
        empty.push(0);
        inputOf.push(0);
      }
      physical.set(node, index);
      // Every instance on a parallel worker knows which of the node's instances it is.
      const worker = par === undefined ? undefined : { index: Math.max(0, place.workers.indexOf(me)), count: place.workers.length };
      const op = new OperatorNode(node.name, position, node.kind, options.clock, node.onError, factory, inputOf.length, resume?.[node.name], worker);
      if (inputOf.length !== place.inputs.length || inputOf.some((logical, i) => logical !== i)) op.inputOf = inputOf;
      // A broadcast input reaches every instance: only the first counts its records (as one run would).
      if (worker !== undefined && worker.index > 0 && place.inputs.some((e) => e.exchange === 'broadcast')) {
        op.uncounted = inputOf.map((logical) => place.inputs[logical]?.exchange === 'broadcast');
      }
      for (const input of empty) endAtStart.push({ op, input });
      op.tracker = track;
      const marks = restore?.watermarks?.[node.name];
      // Saved per logical input (as one worker has them): each physical input takes its logical one's.
      if (marks !== undefined) op.restoreWatermarks(op.inputOf === undefined || marks.inputs.length !== place.inputs.length ? marks : { ...marks, inputs: inputOf.map((i) => marks.inputs[i] as number) });
      this.operators.push(op);
      if (node.sink === undefined && !collector) this.stateful.push({ node: op, factory });
      this.byNode.set(node, op);
      if (node.sink !== undefined) this.sinkNodes.push({ node: op, plan: node });
    }
    for (const edge of placement.edges) {
      const from = this.byNode.get(edge.from);
      const to = this.byNode.get(edge.to) as OperatorNode | undefined;
      const inputFrom = (s: number): number => (physical.get(edge.to) as Map<number, number>).get(edge.id * placement.workers + s) as number;
      if (edge.exchange === 'local' || exchange === undefined) {
        if (from !== undefined && to !== undefined) from.port(edge.port).edges.push({ to, input: inputFrom(me) });
        continue;
      }
      const targets = (placement.nodes.get(edge.to) as NodePlacement).workers;
      if (from !== undefined) {
        const local = to === undefined ? undefined : { to, input: inputFrom(me) };
        const out = edge.exchange === 'broadcast'
          ? new BroadcastOut(exchange, edge.id, local, targets)
          : new ExchangeOut(exchange, edge.id, edge.exchange, local, targets, `'${edge.to.name}'`);
        from.port(edge.port).edges.push({ to: out, input: 0 });
      }
      if (to !== undefined) {
        for (const s of sendersOf(placement, edge, me)) if (s !== me) exchange.inboundTo(edge.id, s, to, inputFrom(s));
      }
    }
    for (const { op, input } of endAtStart) op.receiveEnd(input);
    this.markInterleaving(plan);
    this.checkpointer = new Checkpointer({
      clock: options.clock,
      sources: this.sources,
      operators: this.stateful,
      nodes: this.operators,
      sinks: this.sinkNodes.map(({ plan: n }) => ({ name: n.name, sink: n.sink as NonNullable<PlanNode['sink']> })),
      settle: () => this.settle(),
      fail: (error) => this.fail(error),
      // Key groups are fixed when a pipeline first starts: a restored run records them again.
      ...(par !== undefined ? { keyGroups: par.keyGroups } : restore?.keyGroups === undefined ? {} : { keyGroups: restore.keyGroups }),
      onEvent: this.onEvent,
    }, options.checkpoints, options.firstCheckpointId ?? (restore === undefined ? 1 : restore.id + 1));
    if (restore !== undefined) this.checkpointer.summary.restoredFrom = restore.id;
    this.restored = restore;
    par?.coordinated?.attach(new WorkerCheckpoint(this, par.keyGroups));
    const groups = new Map<string, AlignmentGroup>();
    for (const n of plan.nodes) {
      const a = n.source?.alignment;
      // A member placed on another worker is aligned through `alignAcross`.
      const driver = this.byNode.get(n) as SourceDriver | undefined;
      if (a === undefined || driver === undefined) continue;
      let g = groups.get(a.group);
      if (g === undefined) {
        g = new AlignmentGroup(a.group, a.maxDrift);
        groups.set(a.group, g);
      }
      driver.alignment = g;
      g.add(driver);
      const group = g;
      driver.onProgress = () => group.changed();
    }
    const across = par?.alignment;
    if (across !== undefined) this.alignAcross(plan, groups, across, me);
  }

  /**
   * Alignment groups across parallel workers: every worker reports its slowest active member of
   * every group of the plan (+∞ where it has none), and starts a group whose members also run on
   * other workers as if they were at −∞ (nothing read yet) until their reports arrive.
   */
  private alignAcross(plan: Plan, groups: ReadonlyMap<string, AlignmentGroup>, across: NonNullable<ParallelPart['alignment']>, me: number): void {
    const elsewhere = new Map<string, boolean>();
    for (const n of plan.nodes) {
      const name = n.source?.alignment?.group;
      if (name === undefined) continue;
      const on = (this.placement.nodes.get(n) as NodePlacement).workers;
      elsewhere.set(name, (elsewhere.get(name) ?? false) || on.some((w) => w !== me));
    }
    for (const [name, others] of elsewhere) {
      const g = groups.get(name);
      if (g === undefined) {
        across.report(name, Infinity);
        continue;
      }
      if (others) g.setRemote(-Infinity);
      g.onChange = () => across.report(name, g.localMinimum());
    }
    across.attach((name, minimum) => groups.get(name)?.setRemote(minimum));
    for (const g of groups.values()) across.report(g.name, g.localMinimum());
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
      const driver = this.byNode.get(n) as SourceDriver | undefined;
      if (n.source !== undefined && driver !== undefined && reaches(n)) driver.cutEveryAdvance = true;
    }
  }

  /** The running node of a plan node. */
  emitterOf(node: PlanNode): Emitter | undefined {
    return this.byNode.get(node);
  }

  /** Runs every source to its end; resolves with the summary, rejects with the first failure. */
  async run(): Promise<RunSummary> {
    this.startedAt = this.options.clock.now();
    const restore = this.restored;
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
    // Stopped or failed while the sinks were opening: the signal came before there was one to wake.
    if (stop()) this.signalStop();
    // A processing-time timer that throws (outside any source's pump) fails the run too.
    for (const op of this.operators) op.onAsyncError = (error) => this.fail(error);
    for (const src of this.sources) src.onAsyncError = (error) => this.fail(error);
    const exchange = this.exchange;
    const drain = (): Promise<void> | undefined => {
      // Parallel workers: sources also wait while another worker is too far behind.
      const behind = exchange?.ready();
      if (this.pending.length === 0) return behind;
      const all = this.pending;
      this.pending = [];
      if (behind !== undefined) all.push(behind);
      return Promise.all(all).then(() => undefined);
    };
    if (exchange !== undefined) {
      exchange.onError = (error) => this.fail(error);
      exchange.ackGate = () => (this.inFlight.size === 0 ? undefined : Promise.all([...this.inFlight]).then(() => undefined));
      exchange.start();
    }
    const par = this.options.parallel;
    const gates = this.checkpointGates();
    const pumps = this.plan.nodes
      .filter((n) => n.source !== undefined && this.byNode.has(n))
      .map(async (n) => {
        const driver = this.byNode.get(n) as SourceDriver;
        try {
          const source = (n.source as NonNullable<PlanNode['source']>).source;
          const assigned = this.options.assignedPartitions?.[n.name];
          const partitions = assigned
            ?? (par === undefined || source.partitionCount === undefined ? undefined : partitionsOf(source.partitionCount, par.worker, par.workers));
          if (assigned === undefined && partitions?.length === 0) {
            // A parallel worker with no partition of this source (fewer partitions than workers):
            // no reader (an unbounded one would never end nor send a watermark); it ends at once.
            driver.finish();
            return;
          }
          const reader = source.open({
            name: n.name,
            batchSize: this.options.batchSize,
            clock: this.options.clock,
            ...(driver.readerPosition === undefined ? {} : { resume: driver.readerPosition }),
            ...(partitions === undefined ? {} : { partitions }),
          });
          await pump(reader, driver, stop, stopped, drain, gates);
        } catch (error) {
          this.fail(error);
        }
      });
    this.checkpointer.start((error) => this.fail(error));
    await Promise.all(pumps);
    // A parallel worker goes on until every node on it has ended (the other workers' ends came in).
    if (exchange !== undefined) await Promise.race([this.allEnded(), stopped]);
    await this.checkpointer.stop();
    try {
      while (this.pending.length > 0 && this.failure === undefined) await drain();
      // The final checkpoint (or, without a store, the final commit of exactly-once sinks); with
      // parallel workers, the coordinator's final cut first (nothing in flight between workers).
      const coordinated = this.failure === undefined && par?.coordinated !== undefined ? await par.coordinated.finish() : false;
      if (this.failure === undefined && !coordinated) await this.checkpointer.take('checkpoint');
    } catch (error) {
      if (this.failure === undefined) this.failure = { error };
    }
    // No more checkpoints (a savepoint already queued completes first); no stale timers.
    this.checkpointer.close(this.failure === undefined ? 'it has ended' : 'it failed');
    await this.checkpointer.stop();
    this.over = true;
    exchange?.flush();
    exchange?.release();
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

  /** Records read by this runtime's sources at the last checkpoint cut (parallel workers). */
  private readAtCut = 0;

  /** Records read by this runtime's sources so far. */
  private recordsRead(): number {
    let n = 0;
    for (const s of this.sources) n += s.read;
    return n;
  }

  /** A cut was captured (parallel workers): the record count for `everyRecords` starts again. */
  markCut(): void {
    this.readAtCut = this.recordsRead();
  }

  /**
   * What a pump waits on between chunks: the checkpointer's gate, and after a chunk the
   * checkpointer's own record-count trigger — or, on a parallel worker, a request to the
   * coordinator once this worker has read `everyRecords` records since the last cut.
   */
  private checkpointGates(): { readonly gate: Promise<void> | undefined; afterChunk(): Promise<unknown> | undefined } {
    const every = this.options.parallel?.coordinated?.everyRecords;
    if (every === undefined) return this.checkpointer;
    const checkpointer = this.checkpointer;
    let asked: Promise<unknown> | undefined;
    this.readAtCut = this.recordsRead();
    return {
      get gate() {
        return checkpointer.gate;
      },
      afterChunk: () => {
        if (asked !== undefined || this.recordsRead() - this.readAtCut < every.records) return asked;
        // A checkpoint that was skipped (no quiet cut) is asked for again after the next chunk.
        // A checkpoint that failed after its epoch was sealed fails the run (the coordinator's
        // error is matched by name: it may come from another thread).
        asked = every.request().catch((error: unknown) => {
          if ((error as { name?: unknown } | null)?.name === 'SealedCheckpointError') this.fail(error);
        }).finally(() => {
          asked = undefined;
        });
        return asked;
      },
    };
  }

  /** Fails the run with `error` (e.g. another parallel worker failed): `run()` rejects with it. */
  abort(error: unknown): void {
    this.fail(error);
  }

  /** Resolves once every operator node of this runtime has ended. */
  private allEnded(): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        for (const op of this.operators) if (!op.ended) return;
        resolve();
      };
      for (const op of this.operators) {
        op.onProgress = () => {
          if (op.ended) check();
        };
      }
      if (this.exchange !== undefined) this.exchange.onDelivered = check;
      check();
    });
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
    this.exchange?.release();
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
    if (this.options.checkpoints !== undefined || this.options.restore !== undefined || this.options.parallel?.coordinated?.checkpointing === true) {
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
