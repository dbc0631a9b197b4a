/**
 * What a running pipeline reports besides its results: checkpoints, restores, restarts and sink
 * retries. The command line turns these into structured logs and metrics; code can listen with
 * `PipelineOptions.onEvent`.
 */
import type { CheckpointInfo } from './checkpoint.js';

/** One event of a run. */
export type PipelineEvent =
  | { readonly type: 'checkpoint-completed'; readonly checkpoint: CheckpointInfo; readonly durationMs: number }
  | { readonly type: 'checkpoint-failed'; readonly id: number; readonly error: unknown }
  | { readonly type: 'restored'; readonly id: number; readonly checkpointType: 'checkpoint' | 'savepoint'; readonly takenAt: number }
  | { readonly type: 'restart'; readonly attempt: number; readonly delayMs: number; readonly error: unknown }
  | { readonly type: 'sink-retry'; readonly sink: string; readonly attempt: number; readonly delayMs: number; readonly error: unknown }
  | { readonly type: 'stopping'; readonly reason: string };

/** Receives a run's events (must not throw; errors it throws are ignored). */
export type PipelineEventListener = (event: PipelineEvent) => void;
