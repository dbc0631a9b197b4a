/**
 * The program of one worker thread of `runParallel`: imports the pipeline module, builds the
 * pipeline with the module's default export (as `tidemark run` does), reports the plan's layout,
 * runs the share of the plan placed on this worker — restoring its share of the checkpoint the
 * coordinator sends, exchanging records with the other workers over direct channels — and reports
 * its counters periodically, its sink retries, its checkpoint requests, and its summary or error.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { type Checkpoint, type PipelineEvent, Pipeline } from '../../index.js';
import { planLayout } from '../../engine/runtime/parallel-migration.js';
import { portTransport } from './port-transport.js';
import type { WorkerCheckpoint } from '../../engine/runtime/worker-checkpoint.js';
import { type FromWorker, type ToWorker, type WorkerStart, errorData } from './protocol.js';

const start = workerData as WorkerStart;
const coordinator = parentPort as MessagePort;
const abort = new AbortController();
let pipeline: Pipeline | undefined;
/** Set when the coordinator aborted the run (another worker failed) before this one started. */
let aborted: string | undefined;

function report(message: FromWorker): void {
  coordinator.postMessage(message);
}

/** Resolves when the coordinator says every worker is ready (all start together), with the checkpoint to restore. */
let go: (restore: Checkpoint | undefined) => void = () => undefined;
const started = new Promise<Checkpoint | undefined>((resolve) => {
  go = resolve;
});
/** Checkpoints this worker asked for, by request id. */
const requests = new Map<number, () => void>();
let nextRequest = 0;

/** Asks the coordinator for a checkpoint; resolves once it is taken (or skipped). */
function requestCheckpoint(): Promise<void> {
  const rid = nextRequest++;
  return new Promise<void>((resolve) => {
    requests.set(rid, resolve);
    report({ type: 'cp-request', rid });
  });
}

/** Alignment minima to report, by group (sent together, at most every 5 ms). */
const alignment = new Map<string, number>();
let alignmentTimer: ReturnType<typeof setTimeout> | undefined;
/** Sets the other workers' slowest member of a group (once the runtime is built). */
let setRemote: ((group: string, minimum: number) => void) | undefined;
/** The latest of those minima, kept for a runtime not built yet. */
const remoteAlignment = new Map<string, number>();

function reportAlignment(group: string, minimum: number): void {
  alignment.set(group, minimum);
  alignmentTimer ??= setTimeout(() => {
    alignmentTimer = undefined;
    for (const [g, m] of alignment) report({ type: 'align', group: g, minimum: m });
    alignment.clear();
  }, 5);
}

/** Sink retries go to the coordinator (its listener logs and counts them); other events are its own. */
function forward(event: PipelineEvent): void {
  if (event.type === 'sink-retry') report({ type: 'sink-retry', sink: event.sink, attempt: event.attempt, delayMs: event.delayMs, error: errorData(event.error) });
}

/** This worker's checkpoint operations (once the runtime is built). */
let checkpoint: WorkerCheckpoint | undefined;
/** Resolves `finish()` when the coordinator has taken the final cut. */
let finished: ((coordinated: boolean) => void) | undefined;

function runOp(op: string, args: readonly unknown[]): unknown {
  const cp = checkpoint;
  if (cp === undefined) throw new Error(`worker ${start.worker}: no running pipeline for checkpoint operation '${op}'`);
  switch (op) {
    case 'pause':
      return cp.pause();
    case 'counters':
      return cp.counters();
    case 'capture':
      return cp.capture(args[0] as Parameters<WorkerCheckpoint['capture']>[0]);
    case 'captureFinal':
      return cp.captureFinal(...(args as Parameters<WorkerCheckpoint['captureFinal']>));
    case 'commit':
      return cp.commit(...(args as Parameters<WorkerCheckpoint['commit']>));
    default:
      return cp.resume();
  }
}

coordinator.on('message', (message: ToWorker) => {
  if (message.type === 'start') {
    go(message.restore);
  } else if (message.type === 'align') {
    remoteAlignment.set(message.group, message.minimum);
    setRemote?.(message.group, message.minimum);
  } else if (message.type === 'cp-done') {
    const resolve = requests.get(message.rid);
    requests.delete(message.rid);
    resolve?.();
  } else if (message.type === 'cp') {
    Promise.resolve()
      .then(() => runOp(message.op, message.args))
      .then(
        (value) => report({ type: 'cp-reply', rid: message.rid, ok: true, value }),
        (error: unknown) => report({ type: 'cp-reply', rid: message.rid, ok: false, error: errorData(error) }),
      );
  } else if (message.type === 'finished') {
    finished?.(message.coordinated);
  } else if (message.type === 'stop') {
    abort.abort(message.reason);
    pipeline?.stop(message.reason);
  } else if (message.type === 'abort') {
    aborted = message.reason;
    abort.abort(message.reason);
    pipeline?.abortPart(new Error(message.reason));
    go(undefined);
    finished?.(true);
    for (const resolve of requests.values()) resolve();
    requests.clear();
  } else {
    for (const port of start.ports) port?.close();
    coordinator.close();
  }
});

try {
  const mod = (await import(start.module)) as Record<string, unknown>;
  const main = mod['default'];
  if (typeof main !== 'function') {
    throw new TypeError(`tidemark.runParallel: ${start.module} must have a default export (p: Pipeline, args) => void | Promise<void>`);
  }
  const p = new Pipeline({
    ...(start.pipeline.batchSize === undefined ? {} : { batchSize: start.pipeline.batchSize }),
    ...(start.pipeline.sinkRetry === undefined ? {} : { sinkRetry: start.pipeline.sinkRetry }),
    onEvent: forward,
  });
  pipeline = p;
  const log = pino({ level: start.logLevel, base: { pid: process.pid, worker: start.worker } }, pino.destination({ fd: 2, sync: true }));
  await (main as (p: Pipeline, args: unknown) => unknown)(p, { ...start.args, signal: abort.signal, log, worker: start.worker, workers: start.workers });
  report({ type: 'ready', layout: planLayout(p.plan) });
  const restore = await started;
  if (aborted !== undefined) throw new Error(aborted);
  if (abort.signal.aborted) p.stop(String(abort.signal.reason));
  // Counters for the coordinator's metrics and progress: one message per interval.
  const progress = setInterval(() => {
    const summary = p.summary();
    if (summary !== undefined) report({ type: 'progress', summary });
  }, start.reportEveryMs);
  progress.unref();
  const every = start.everyRecords;
  const summary = await p.runPart({
    worker: start.worker,
    workers: start.workers,
    keyGroups: start.keyGroups,
    transport: portTransport(start.ports),
    alignment: {
      report: reportAlignment,
      attach: (set) => {
        setRemote = set;
        for (const [group, minimum] of remoteAlignment) set(group, minimum);
      },
    },
    coordinated: {
      attach: (cp) => {
        checkpoint = cp;
      },
      finish: () => new Promise<boolean>((resolve) => {
        finished = resolve;
        report({ type: 'finishing' });
      }),
      checkpointing: start.checkpointing,
      ...(every === undefined ? {} : { everyRecords: { records: every, request: requestCheckpoint } }),
    },
  }, restore).finally(() => clearInterval(progress));
  report({ type: 'done', summary });
} catch (error) {
  report({ type: 'failed', error: errorData(error) });
}
