/**
 * Checkpoints of a parallel run, driven by its coordinator: every worker's sources pause at a
 * chunk boundary and tracked writes settle; the exchanges are quiet when every channel's sent and
 * received counts match, twice in a row; the workers other than 0 capture their state (each only
 * if its own counters did not move), then worker 0 captures its own, merges them all into one
 * ordinary checkpoint state and seals its sinks' epoch. The coordinator writes the checkpoint with
 * the store, worker 0 commits the epoch, and every worker resumes. A cut that moved (a timer fired
 * in between) is retried before anything is sealed; a failure after sealing fails the run. Every
 * failure path releases the workers' pause first.
 */
import { CHECKPOINT_FORMAT, type CheckpointInfo, type CheckpointStore } from '../checkpoint.js';
import type { Clock } from '../clock.js';
import { CheckpointError, describeError } from '../errors.js';
import type { PipelineEventListener } from '../events.js';
import type { CheckpointSummary } from './checkpointer.js';
import type { WorkerState } from './parallel-checkpoint.js';
import type { ExchangeCounters, SealedCut } from './worker-checkpoint.js';

/** What the coordinator asks of one worker (a `WorkerCheckpoint`, in this thread or over messages). */
export interface CheckpointWorker {
  pause(): Promise<ExchangeCounters>;
  counters(): Promise<ExchangeCounters>;
  capture(expected: ExchangeCounters): Promise<WorkerState | undefined>;
  captureFinal(id: number, expected: ExchangeCounters, parts: readonly WorkerState[]): Promise<SealedCut | undefined>;
  commit(id: number, handles: Readonly<Record<string, unknown>>): Promise<void>;
  resume(): Promise<void>;
}

/** Attempts at a quiet cut before a checkpoint gives up (it is then skipped, nothing sealed). */
const ATTEMPTS = 20;
/** Rounds of counter polling per attempt. */
const ROUNDS = 1_000;

/** A checkpoint failed after the sinks sealed its epoch: the run cannot go on. */
export class SealedCheckpointError extends CheckpointError {
  override name = 'SealedCheckpointError';
}

function quiet(counters: readonly ExchangeCounters[]): boolean {
  for (let a = 0; a < counters.length; a++) {
    for (let b = 0; b < counters.length; b++) {
      if (a !== b && (counters[a] as ExchangeCounters).sent[b] !== (counters[b] as ExchangeCounters).received[a]) return false;
    }
  }
  return true;
}

function sameCounters(a: readonly ExchangeCounters[], b: readonly ExchangeCounters[]): boolean {
  return a.every((c, i) => {
    const d = b[i] as ExchangeCounters;
    return c.sent.every((v, j) => v === d.sent[j]) && c.received.every((v, j) => v === d.received[j]);
  });
}

