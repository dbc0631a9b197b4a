/**
 * The coordinator's side of one worker thread: starts it, talks to it (commands, checkpoint
 * operations as request/reply), and turns its reports into a promise of its summary.
 */
import { type MessagePort, Worker } from 'node:worker_threads';
import type { PipelineEvent, RunSummary } from '../../index.js';
import type { CheckpointWorker } from '../../engine/runtime/checkpoint-coordinator.js';
import type { PlanLayout } from '../../engine/runtime/parallel-migration.js';
import { type CheckpointOp, type FromWorker, type ToWorker, WorkerError, type WorkerStart, errorData } from './protocol.js';

/** What the coordinator hears from a worker besides its summary. */
export interface WorkerEvents {
  /** The worker built its pipeline (`layout`: its plan as a restore checks it). */
  ready(layout: PlanLayout): void;
  /** The worker's counters so far. */
  progress(worker: number, summary: RunSummary): void;
  /** A sink write on the worker is retried. */
  event(event: PipelineEvent): void;
  /** The worker's slowest active member of an alignment group changed. */
  aligned(worker: number, group: string, minimum: number): void;
  /** The worker asks for a checkpoint (`everyRecords`); answer with `checkpointDone(rid)`. */
  requested(worker: WorkerHandle, rid: number): void;
  finishing(): void;
  failed(error: WorkerError): void;
}

/** One worker thread. */
export class WorkerHandle implements CheckpointWorker {
  private readonly thread: Worker;
  private nextRid = 0;
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  /** Set once the worker failed or exited: calls to it reject at once. */
  private dead: WorkerError | undefined;
  /** Resolves with the worker's summary; rejects with its error (a `WorkerError`). */
  readonly done: Promise<RunSummary>;
  /** Resolves when the thread has exited. */
  readonly exited: Promise<void>;

  constructor(program: URL, readonly start: WorkerStart, events: WorkerEvents) {
    const index = start.worker;
    this.thread = new Worker(program, { workerData: start, transferList: start.ports.filter((p): p is MessagePort => p !== undefined) });
    this.exited = new Promise((resolve) => this.thread.once('exit', () => resolve()));
    this.done = new Promise<RunSummary>((resolve, reject) => {
      let settled = false;
      const failed = (error: WorkerError): void => {
        this.dead ??= error;
        for (const call of this.calls.values()) call.reject(error);
        this.calls.clear();
        if (settled) return;
        settled = true;
        events.failed(error);
        reject(error);
      };
      this.thread.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'ready':
            events.ready(message.layout);
            break;
          case 'progress':
            events.progress(index, message.summary);
            break;
          case 'sink-retry': {
            const { sink, attempt, delayMs } = message;
            events.event({ type: 'sink-retry', sink, attempt, delayMs, error: new WorkerError(index, message.error) });
            break;
          }
          case 'align':
            events.aligned(index, message.group, message.minimum);
            break;
          case 'cp-request':
            events.requested(this, message.rid);
            break;
          case 'finishing':
            events.finishing();
            break;
          case 'cp-reply': {
            const call = this.calls.get(message.rid);
            this.calls.delete(message.rid);
            if (message.ok) call?.resolve(message.value);
            else call?.reject(new WorkerError(index, message.error));
            break;
          }
          case 'done':
            settled = true;
            this.dead ??= new WorkerError(index, { name: 'Error', message: `worker ${index} has finished`, stack: undefined });
            resolve(message.summary);
            break;
          case 'failed':
            failed(new WorkerError(index, message.error));
            break;
        }
      });
      // An uncaught throw in the thread may be any value (a DataCloneError, a string…).
      this.thread.on('error', (error: unknown) => failed(new WorkerError(index, errorData(error))));
      this.thread.on('exit', (code) => failed(new WorkerError(index, { name: 'Error', message: `worker ${index} exited (code ${code}) before it finished`, stack: undefined })));
    });
    // The coordinator awaits `done` where it needs it; an early failure is reported through events.
    this.done.catch(() => undefined);
  }

  send(message: ToWorker): void {
    this.thread.postMessage(message);
  }

  /** Answers the worker's checkpoint request `rid` (taken or skipped: its pump goes on). */
  checkpointDone(rid: number): void {
    this.send({ type: 'cp-done', rid });
  }

  /** Stops the thread now (a worker stuck in user code after the run). */
  terminate(): void {
    void this.thread.terminate();
  }

  private call<T>(op: CheckpointOp, ...args: unknown[]): Promise<T> {
    const rid = this.nextRid++;
    // A worker that failed or exited never answers: its calls reject (a checkpoint must not hang).
    if (this.dead !== undefined) return Promise.reject(this.dead);
    return new Promise<T>((resolve, reject) => {
      this.calls.set(rid, { resolve: resolve as (v: unknown) => void, reject });
      this.send({ type: 'cp', rid, op, args });
    });
  }

  pause: CheckpointWorker['pause'] = () => this.call('pause');
  counters: CheckpointWorker['counters'] = () => this.call('counters');
  capture: CheckpointWorker['capture'] = (expected) => this.call('capture', expected);
  captureFinal: CheckpointWorker['captureFinal'] = (id, expected, parts) => this.call('captureFinal', id, expected, parts);
  commit: CheckpointWorker['commit'] = (id, handles) => this.call('commit', id, handles);
  resume: CheckpointWorker['resume'] = () => this.call('resume');
}
