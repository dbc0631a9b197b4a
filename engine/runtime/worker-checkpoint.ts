/**
 * The worker side of a parallel run's checkpoints: what the coordinator asks of each worker's
 * runtime to take one consistent cut — pause the sources at a chunk boundary, report the exchange
 * counters (the cut is quiet when every channel's sent and received counts match), capture the
 * state if nothing moved since, and on worker 0 merge every worker's state and seal the sinks'
 * epoch; then commit and resume.
 */
import type { CheckpointState } from '../checkpoint.js';
import { type WorkerState, mergeWorkerStates } from './parallel-checkpoint.js';
import type { Runtime } from './runtime.js';

/** A worker's exchange counters: messages sent to and received from each worker. */
export interface ExchangeCounters {
  readonly sent: readonly number[];
  readonly received: readonly number[];
}

/** What worker 0 answers when the cut holds: the merged state and the sinks' epoch handles. */
export interface SealedCut {
  readonly state: CheckpointState;
  readonly handles: Readonly<Record<string, unknown>>;
}

function same(a: ExchangeCounters, b: ExchangeCounters): boolean {
  return a.sent.every((v, i) => v === b.sent[i]) && a.received.every((v, i) => v === b.received[i]);
}

/** Checkpoint operations of one parallel worker's runtime. */
export class WorkerCheckpoint {
  constructor(private readonly runtime: Runtime, private readonly keyGroups: number) {}

  /** Holds the sources at their next chunk boundary; resolves with the counters once tracked work settled. */
  async pause(): Promise<ExchangeCounters> {
    this.runtime.checkpointer.hold();
    await this.runtime.settle();
    return this.counters();
  }

  /** The exchange counters now (after sending what is queued). */
  counters(): ExchangeCounters {
    const ex = this.runtime.exchange;
    ex?.flush();
    return { sent: [...(ex?.sent ?? [0])], received: [...(ex?.received ?? [0])] };
  }

  /** This worker's state, if its counters are still `expected` (else `undefined`: something moved). */
  async capture(expected: ExchangeCounters): Promise<WorkerState | undefined> {
    await this.runtime.settle();
    return this.captureNow(expected);
  }

  private captureNow(expected: ExchangeCounters): WorkerState | undefined {
    if (!same(this.counters(), expected)) return undefined;
    const inputOf: Record<string, readonly number[]> = {};
    for (const op of this.runtime.operators) if (op.inputOf !== undefined) inputOf[op.name] = op.inputOf;
    this.runtime.markCut();
    // A copy: the live state moves on as soon as the run resumes.
    return structuredClone({ ...this.runtime.checkpointer.capture(), inputOf });
  }

  /**
   * Worker 0: captures its own state (if its counters are still `expected`), merges the other
   * workers' `parts` into one checkpoint state and seals the sinks' epoch `id`. `undefined` when
   * something moved (nothing is sealed then).
   */
  async captureFinal(id: number, expected: ExchangeCounters, parts: readonly WorkerState[]): Promise<SealedCut | undefined> {
    await this.runtime.settle();
    const own = this.captureNow(expected);
    if (own === undefined) return undefined;
    const state = mergeWorkerStates(this.runtime.plan, this.runtime.placement, [own, ...parts], this.keyGroups);
    const handles = await this.runtime.checkpointer.seal(id);
    return { state, handles };
  }

  /** Commits the sinks' epoch `id` (the checkpoint is durable). */
  commit(id: number, handles: Readonly<Record<string, unknown>>): Promise<void> {
    return this.runtime.checkpointer.commit(id, handles);
  }

  /** Lets the sources go on. */
  resume(): void {
    this.runtime.checkpointer.release();
  }
}