/** Takes the checkpoints of one parallel run. */
export class CheckpointCoordinator {
  readonly summary: CheckpointSummary = { completed: 0, lastId: 0, lastDurationMs: 0, lastBytes: 0 };
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly workers: readonly CheckpointWorker[],
    private readonly store: CheckpointStore | undefined,
    private readonly clock: Clock,
    private nextId: number,
    /** Lets messages flow between two polls of the counters. */
    private readonly pause: () => Promise<void>,
    private readonly onEvent: PipelineEventListener = () => undefined,
  ) {}

  /**
   * Takes a checkpoint (or savepoint); one in progress completes first. Without a store it only
   * waits for a quiet cut (the end of a run: nothing in flight any more). Rejects with a
   * `SealedCheckpointError` when it failed after the sinks sealed their epoch (the run must fail).
   */
  take(type: 'checkpoint' | 'savepoint'): Promise<CheckpointInfo | undefined> {
    const next = this.running.then(() => this.takeNow(type), () => this.takeNow(type));
    this.running = next.catch(() => undefined);
    return next;
  }

  /** A requested checkpoint that has not started yet (requests join it). */
  private queued: Promise<CheckpointInfo | undefined> | undefined;

  /**
   * Asks for a checkpoint (a worker read `everyRecords` records): joins one that is queued and not
   * started yet, else queues one. Same outcomes as `take('checkpoint')`.
   */
  request(): Promise<CheckpointInfo | undefined> {
    if (this.queued !== undefined) return this.queued;
    const next = this.running.then(() => undefined, () => undefined).then(() => {
      this.queued = undefined;
      return this.takeNow('checkpoint');
    });
    this.queued = next;
    this.running = next.catch(() => undefined);
    return next;
  }

  /** Pauses every worker and waits until the exchanges are quiet; resolves with the counters. */
  private async quiesce(): Promise<ExchangeCounters[]> {
    let counters = await Promise.all(this.workers.map((w) => w.pause()));
    let previous: ExchangeCounters[] | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      if (quiet(counters) && previous !== undefined && sameCounters(previous, counters)) return counters;
      previous = counters;
      await this.pause();
      counters = await Promise.all(this.workers.map((w) => w.counters()));
    }
    throw new CheckpointError(`checkpoint: the exchanges between workers did not become quiet after ${ROUNDS} polls`);
  }

  /** Lets every worker go on; a worker that cannot answer (it failed) does not keep the others held. */
  private async resumeAll(): Promise<void> {
    await Promise.allSettled(this.workers.map((w) => w.resume()));
  }

  private async takeNow(type: 'checkpoint' | 'savepoint'): Promise<CheckpointInfo | undefined> {
    const store = this.store;
    const started = this.clock.now();
    const id = store === undefined ? 0 : this.nextId++;
    const [first, ...others] = this.workers as [CheckpointWorker, ...CheckpointWorker[]];
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      let sealed: SealedCut | undefined;
      try {
        const counters = await this.quiesce();
        if (store === undefined) {
          // Nothing to write: the cut only makes sure nothing is in flight (the end of a run).
          await this.resumeAll();
          return undefined;
        }
        const parts = await Promise.all(others.map((w, i) => w.capture(counters[i + 1] as ExchangeCounters)));
        if (parts.every((p) => p !== undefined)) sealed = await first.captureFinal(id, counters[0] as ExchangeCounters, parts as WorkerState[]);
      } catch (error) {
        this.onEvent({ type: 'checkpoint-failed', id, error });
        await this.resumeAll();
        throw error;
      }
      if (sealed === undefined) {
        // Something moved between the counters and a capture (a timer fired): try again.
        await this.resumeAll();
        continue;
      }
      try {
        let bytes: Uint8Array;
        try {
          bytes = store.encodeState(sealed.state);
        } catch (e) {
          throw new CheckpointError(`checkpoint ${id}: the state could not be encoded (${describeError(e)}); operator state must be plain data`, { cause: e });
        }
        const info = await store.write({ format: CHECKPOINT_FORMAT, id, type, takenAt: started }, bytes, sealed.handles);
        await first.commit(id, sealed.handles);
        const durationMs = this.clock.now() - started;
        Object.assign(this.summary, { completed: this.summary.completed + 1, lastId: id, lastDurationMs: durationMs, lastBytes: info.bytes });
        this.onEvent({ type: 'checkpoint-completed', checkpoint: info, durationMs });
        await this.resumeAll();
        return info;
      } catch (error) {
        this.onEvent({ type: 'checkpoint-failed', id, error });
        // The pause is released on every failure path: the run then fails (or restarts), never hangs.
        await this.resumeAll();
        throw new SealedCheckpointError(`checkpoint ${id} failed after the sinks sealed its epoch: ${describeError(error)}`, { cause: error });
      }
    }
    await this.resumeAll();
    const error = new CheckpointError(`checkpoint ${id}: no consistent cut after ${ATTEMPTS} attempts (timers kept firing between the workers' captures)`);
    this.onEvent({ type: 'checkpoint-failed', id, error });
    throw error;
  }
}
