/**
 * `fromObservable(observable)`: a source over an RxJS Observable (or any subscribable). An
 * Observable cannot be slowed down, so its values wait in a bounded buffer with an explicit
 * overflow policy; every dropped value is counted.
 */
import type { Observable } from 'rxjs';
import { PlanError, SourceError } from '../engine/errors.js';
import type { Source, SourceChunk } from '../engine/source.js';

/** Options of `fromObservable`. */
export interface FromObservableOptions {
  /** Values held while the pipeline is busy (default 100 000). */
  readonly bufferSize?: number;
  /**
   * When the buffer is full: fail the run (`fail`, the default), drop the newest or the oldest
   * value (counted as `dropped` in the source's summary and passed to `onDrop`), or `block`: ask
   * the producer to pause (`backpressure.pause()`) until the buffer is half empty again
   * (`backpressure.resume()`) — for producers that can be paused, such as a socket behind a Subject.
   * A producer that keeps pushing while paused may fill a second buffer's worth; then the run fails.
   */
  readonly overflow?: 'block' | 'fail' | 'drop-newest' | 'drop-oldest';
  /** How to pause and resume the producer (required by `overflow: 'block'`). */
  readonly backpressure?: { pause(): void; resume(): void };
  /** Called with the running count each time a value is dropped. */
  readonly onDrop?: (dropped: number) => void;
}

const POLICIES: readonly string[] = ['block', 'fail', 'drop-newest', 'drop-oldest'];

/**
 * A source over an Observable, subscribed once per run; completes when the Observable completes
 * and fails the run when it errors. Never an unbounded buffer: see `overflow`.
 *
 * @example
 * const clicks$ = new Subject<Click>();
 * p.source(fromObservable(clicks$, { bufferSize: 10_000, overflow: 'drop-oldest' }), { timestamp: (c) => c.ts });
 */
export function fromObservable<T>(observable: Observable<T>, options: FromObservableOptions = {}): Source<T> {
  const where = 'tidemark.fromObservable';
  if (observable === null || typeof (observable as { subscribe?: unknown }).subscribe !== 'function') {
    throw new PlanError(`${where}: expected an Observable`);
  }
  const capacity = options.bufferSize ?? 100_000;
  if (!Number.isInteger(capacity) || capacity < 1) throw new PlanError(`${where}: bufferSize must be a positive integer`);
  const overflow = options.overflow ?? 'fail';
  if (!POLICIES.includes(overflow)) {
    throw new PlanError(`${where}: overflow must be one of ${POLICIES.map((x) => `'${x}'`).join(', ')}, got '${String(overflow)}'`);
  }
  const bp = options.backpressure;
  if (overflow === 'block' && (bp === undefined || typeof bp.pause !== 'function' || typeof bp.resume !== 'function')) {
    throw new PlanError(`${where}: overflow 'block' needs backpressure: { pause(), resume() } to slow the producer down`);
  }
  return {
    kind: 'observable',
    providesTimestamps: false,
    providesWatermarks: false,
    open(ctx) {
      // A queue as an array with a moving head (compacted when half of it is consumed).
      let buffer: T[] = [];
      let head = 0;
      const size = (): number => buffer.length - head;
      let complete = false;
      let failure: { error: unknown } | undefined;
      let wake: (() => void) | undefined;
      let dropped = 0;
      let paused = false;
      let pauses = 0;
      const notify = (): void => {
        const w = wake;
        wake = undefined;
        w?.();
      };
      const drop = (): void => {
        dropped++;
        options.onDrop?.(dropped);
      };
      const overflowed = (limit: number, why: string): void => {
        failure ??= { error: new SourceError(`source '${ctx.name}': the Observable overflowed its buffer of ${limit} values (${why})`) };
      };
      const subscription = observable.subscribe({
        next(v) {
          if (failure !== undefined) return;
          const n = size();
          if (overflow === 'block') {
            if (n >= 2 * capacity) {
              overflowed(2 * capacity, "overflow: 'block', and the producer kept pushing after pause()");
              return notify();
            }
            if (n + 1 >= capacity && !paused) {
              paused = true;
              pauses++;
              bp?.pause();
            }
          } else if (n >= capacity) {
            if (overflow === 'drop-newest') return drop();
            if (overflow === 'drop-oldest') {
              head++;
              drop();
            } else {
              overflowed(capacity, "overflow: 'fail'");
              return notify();
            }
          }
          buffer.push(v);
          notify();
        },
        error(e) {
          failure ??= { error: e };
          notify();
        },
        complete() {
          complete = true;
          notify();
        },
      });
      return {
        async next(): Promise<SourceChunk<T> | null> {
          for (;;) {
            if (failure !== undefined) throw failure.error;
            if (size() > 0) {
              const end = Math.min(buffer.length, head + ctx.batchSize);
              const values = head === 0 && end === buffer.length ? buffer : buffer.slice(head, end);
              head = end;
              if (head === buffer.length) {
                buffer = [];
                head = 0;
              } else if (head > 4096 && head * 2 > buffer.length) {
                buffer = buffer.slice(head);
                head = 0;
              }
              if (paused && size() <= capacity / 2) {
                paused = false;
                bp?.resume();
              }
              return { kind: 'records', values };
            }
            if (complete) return null;
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
          }
        },
        close() {
          subscription.unsubscribe();
        },
        stats: () => ({ dropped, buffered: size(), pauses }),
      };
    },
  };
}
