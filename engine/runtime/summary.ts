/**
 * The run summary: per source, per operator and per sink counters that add up, plus watermarks.
 */
import type { DeliveryGuarantee } from '../sink.js';
import type { CheckpointSummary } from './checkpointer.js';
import type { SourceSummary } from './source-driver.js';

/** Counters of one operator. Window operators add `accepted`, `tooLate`, `tooLatePairs`, … */
export interface OperatorSummary {
  [counter: string]: number | string | undefined;
  kind: string;
  in: number;
  out: number;
  deadLettered: number;
  /** Late records routed to `.late()`. */
  late: number;
  watermark: number;
  /** Window operators (and sortByEventTime): records admitted to at least one window. */
  accepted?: number;
  /** Records too late for every one of their windows. */
  tooLate?: number;
  /** Too-late (record, window) pairs. */
  tooLatePairs?: number;
  /** Panes emitted. */
  panes?: number;
  /** Windows (panes or sessions) holding state now. */
  openWindows?: number;
}

/** Counters of one sink. */
export interface SinkSummary {
  in: number;
}

/**
 * What `pipeline.run()` resolves with. Conservation: for every source
 * `read = emitted + deadLettered`; for every window operator `in = accepted + tooLate + deadLettered`.
 */
export interface RunSummary {
  sources: Record<string, SourceSummary>;
  operators: Record<string, OperatorSummary>;
  sinks: Record<string, SinkSummary>;
  /** Dead letters over the whole pipeline. */
  deadLetters: number;
  /** Late records (too late for at least one window) over the whole pipeline. */
  lateRecords: number;
  /** Wall-clock duration of the run by the pipeline's clock, in ms. */
  durationMs: number;
  /** Why the run was stopped before the end of its input (`pipeline.stop()`), if it was. */
  stopped?: string;
  /** Checkpoints taken (present when the pipeline checkpoints or was restored). */
  checkpoints?: CheckpointSummary;
  /** What each sink promises after a crash (present when the pipeline checkpoints). */
  guarantees?: Record<string, DeliveryGuarantee>;
  /** Times the run was restarted from its last checkpoint after a failure. */
  restarts?: number;
}
