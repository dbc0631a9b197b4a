/**
 * Takes consistent checkpoints of a running graph. The sources' pumps stop at a chunk boundary
 * (a gate), in-flight writes and asynchronous calls settle, and then — synchronously, so nothing
 * moves in between — the sources' positions and watermarks and every operator's state are read
 * and encoded and the sinks seal their epochs. The checkpoint is written durably; only then are
 * the sinks' epochs committed (two-phase commit), and the pumps go on.
 */
import {
  CHECKPOINT_FORMAT, type CheckpointInfo, type CheckpointState, type CheckpointStore, type NodeWatermarks, type OperatorCheckpoint, type SourceCheckpoint,
} from '../checkpoint.js';
import type { Clock } from '../clock.js';
import { CheckpointError, PlanError, describeError } from '../errors.js';
import type { PipelineEventListener } from '../events.js';
import type { OperatorFactory } from '../operator.js';
import type { Sink } from '../sink.js';
import type { OperatorNode } from './operator-node.js';
import type { SourceDriver } from './source-driver.js';

/** When checkpoints are taken and where they go. */
export interface CheckpointSchedule {
  readonly store: CheckpointStore;
  /** Processing-time interval in ms (`undefined`: not by time). */
  readonly intervalMs?: number;
  /** Take one after this many records read over all sources (`undefined`: not by count). */
  readonly everyRecords?: number;
}

/** Counters of a run's checkpoints (in the run summary). */
export interface CheckpointSummary {
  completed: number;
  /** Id of the last completed checkpoint (0: none). */
  lastId: number;
  lastDurationMs: number;
  lastBytes: number;
  /** The checkpoint the run started from, if any. */
  restoredFrom?: number;
}

/** What the checkpointer needs of the runtime. */
export interface CheckpointHost {
  readonly clock: Clock;
  readonly sources: readonly SourceDriver[];
  readonly operators: readonly { readonly node: OperatorNode; readonly factory: OperatorFactory }[];
  /** Every operator node (sinks and unions included), for their watermarks. */
  readonly nodes: readonly OperatorNode[];
  readonly sinks: readonly { readonly name: string; readonly sink: Sink<unknown> }[];
  /** Settles tracked work; resolves when nothing is pending (rejects with the run's failure). */
  settle(): Promise<void>;
  /** The key-group count to record (kept from the checkpoint the run restored), if any. */
  readonly keyGroups?: number;
  /** Fails the run (a checkpoint that failed after the sinks sealed an epoch cannot be skipped). */
  fail(error: unknown): void;
  readonly onEvent: PipelineEventListener;
}

/** Coordinates the checkpoints (and the final commit) of one run. */
export class Checkpointer {
  private gateOpen: (() => void) | undefined;
  /** Set while a checkpoint is being taken: pumps wait on it before handling a chunk. */
  gate: Promise<void> | undefined;
  private running: Promise<CheckpointInfo | undefined> | undefined;
  private recordsAtLast = 0;
  readonly summary: CheckpointSummary = { completed: 0, lastId: 0, lastDurationMs: 0, lastBytes: 0 };
  /** Id of the last checkpoint written durably in this run (0: none), committed or not. */
  written = 0;

  constructor(
    private readonly host: CheckpointHost,
    readonly schedule: CheckpointSchedule | undefined,
    /** The id the next checkpoint takes. */
    private nextId: number,
  ) {
    this.recordsAtLast = this.records(); // restored sources continue their counts
  }

  /** Set when the run has ended: no more checkpoints or savepoints. */
  private closed: string | undefined;

  /** Refuses further checkpoints (the run ended); one already queued still completes. */
  close(why: string): void {
    this.closed ??= why;
  }

  /** Records read over all sources so far. */
  private records(): number {
    let n = 0;
    for (const s of this.host.sources) n += s.read;
    return n;
  }

  /** After a chunk: takes a checkpoint if the record count calls for one (the pump awaits it). */
  afterChunk(): Promise<unknown> | undefined {
    const every = this.schedule?.everyRecords;
    if (every === undefined || this.running !== undefined) return undefined;
    if (this.records() - this.recordsAtLast < every) return undefined;
    return this.take('checkpoint');
  }

  /**
   * Takes a checkpoint (or savepoint) now; one already running is awaited first. Without a store
   * it only commits the sinks' epochs (what a run without checkpoints does at its end).
   */
  take(type: 'checkpoint' | 'savepoint'): Promise<CheckpointInfo | undefined> {
    if (this.closed !== undefined) return Promise.reject(new PlanError(`tidemark.savepoint: the pipeline is not running (${this.closed})`));
    const prior = this.running ?? Promise.resolve(undefined);
    const next = prior.then(() => this.takeNow(type), () => this.takeNow(type));
    const mine = next.finally(() => {
      if (this.running === mine) this.running = undefined;
    });
    this.running = mine;
    return mine;
  }

