/**
 * One invocation of `tidemark run` or `tidemark replay`: builds the `Pipeline` (checkpoints,
 * restarts, sink retries, events), hands it to the module — or, with `--parallelism` > 1, runs
 * the module on worker threads (`runParallel`) —, serves metrics, shows progress, stops
 * cleanly on a signal, and — for `replay --verify` — compares the outputs. Resolves with the exit
 * code: 0 done (or stopped cleanly), 1 the run failed or the outputs differ, 2 a usage error.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type ParallelRun, Pipeline, type PipelineOptions, type RunSummary, startParallel } from '../index.js';
import type { PipelineArgs, PipelineModule } from './args.js';
import { eventListener } from './events.js';
import { loadPipelineModule } from './load-module.js';
import { createLogger, describe, errorFields } from './logger.js';
import { createMetrics } from './metrics.js';
import { type MetricsServer, serveMetrics } from './metrics-server.js';
import type { CliOptions } from './options.js';
import { startProgress } from './progress.js';
import { checkpointOptions } from './checkpoint-options.js';
import { parallelRunOptions } from './parallel-run.js';
import { handleSignals } from './signals.js';
import { UsageError } from './usage-error.js';
import { compareOutputs, formatDifferences, readDirectoryOutputs, recordOutputs } from './verify.js';

/** Exit codes of the command line. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Where the CLI writes and how it leaves (swapped in tests of the pieces). */
export interface Io {
  /** Writes to stdout and resolves once flushed. */
  readonly print: (text: string) => Promise<void>;
  /** Writes to stderr (usage errors, help errors) and resolves once flushed. */
  readonly error: (text: string) => Promise<void>;
  /** Exits the process at once (a second signal). */
  readonly exit: (code: number) => void;
  readonly stdoutIsTty: boolean;
}

/** The pipeline options the flags describe. */
export function pipelineOptions(o: CliOptions, onEvent: PipelineOptions['onEvent']): PipelineOptions {
  const cp = o.checkpoints;
  return {
    ...(o.batchSize === undefined ? {} : { batchSize: o.batchSize }),
    ...(cp === undefined ? {} : { checkpoints: checkpointOptions(cp) }),
    ...(o.restart === undefined ? {} : { restart: { attempts: o.restart.attempts, delay: o.restart.delayMs, maxDelay: o.restart.maxDelayMs, strategy: o.restart.strategy } }),
    ...(o.sinkRetry === undefined ? {} : { sinkRetry: o.sinkRetry === false ? false : { attempts: o.sinkRetry.attempts, delay: o.sinkRetry.delayMs } }),
    ...(onEvent === undefined ? {} : { onEvent }),
  };
}

/** The end-of-run log fields: counts per source, operator and sink, checkpoints. */
function summaryFields(s: RunSummary): Record<string, unknown> {
  return {
    durationMs: s.durationMs,
    sources: Object.fromEntries(Object.entries(s.sources).map(([k, v]) => [k, { read: v.read, emitted: v.emitted, deadLettered: v.deadLettered }])),
    operators: Object.fromEntries(Object.entries(s.operators).map(([k, v]) => [k, { kind: v.kind, in: v.in, out: v.out, late: v.late, deadLettered: v.deadLettered }])),
    sinks: s.sinks,
    deadLetters: s.deadLetters,
    lateRecords: s.lateRecords,
    ...(s.checkpoints === undefined ? {} : { checkpoints: s.checkpoints }),
    ...(s.guarantees === undefined ? {} : { guarantees: s.guarantees }),
    ...(s.restarts === undefined ? {} : { restarts: s.restarts }),
  };
}

/**
 * Runs one validated invocation.
 *
 * @example
 * const code = await execute(resolveOptions('run', 'pipeline.ts', [], flags), io);
 */
