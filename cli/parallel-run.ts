/**
 * `tidemark run --parallelism N`: the options of `runParallel` for one invocation — the module's
 * arguments as plain data (each worker adds its own `signal` and `log`), file checkpoints, batch
 * size, sink retries — and the stop handle the signal handlers use.
 */
import { type Pipeline, type PipelineEventListener, type RunParallelOptions, fileCheckpoints } from '../index.js';
import type { PipelineArgs } from './args.js';
import type { CliOptions } from './options.js';

/**
 * The `runParallel` options of a validated invocation with `--parallelism` > 1.
 *
 * @example
 * const summary = await runParallel(parallelRunOptions(o, args, onEvent, controller.signal));
 */
export function parallelRunOptions(o: CliOptions, args: PipelineArgs, onEvent: PipelineEventListener | undefined, signal: AbortSignal): RunParallelOptions {
  const { signal: _signal, log: _log, ...plain } = args;
  const cp = o.checkpoints;
  return {
    module: o.module,
    parallelism: o.parallelism,
    args: plain,
    signal,
    logLevel: o.logLevel,
    ...(o.batchSize === undefined ? {} : { batchSize: o.batchSize }),
    ...(o.sinkRetry === undefined ? {} : { sinkRetry: o.sinkRetry === false ? false : { attempts: o.sinkRetry.attempts, delay: o.sinkRetry.delayMs } }),
    ...(cp === undefined ? {} : {
      checkpoints: {
        store: fileCheckpoints(cp.dir, { keep: cp.keep }),
        ...(cp.intervalMs === undefined ? {} : { interval: cp.intervalMs }),
        restore: cp.restore,
      },
    }),
    ...(onEvent === undefined ? {} : { onEvent }),
  };
}

/**
 * What the signal handlers stop when the run happens on worker threads: aborting `controller`
 * stops every worker (a final checkpoint is taken). Savepoints on stop are refused earlier.
 *
 * @example
 * uninstall = handleSignals(workersStopper(controller), log, { savepoint: false, abort, exit });
 */
export function workersStopper(controller: AbortController): Pick<Pipeline, 'stop' | 'savepoint'> {
  return {
    stop: (reason = 'requested') => controller.abort(reason),
    savepoint: () => Promise.reject(new Error('tidemark run: --savepoint-on-stop is not available with --parallelism')),
  };
}
