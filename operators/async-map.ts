/**
 * `asyncMap(fn, { concurrency, ordered, timeout, retries })`: an async call per record (a lookup
 * in a database or a service) with bounded concurrency, results in input order or as completed.
 * The operator holds the output watermark back while calls are in flight, so results are never
 * behind it; calls that keep failing (or time out) go to dead letters with the reason.
 */
import type { Cancel } from '../engine/clock.js';
import { PlanError, describeError } from '../engine/errors.js';
import type { Key } from '../engine/keys.js';
import type { OperatorFactory } from '../engine/operator.js';
import { type Duration, toMillis } from '../engine/time.js';
import { STATE_VERSION, StateReader } from './snapshot.js';

/** Options of `asyncMap`. */
export interface AsyncMapOptions {
  /** Calls in flight at most (default 16). */
  readonly concurrency?: number;
  /** Emit results in input order (default true) or as they complete. */
  readonly ordered?: boolean;
  /** Processing time a call may take before it is aborted and counted as failed (default: none). */
  readonly timeout?: Duration;
  /** Retries of a failed or timed-out call (default 0), after `retryBackoff` doubling each time. */
  readonly retries?: number;
  /** First retry delay (default 100 ms). */
  readonly retryBackoff?: Duration;
}

/** Validated `asyncMap` settings. */
export interface AsyncMapSettings {
  readonly concurrency: number;
  readonly ordered: boolean;
  readonly timeout: number | undefined;
  readonly retries: number;
  readonly retryBackoff: number;
}

/** Validates `asyncMap` options, naming the factory. */
export function checkAsyncMapOptions(options: AsyncMapOptions = {}): AsyncMapSettings {
  const where = 'tidemark.asyncMap';
  const concurrency = options.concurrency ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new PlanError(`${where}: concurrency must be a positive integer, got ${String(concurrency)}`);
  const retries = options.retries ?? 0;
  if (!Number.isInteger(retries) || retries < 0) throw new PlanError(`${where}: retries must be a non-negative integer, got ${String(retries)}`);
  const timeout = options.timeout === undefined ? undefined : toMillis(options.timeout, `${where}: timeout`);
  if (timeout !== undefined && !(timeout > 0)) throw new PlanError(`${where}: timeout must be positive, got ${timeout} ms`);
  const retryBackoff = options.retryBackoff === undefined ? 100 : toMillis(options.retryBackoff, `${where}: retryBackoff`);
  if (retryBackoff < 0) throw new PlanError(`${where}: retryBackoff must be ≥ 0, got ${retryBackoff} ms`);
  return { concurrency, ordered: options.ordered ?? true, timeout, retries, retryBackoff };
}

/** A record whose call had not been emitted when a snapshot was taken. */
interface AsyncMapSnapshotEntry {
  readonly value: unknown;
  readonly t: number;
  readonly key?: Key;
}

interface Call {
  readonly value: unknown;
  readonly t: number;
  readonly key: Key | undefined;
  attempts: number;
  done: boolean;
  ok: boolean;
  result: unknown;
  /** Incremented per attempt, so a late answer of an abandoned attempt is ignored. */
  attempt: number;
  timer: Cancel | undefined;
  abort: AbortController | undefined;
}

/** The calls of an asyncMap snapshot `{ pending: [{ value, t, key? }, …] }`, checked. */
function readPending(r: StateReader, resume: unknown): AsyncMapSnapshotEntry[] {
  return r.array(r.object(resume, 'the state')['pending'], 'pending').map((e, i) => {
    const o = r.object(e, `pending[${i}]`);
    const t = r.number(o['t'], `pending[${i}] timestamp`);
    return o['key'] === undefined ? { value: o['value'], t } : { value: o['value'], t, key: r.key(o['key'], `pending[${i}] key`) };
  });
}

/**
 * The asyncMap operator. `fn(record, signal)` returns a promise; `signal` aborts on timeout.
 *
 * @example
 * clicks.asyncMap(async (c, signal) => ({ ...c, country: await geo.lookup(c.ip, { signal }) }), { concurrency: 32, timeout: 2_000, retries: 2 });
 */