export async function execute(o: CliOptions, io: Io): Promise<number> {
  const where = `tidemark ${o.command}`;
  const log = createLogger(o.logLevel, o.command);
  let mod: PipelineModule;
  try {
    mod = await loadPipelineModule(o.module, where);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    log.error({ error: errorFields(error, true), module: o.module }, `${where}: the pipeline module could not be loaded: ${describe(error)}`);
    return EXIT.failed;
  }

  const useOutputs = o.verify !== undefined && !o.verify.explicit && mod.outputs !== undefined;
  if (o.verify !== undefined && !useOutputs && o.verify.dir === undefined) {
    throw new UsageError(`${where}: --verify needs something to compare with: --verify DIR, --into DIR, or an 'outputs' export in the module`);
  }
  const scratch = o.verify === undefined ? undefined : await mkdtemp(join(tmpdir(), 'tidemark-replay-'));
  const into = scratch ?? o.into;
  if (into !== undefined) await mkdir(into, { recursive: true });
  const abort = new AbortController();
  let p: Pipeline | undefined;
  // With --parallelism > 1 the counters are the workers' (summed by the coordinator).
  let workers: ParallelRun | undefined;
  const current = (): RunSummary | undefined => workers?.summary() ?? p?.summary();
  const metrics = o.metrics === undefined ? undefined : createMetrics(current, Date.now);
  let server: MetricsServer | undefined;
  let uninstall: (() => void) | undefined;
  let progress: { stop(): void } | undefined;
  try {
    const onEvent = eventListener(log, metrics);
    const parallel = o.parallelism > 1;
    // On worker threads, each worker builds the pipeline; this thread only coordinates.
    p = new Pipeline(pipelineOptions(o, parallel ? undefined : onEvent));
    const args: PipelineArgs = {
      argv: o.argv,
      command: o.command,
      replay: o.command === 'replay',
      ...(o.from === undefined ? {} : { from: o.from }),
      ...(o.to === undefined ? {} : { to: o.to }),
      ...(into === undefined ? {} : { into }),
      signal: abort.signal,
      log,
    };
    const pipeline = p;
    try {
      if (!parallel) await mod.default(pipeline, args);
    } catch (error) {
      log.error({ error: errorFields(error, true) }, `${where}: the pipeline module failed while building the pipeline: ${describe(error)}`);
      return EXIT.failed;
    }
    if (metrics !== undefined && o.metrics !== undefined) {
      server = await serveMetrics(metrics.registry, o.metrics);
      log.info({ url: server.url }, `metrics at ${server.url}`);
    }
    if (parallel) workers = startParallel(parallelRunOptions(o, args, onEvent));
    uninstall = handleSignals(workers ?? pipeline, log, { savepoint: o.savepointOnStop, abort, exit: io.exit });
    if (o.progress) progress = startProgress(current, log, { tty: io.stdoutIsTty, intervalMs: o.progressIntervalMs });
    log.info({ module: o.module, checkpoints: o.checkpoints?.dir, from: o.from, to: o.to, into, ...(parallel ? { parallelism: o.parallelism } : {}) }, `${where}: started`);

    let summary: RunSummary;
    // The engine's timers are unref'd (a library must not keep a process alive); the CLI does,
    // for as long as the run lasts — a restart delay or a quiet source is not the end of it.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    try {
      summary = workers !== undefined ? await workers.done : await pipeline.run();
    } catch (error) {
      progress?.stop();
      progress = undefined;
      log.error({ error: errorFields(error, o.logLevel === 'debug' || o.logLevel === 'trace') }, `${where}: run failed: ${describe(error)}`);
      return EXIT.failed;
    } finally {
      clearInterval(keepAlive);
    }
    progress?.stop();
    progress = undefined;
    const fields = summaryFields(summary);
    if (summary.stopped !== undefined) {
      log.info({ ...fields, stopped: summary.stopped }, `${where}: stopped (${summary.stopped}) after checkpoint ${summary.checkpoints?.lastId ?? '-'}; a rerun continues from it`);
      return EXIT.ok;
    }
    log.info(fields, `${where}: completed`);

    if (o.verify === undefined || into === undefined) return EXIT.ok;
    const replayed = await readDirectoryOutputs(into);
    const readOutputs = mod.outputs;
    const dir = o.verify.dir;
    const existing = useOutputs && readOutputs !== undefined
      ? recordOutputs(await readOutputs(withoutScratch(args, o.into)))
      : await readDirectoryOutputs(dir ?? '');
    const against = useOutputs ? `the module's outputs()` : dir ?? '';
    const diffs = compareOutputs(replayed, existing);
    await io.print(formatDifferences(diffs, against, new Set([...replayed.keys(), ...existing.keys()]).size));
    log.info({ differing: diffs.map((d) => d.name), against }, diffs.length === 0 ? `${where}: verify: outputs equal` : `${where}: verify: ${diffs.length} output(s) differ`);
    return diffs.length === 0 ? EXIT.ok : EXIT.failed;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    log.error({ error: errorFields(error, true) }, `${where}: failed: ${describe(error)}`);
    return EXIT.failed;
  } finally {
    progress?.stop();
    uninstall?.();
    await server?.close();
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  }
}

/** The args `outputs()` receives: the real `--into` (if any), not the replay's scratch directory. */
function withoutScratch(args: PipelineArgs, into: string | undefined): PipelineArgs {
  const { into: _scratch, ...rest } = args;
  return into === undefined ? rest : { ...rest, into };
}

/** The logger type modules receive (re-exported for `args.log`). */
export type { Logger };