  /**
   * The state of the graph now: sources' positions and watermarks, operators' snapshots, nodes'
   * watermarks. Synchronous: call it between chunks with tracked work settled.
   */
  capture(): CheckpointState {
    const { host } = this;
    const sources: Record<string, SourceCheckpoint> = {};
    for (const s of host.sources) sources[s.name] = s.checkpoint();
    const operators: Record<string, OperatorCheckpoint> = {};
    for (const { node, factory } of host.operators) {
      const state = node.logic.snapshot?.();
      if (state === undefined) continue;
      operators[node.name] = {
        kind: factory.kind,
        version: factory.stateVersion ?? 1,
        ...(factory.stateSignature === undefined ? {} : { signature: factory.stateSignature }),
        state,
      };
    }
    const watermarks: Record<string, NodeWatermarks> = {};
    for (const node of host.nodes) watermarks[node.name] = node.savedWatermarks();
    const keyGroups = host.keyGroups;
    return keyGroups === undefined ? { sources, operators, watermarks } : { sources, operators, watermarks, keyGroups };
  }

  /**
   * Seals the sinks' epoch `id` — synchronously (later writes belong to the next epoch) — and
   * resolves with their handles once every sink's pre-commit settled (rejects with the first failure).
   */
  seal(id: number): Promise<Record<string, unknown>> {
    const epochs = this.host.sinks.filter((s) => s.sink.preCommit !== undefined).map(({ name, sink }) => ({ name, sink, handle: sink.preCommit?.(id) }));
    this.recordsAtLast = this.records();
    // Wait for every sink (a second failure must not go unhandled), then report the first.
    return Promise.allSettled(epochs.map((s) => Promise.resolve(s.handle))).then((settled) => {
      const handles: Record<string, unknown> = {};
      for (let i = 0; i < epochs.length; i++) {
        const r = settled[i] as PromiseSettledResult<unknown>;
        if (r.status === 'rejected') throw r.reason;
        handles[(epochs[i] as { name: string }).name] = r.value;
      }
      return handles;
    });
  }

  /** Commits the sinks' epoch `id` (after the checkpoint holding `handles` is durable). */
  async commit(id: number, handles: Readonly<Record<string, unknown>>): Promise<void> {
    for (const { name, sink } of this.host.sinks) if (sink.preCommit !== undefined) await sink.commit?.(id, handles[name]);
  }

  /** Holds the pumps at their next chunk boundary (a cut taken from outside, by a coordinator). */
  hold(): void {
    if (this.gate !== undefined) return;
    this.gate = new Promise((resolve) => {
      this.gateOpen = resolve;
    });
  }

  /** Lets the pumps go on after `hold()`. */
  release(): void {
    const open = this.gateOpen;
    this.gate = undefined;
    this.gateOpen = undefined;
    open?.();
  }

  private async takeNow(type: 'checkpoint' | 'savepoint'): Promise<CheckpointInfo | undefined> {
    const { host } = this;
    const store = this.schedule?.store;
    this.gate = new Promise((resolve) => {
      this.gateOpen = resolve;
    });
    const id = this.nextId++;
    const started = host.clock.now();
    let sealed = false;
    try {
      await host.settle();
      // From here to the sinks' preCommit calls nothing may yield: this is the cut.
      const state: CheckpointState = this.capture();
      let bytes: Uint8Array | undefined;
      if (store !== undefined) {
        try {
          bytes = store.encodeState(state);
        } catch (e) {
          throw new CheckpointError(`checkpoint ${id}: the state could not be encoded (${describeError(e)}); operator state must be plain data`, { cause: e });
        }
      }
      // From here on the sinks have sealed an epoch: if this checkpoint fails, the run must fail
      // too (and restart from the last complete checkpoint) — going on would lose that epoch.
      sealed = true;
      const sealing = this.seal(id);
      const handles = await sealing;
      let info: CheckpointInfo | undefined;
      if (store !== undefined && bytes !== undefined) {
        info = await store.write({ format: CHECKPOINT_FORMAT, id, type, takenAt: started }, bytes, handles);
        // Durable now: a restart must restore this one (or a later one), even if a commit fails.
        this.written = id;
      }
      await this.commit(id, handles);
      if (info !== undefined) {
        const durationMs = host.clock.now() - started;
        Object.assign(this.summary, { completed: this.summary.completed + 1, lastId: id, lastDurationMs: durationMs, lastBytes: info.bytes });
        host.onEvent({ type: 'checkpoint-completed', checkpoint: info, durationMs });
      }
      return info;
    } catch (error) {
      host.onEvent({ type: 'checkpoint-failed', id, error });
      if (sealed) host.fail(error);
      throw error;
    } finally {
      const open = this.gateOpen;
      this.gate = undefined;
      this.gateOpen = undefined;
      open?.();
    }
  }

  private timer: (() => void) | undefined;

  /** Starts time-based checkpoints; `onError` receives a failed one (the run fails). */
  start(onError: (e: unknown) => void): void {
    const interval = this.schedule?.intervalMs;
    if (interval === undefined) return;
    const { clock } = this.host;
    const tick = (): void => {
      this.timer = undefined;
      this.take('checkpoint').then(
        () => {
          if (!this.stopped) this.timer = clock.schedule(clock.now() + interval, tick);
        },
        onError,
      );
    };
    this.timer = clock.schedule(clock.now() + interval, tick);
  }

  private stopped = false;

  /** Stops time-based checkpoints and waits for one in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.();
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
