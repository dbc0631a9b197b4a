/**
 * The program of one worker thread of `runParallel`: imports the pipeline module, builds the
 * pipeline with the module's default export (as `tidemark run` does), runs the share of the plan
 * placed on this worker — exchanging records with the other workers over direct channels — and
 * reports its summary or its error to the coordinator.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { Pipeline } from '../../index.js';
import { portTransport } from './port-transport.js';
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

/** Resolves when the coordinator says every worker is ready (all start together). */
let go: () => void = () => undefined;
const started = new Promise<void>((resolve) => {
  go = resolve;
});

coordinator.on('message', (message: ToWorker) => {
  if (message.type === 'start') {
    go();
  } else if (message.type === 'stop') {
    abort.abort(message.reason);
    pipeline?.stop(message.reason);
  } else if (message.type === 'abort') {
    aborted = message.reason;
    abort.abort(message.reason);
    pipeline?.abortPart(new Error(message.reason));
    go();
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
  });
  pipeline = p;
  const log = pino({ level: start.logLevel, base: { pid: process.pid, worker: start.worker } }, pino.destination({ fd: 2, sync: true }));
  await (main as (p: Pipeline, args: unknown) => unknown)(p, { ...start.args, signal: abort.signal, log, worker: start.worker, workers: start.workers });
  report({ type: 'ready' });
  await started;
  if (aborted !== undefined) throw new Error(aborted);
  if (abort.signal.aborted) p.stop(String(abort.signal.reason));
  const summary = await p.runPart({ worker: start.worker, workers: start.workers, keyGroups: start.keyGroups, transport: portTransport(start.ports) });
  report({ type: 'done', summary });
} catch (error) {
  report({ type: 'failed', error: errorData(error) });
}
