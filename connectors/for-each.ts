/**
 * `forEach(fn)`: a sink that calls a function for every value.
 */
import { PlanError } from '../engine/errors.js';
import type { Sink } from '../engine/sink.js';

/**
 * Calls `fn(value, timestamp)` for each value. If `fn` returns a promise, the pipeline waits for
 * it before reading more input (backpressure); a rejection fails the run.
 *
 * @example
 * results.sink(forEach((r) => metrics.gauge(r.key, r.value)));
 */
export function forEach<T>(fn: (value: T, timestamp: number) => void | Promise<void>): Sink<T> {
  if (typeof fn !== 'function') throw new PlanError('tidemark.forEach: expected a function');
  return {
    kind: 'forEach',
    write(values, timestamps) {
      let pending: Promise<void>[] | undefined;
      for (let i = 0; i < values.length; i++) {
        const r = fn(values[i] as T, timestamps[i] as number);
        if (r instanceof Promise) (pending ??= []).push(r);
      }
      if (pending !== undefined) return Promise.all(pending).then(() => undefined);
      return undefined;
    },
  };
}
