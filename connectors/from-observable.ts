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
  /** When the buffer is full: fail the run (default), or drop the newest / oldest value. */
  readonly overflow?: 'fail' | 'drop-newest' | 'drop-oldest';
  /** Called with the running count each time a value is dropped. */
  readonly onDrop?: (dropped: number) => void;
}

/**
 * A source over an Observable, subscribed once per run; completes when the Observable completes
 * and fails the run when it errors.
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
  if (!['fail', 'drop-newest', 'drop-oldest'].includes(overflow)) {
    throw new PlanError(`${where}: overflow must be 'fail', 'drop-newest' or 'drop-oldest'`);
  }
  return {
    kind: 'observable',
    providesTimestamps: false,
    providesWatermarks: false,
    open(ctx) {
      let buffer: T[] = [];
      let complete = false;
      let failure: { error: unknown } | undefined;
      let wake: (() => void) | undefined;
      let dropped = 0;
      const notify = (): void => {
        const w = wake;
        wake = undefined;
        w?.();
      };
      const drop = (): void => {
        dropped++;
        options.onDrop?.(dropped);
      };
      const subscription = observable.subscribe({
        next(v) {
          if (buffer.length >= capacity) {
            if (overflow === 'drop-newest') return drop();
            if (overflow === 'drop-oldest') {
              buffer.shift();
              drop();
            } else {
              failure ??= { error: new SourceError(`source '${ctx.name}': the Observable overflowed its buffer of ${capacity} values (overflow: 'fail')`) };
            }
          }
          if (failure === undefined) buffer.push(v);
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
            if (buffer.length > 0) {
              const values = buffer.length <= ctx.batchSize ? buffer : buffer.slice(0, ctx.batchSize);
              buffer = buffer.length <= ctx.batchSize ? [] : buffer.slice(ctx.batchSize);
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
        stats: () => ({ dropped }),
      };
    },
  };
}