export function asyncMapOperator<T, U>(fn: (record: T, signal: AbortSignal) => Promise<U>, settings: AsyncMapSettings): OperatorFactory {
  return {
    kind: 'asyncMap',
    stateVersion: STATE_VERSION,
    stateSignature: 'asyncMap',
    // pending calls in input order over the whole stream (keyed or not): one worker
    keyedState: 'not-keyed',
    build(ctx, resume) {
      const queue: Call[] = [];
      let queueHead = 0;
      /** Calls started and not yet emitted (in input order). */
      const started: Call[] = [];
      let startedHead = 0;
      let inFlight = 0;
      let succeeded = 0;
      let failed = 0;
      let retried = 0;
      let drained: (() => void) | undefined;

      const idle = (): boolean => queueHead === queue.length && startedHead === started.length;

      const emitReady = (): void => {
        // ordered: emit the prefix of finished calls; unordered: everything finished
        if (settings.ordered) {
          while (startedHead < started.length && (started[startedHead] as Call).done) emitCall(started[startedHead++] as Call);
        } else {
          let w = startedHead;
          for (let i = startedHead; i < started.length; i++) {
            const c = started[i] as Call;
            if (c.done) emitCall(c);
            else started[w++] = c;
          }
          started.length = w;
        }
        if (startedHead > 1024 && startedHead * 2 > started.length) {
          started.splice(0, startedHead);
          startedHead = 0;
        }
        if (queueHead > 1024 && queueHead * 2 > queue.length) {
          queue.splice(0, queueHead);
          queueHead = 0;
        }
      };

      const emitCall = (c: Call): void => {
        if (c.ok) {
          if (c.key === undefined) ctx.out.emit(c.result, c.t);
          else ctx.out.emitKeyed(c.result, c.t, c.key);
        } else {
          ctx.deadLetter(c.value, `asyncMap call failed after ${c.attempts} attempt(s): ${describeError(c.result)}`, c.t);
        }
      };

      const settle = (c: Call, ok: boolean, result: unknown): void => {
        c.timer?.();
        c.timer = undefined;
        if (!ok && c.attempts <= settings.retries) {
          retried++;
          const delay = settings.retryBackoff * 2 ** (c.attempts - 1);
          c.timer = ctx.schedule(ctx.clock.now() + delay, () => attempt(c));
          return;
        }
        c.done = true;
        c.ok = ok;
        c.result = result;
        if (ok) succeeded++;
        else failed++;
        inFlight--;
        emitReady();
        pump();
        if (idle()) {
          const d = drained;
          drained = undefined;
          d?.();
        }
      };

      const attempt = (c: Call): void => {
        c.attempts++;
        const id = ++c.attempt;
        const abort = typeof AbortController === 'function' ? new AbortController() : undefined;
        c.abort = abort;
        if (settings.timeout !== undefined) {
          c.timer = ctx.schedule(ctx.clock.now() + settings.timeout, () => {
            if (c.attempt !== id || c.done) return;
            c.attempt++;
            abort?.abort();
            settle(c, false, new Error(`timed out after ${settings.timeout} ms`));
          });
        }
        let p: Promise<U>;
        try {
          p = fn(c.value as T, (abort?.signal ?? undefined) as AbortSignal);
          if (!(p instanceof Promise)) p = Promise.resolve(p);
        } catch (e) {
          p = Promise.reject(e);
        }
        p.then(
          ctx.callback((v: U) => {
            if (c.attempt === id && !c.done) settle(c, true, v);
          }),
          ctx.callback((e: unknown) => {
            if (c.attempt === id && !c.done) settle(c, false, e);
          }),
        );
      };

      const pump = (): void => {
        while (inFlight < settings.concurrency && queueHead < queue.length) {
          const c = queue[queueHead++] as Call;
          inFlight++;
          started.push(c);
          attempt(c);
        }
      };

      const enqueue = (value: unknown, t: number, key: Key | undefined): void => {
        queue.push({ value, t, key, attempts: 0, done: false, ok: false, result: undefined, attempt: 0, timer: undefined, abort: undefined });
      };
      const kick = (): void => {
        pump();
        if (!idle() && drained === undefined) ctx.track(new Promise<void>((resolve) => (drained = resolve)));
      };
      // Restoring from a snapshot: calls that were in flight (or queued, or done but not yet
      // emitted) when it was taken are issued again, in their original order.
      if (resume !== undefined) {
        for (const r of readPending(new StateReader(ctx, 'asyncMap'), resume)) enqueue(r.value, r.t, r.key);
        kick();
      }
      return {
        onBatch({ values, times, keys }) {
          for (let i = 0; i < values.length; i++) enqueue(values[i], times[i] as number, keys?.[i]);
          kick();
        },
        snapshot(): { pending: AsyncMapSnapshotEntry[] } {
          const pending: AsyncMapSnapshotEntry[] = [];
          const add = (c: Call): void => {
            pending.push(c.key === undefined ? { value: c.value, t: c.t } : { value: c.value, t: c.t, key: c.key });
          };
          for (let i = startedHead; i < started.length; i++) add(started[i] as Call);
          for (let i = queueHead; i < queue.length; i++) add(queue[i] as Call);
          return { pending };
        },
        holdWatermark() {
          let min = Infinity;
          for (let i = startedHead; i < started.length; i++) {
            const t = (started[i] as Call).t;
            if (t < min) min = t;
          }
          for (let i = queueHead; i < queue.length; i++) {
            const t = (queue[i] as Call).t;
            if (t < min) min = t;
          }
          return min === Infinity ? Infinity : min - 1;
        },
        stats: () => ({ inFlight, queued: queue.length - queueHead, succeeded, failed, retried }),
      };
    },
  };
}
