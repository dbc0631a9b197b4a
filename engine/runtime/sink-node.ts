/**
 * Adapts a sink to the operator contract: each batch becomes one `write`; a write that returns a
 * promise is tracked so the runtime awaits it before reading more input (backpressure). A write
 * that fails is retried with backoff (on the pipeline's clock), then fails the run with a
 * `SinkError` naming the sink.
 */
import type { Backoff } from '../backoff.js';
import { sleepOn } from '../backoff.js';
import type { Clock } from '../clock.js';
import { SinkError, describeError } from '../errors.js';
import type { OperatorFactory, OperatorLogic } from '../operator.js';
import type { Sink } from '../sink.js';

/** How a sink node retries failed writes and reports retries. */
export interface SinkRetry {
  readonly policy: Backoff | undefined;
  /** True once the run is over: a write waiting to be retried is given up. */
  readonly over: () => boolean;
  readonly clock: Clock;
  readonly onRetry: (attempt: number, delayMs: number, error: unknown) => void;
}

/** Builds the operator factory that feeds `sink` (named `name`), handing pending writes to `track`. */
export function sinkFactory(name: string, sink: Sink<unknown>, track: (p: Promise<void>) => void, retry: SinkRetry): OperatorFactory {
  const fail = (e: unknown, attempt: number): SinkError =>
    new SinkError(`sink '${name}' (${sink.kind}) failed${attempt > 1 ? ` after ${attempt - 1} retries` : ''}: ${describeError(e)}`, name, { cause: e });
  const again = (values: readonly unknown[], times: readonly number[], e: unknown, attempt: number): Promise<void> => {
    const policy = retry.policy;
    if (policy === undefined || attempt > policy.attempts || retry.over()) return Promise.reject(fail(e, attempt));
    const delay = policy.delayFor(attempt);
    retry.onRetry(attempt, delay, e);
    return sleepOn(retry.clock, delay).then(() => (retry.over() ? Promise.reject(fail(e, attempt)) : write(values, times, attempt + 1) ?? undefined));
  };
  const write = (values: readonly unknown[], times: readonly number[], attempt: number): Promise<void> | undefined => {
    let r: void | Promise<void>;
    try {
      r = sink.write(values, times);
    } catch (e) {
      return again(values, times, e, attempt);
    }
    if (r instanceof Promise) return r.then(() => undefined, (e: unknown) => again(values, times, e, attempt));
    return undefined;
  };
  return {
    kind: `sink:${sink.kind}`,
    build(): OperatorLogic {
      // Writes reach the sink one at a time, in order: a batch waits for the previous write (and
      // its retries) to finish, so output order never depends on how long a write takes.
      let tail: Promise<void> | undefined;
      return {
        onBatch(batch) {
          if (retry.over()) return; // a stale timer of a finished run: the sink has moved on
          const { values, times } = batch;
          if (tail !== undefined) {
            const next: Promise<void> = tail.then(() => write(values, times, 1)).finally(() => {
              if (tail === next) tail = undefined;
            });
            tail = next;
            track(next);
            return;
          }
          const r = write(values, times, 1);
          if (r === undefined) return;
          const mine: Promise<void> = r.finally(() => {
            if (tail === mine) tail = undefined;
          });
          tail = mine;
          track(mine);
        },
      };
    },
  };
}

/** The pass-through that merges several inputs (union, the pipeline's dead-letter stream). */
export const passThrough: OperatorFactory = {
  kind: 'pass-through',
  keyedState: 'stateless',
  build(ctx) {
    const out = ctx.out;
    return {
      onBatch(batch) {
        out.emitBatch(batch);
      },
    };
  },
};
