/**
 * `tidemark scale-out` (registered in `program.ts`, validated by `scale-out-options.ts`): runs one instance of a
 * partitioned application — the same pipeline module `tidemark run` takes — sharing the sources'
 * partitions with every other instance of the same application id (see docs/scale-out.md). The
 * first SIGINT/SIGTERM stops it cleanly (tasks checkpoint, leases are released so the others take
 * the partitions at once); a second exits at once.
 */
import { resolve } from 'node:path';
import { type PartitionedEvent, runPartitioned } from '../index.js';
import type { PipelineArgs } from './args.js';
import { loadPipelineModule } from './load-module.js';
import { createLogger, errorFields } from './logger.js';
import { FORCED_EXIT_CODE } from './signals.js';

/** What the command line gives `tidemark scale-out <module>`. */
export interface ScaleOutCommandOptions {
  readonly module: string;
  readonly applicationId: string;
  readonly partitions: number;
  readonly keyGroups?: number;
  /** NATS servers (lease bucket, repartition streams), e.g. `127.0.0.1:4222`. */
  readonly nats: string;
  /** PostgreSQL connection string of the shared checkpoint store (default: `pg`'s environment). */
  readonly postgres?: string;
  readonly checkpointInterval?: string;
  readonly checkpointEvery?: number;
  readonly leaseTtl?: string;
  readonly repartition?: readonly string[];
  readonly instanceId?: string;
  readonly logLevel?: string;
  /** Arguments after `--`, for the module. */
  readonly argv: readonly string[];
}

/**
 * Runs the instance until it is stopped; resolves with the process exit code.
 *
 * @example
 * process.exitCode = await scaleOut({ module: 'pipeline.ts', applicationId: 'clicks', partitions: 8, nats: '127.0.0.1:4222', checkpointInterval: '5s', argv: [] });
 */
export async function scaleOut(o: ScaleOutCommandOptions, exit: (code: number) => void = (c) => process.exit(c)): Promise<number> {
  const log = createLogger(o.logLevel ?? 'info', 'scale-out');
  const mod = await loadPipelineModule(resolve(o.module), 'tidemark scale-out');
  const abort = new AbortController();
  const args: PipelineArgs = { argv: [...o.argv], command: 'run', replay: false, signal: abort.signal, log };
  const app = await runPartitioned({
    module: (p) => mod.default(p, args),
    applicationId: o.applicationId,
    partitions: o.partitions,
    ...(o.keyGroups === undefined ? {} : { keyGroups: o.keyGroups }),
    nats: { servers: o.nats, reconnect: { maxAttempts: -1 } },
    checkpoints: {
      ...(o.postgres === undefined ? {} : { connection: o.postgres }),
      ...(o.checkpointInterval === undefined ? {} : { interval: o.checkpointInterval }),
      ...(o.checkpointEvery === undefined ? {} : { everyRecords: o.checkpointEvery }),
    },
    ...(o.leaseTtl === undefined ? {} : { leaseTtl: o.leaseTtl }),
    ...(o.repartition === undefined ? {} : { repartition: o.repartition }),
    ...(o.instanceId === undefined ? {} : { instanceId: o.instanceId }),
    onEvent: (e: PartitionedEvent) => {
      if ('error' in e) log.warn({ ...e, error: errorFields(e.error) }, `partitioned: ${e.type}`);
      else log.info(e, `partitioned: ${e.type}`);
    },
  });
  log.info({ instance: app.instanceId, applicationId: o.applicationId }, 'instance started');
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (received !== undefined) {
      log.warn({ signal }, `received ${signal} while stopping: exiting now`);
      exit(FORCED_EXIT_CODE);
      return;
    }
    received = signal;
    log.info({ signal }, `received ${signal}: stopping cleanly (tasks checkpoint, leases are released)`);
    // The module's signal is aborted only once stop() is done: aborting it first could end a
    // source or sink mid-window and let the final checkpoint commit a partial one.
    void app.stop().finally(() => abort.abort(new Error(`stopped by ${signal}`)));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await app.closed;
    return 0;
  } catch (e) {
    log.error(errorFields(e), 'instance stopped on its own');
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
