/**
 * The checkpoint options that `--checkpoints` and its companions (`--checkpoint-interval`,
 * `--checkpoint-every-records`, `--keep`, `--restore`) describe: file checkpoints,
 * the same for in-thread and parallel runs.
 */
import { type CheckpointOptions, fileCheckpoints } from '../index.js';
import type { CliOptions } from './options.js';

/**
 * The checkpoint options of a validated invocation with `--checkpoints`.
 *
 * @example
 * const p = new Pipeline({ checkpoints: checkpointOptions(o.checkpoints) });
 */
export function checkpointOptions(cp: NonNullable<CliOptions['checkpoints']>): CheckpointOptions {
  return {
    store: fileCheckpoints(cp.dir, { keep: cp.keep }),
    ...(cp.intervalMs === undefined ? {} : { interval: cp.intervalMs }),
    ...(cp.everyRecords === undefined ? {} : { everyRecords: cp.everyRecords }),
    restore: cp.restore,
  };
}
