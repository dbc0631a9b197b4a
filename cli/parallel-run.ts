/**
 * `tidemark run --parallelism N`: the options of `startParallel` for one invocation — the module's
 * arguments as plain data (each worker adds its own `signal` and `log`), file checkpoints (by
 * interval and by record count), restarts, batch size, sink retries, events, and how often the
 * workers report their counters (for metrics and progress).
 */
import type { PipelineEventListener, RunParallelOptions } from '../index.js';
import type { PipelineArgs } from './args.js';
import { checkpointOptions } from './checkpoint-options.js';
import type { CliOptions } from './options.js';

/**
 * The `startParallel` options of a validated invocation with `--parallelism` > 1.
 *
 * @example
 * const run = startParallel(parallelRunOptions(o, args, onEvent));
 */
export function parallelRunOptions(o: CliOptions, args: PipelineArgs, onEvent: PipelineEventListener | undefined): RunParallelOptions {
  const { signal: _signal, log: _log, ...plain } = args;
  const cp = o.checkpoints;
  return {
    module: o.module,
    parallelism: o.parallelism,
    args: plain,
    logLevel: o.logLevel,
    // Counters reach the coordinator at most every 500 ms per worker (the progress bar redraws as often).
    reportInterval: Math.min(500, o.progressIntervalMs),
    ...(o.batchSize === undefined ? {} : { batchSize: o.batchSize }),
    ...(o.sinkRetry === undefined ? {} : { sinkRetry: o.sinkRetry === false ? false : { attempts: o.sinkRetry.attempts, delay: o.sinkRetry.delayMs } }),
    ...(o.restart === undefined ? {} : { restart: { attempts: o.restart.attempts, delay: o.restart.delayMs, maxDelay: o.restart.maxDelayMs, strategy: o.restart.strategy } }),
    ...(cp === undefined ? {} : { checkpoints: checkpointOptions(cp) }),
    ...(onEvent === undefined ? {} : { onEvent }),
  };
}
