/**
 * The restart loop of a parallel run (worker threads or the in-thread simulation), with the
 * single-process run's rules (`Pipeline.run`): an attempt that fails — any worker's error, or the
 * coordinator's — ends; with a restart strategy, after its delay, every worker starts again from
 * the run's latest checkpoint (or from where the run started when no attempt completed one);
 * `restart` events are emitted, and the summary counts `restarts`. Plan and checkpoint errors (a
 * refused restore, a state that cannot be encoded) are not retried, nor is a stopped run.
 */
import { type Backoff, sleepOn } from '../backoff.js';
import type { Checkpoint, CheckpointStore } from '../checkpoint.js';
import type { Clock } from '../clock.js';
import { CheckpointError, PlanError } from '../errors.js';
import type { PipelineEventListener } from '../events.js';
import { SealedCheckpointError } from './checkpoint-coordinator.js';
import type { RunSummary } from './summary.js';

/** What one attempt starts from. */
export interface AttemptStart {
  /** The checkpoint to restore (whole; each worker takes its share). */
  readonly restore: Checkpoint | undefined;
  /** The id the attempt's first checkpoint takes (after every id in the store). */
  readonly firstId: number;
  /** 0 for the first attempt, then 1, 2, … */
  readonly attempt: number;
}

/** Options of `runAttempts`. */
export interface AttemptsOptions {
  readonly store: CheckpointStore | undefined;
  /** Where the run starts: `latest` (default), `none`, or a checkpoint id. */
  readonly restore: 'latest' | 'none' | number;
  /** The restart strategy (none: a failure fails the run). */
  readonly restart: Backoff | undefined;
  /** Whose time restart delays are measured in. */
  readonly clock: Pick<Clock, 'now' | 'schedule'>;
  readonly onEvent: PipelineEventListener;
  /** True once the run was asked to stop: a failure then is not retried. */
  readonly stopped: () => boolean;
  /** Runs one attempt: resolves with its summary, rejects with its first error. */
  readonly attempt: (start: AttemptStart) => Promise<RunSummary>;
}

/** Errors a restart cannot cure (a worker's error keeps its original name). */
function permanent(error: unknown): boolean {
  if (error instanceof SealedCheckpointError) return false;
  if (error instanceof PlanError || error instanceof CheckpointError) return true;
  const name = error instanceof Error ? error.name : '';
  return name === 'PlanError' || name === 'CheckpointError';
}

/**
 * Runs attempts until one completes (or is stopped), restarting failed ones per `restart`.
 *
 * @example
 * const summary = await runAttempts({ store, restore: 'latest', restart: backoff({ attempts: 3 }, where), clock, onEvent, stopped, attempt });
 */
export async function runAttempts(o: AttemptsOptions): Promise<RunSummary> {
  let from: 'latest' | 'none' | number = o.restore;
  // The first checkpoint id of the run's own lineage: a restart continues from it or later.
  let lineage = Infinity;
  for (let attempt = 0; ; attempt++) {
    const ids = o.store === undefined ? [] : (await o.store.list()).map((c) => c.id);
    const own = ids.some((id) => id >= lineage);
    const which = own ? 'latest' : from;
    const restore = o.store === undefined || which === 'none' ? undefined : which === 'latest' ? await o.store.latest() : await o.store.load(which);
    if (attempt === 0 && from === 'latest') from = restore?.id ?? 'none';
    const firstId = Math.max(0, restore?.id ?? 0, ...ids) + 1;
    if (attempt === 0) lineage = firstId;
    try {
      const summary = await o.attempt({ restore, firstId, attempt });
      if (attempt > 0) summary.restarts = attempt;
      return summary;
    } catch (error) {
      const policy = o.restart;
      if (policy === undefined || attempt >= policy.attempts || o.stopped() || permanent(error)) throw error;
      const delayMs = policy.delayFor(attempt + 1);
      try {
        o.onEvent({ type: 'restart', attempt: attempt + 1, delayMs, error });
      } catch {
        // a listener's error must not disturb the run
      }
      await sleepOn(o.clock, delayMs);
    }
  }
}
