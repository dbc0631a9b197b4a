/**
 * `fromAsyncIterable(iterable)`: a source over any async (or sync) iterable — generators,
 * Node streams, paginated APIs. Records that are already available are gathered into chunks;
 * the reader never waits for a chunk to fill.
 */
import { PlanError } from '../engine/errors.js';
import type { Source, SourceChunk } from '../engine/source.js';

/**
 * A source over an async iterable (iterated once per run). Pulling is demand-driven, so a slow
 * pipeline slows the producer.
 *
 * @example
 * async function* ticks() { for (let i = 0; i < 3; i++) yield { ts: i * 1000 }; }
 * p.source(fromAsyncIterable(ticks()), { timestamp: (t) => t.ts });
 */
export function fromAsyncIterable<T>(iterable: AsyncIterable<T> | Iterable<T>): Source<T> {
  const asyncIt = (iterable as AsyncIterable<T> | null)?.[Symbol.asyncIterator];
  const syncIt = (iterable as Iterable<T> | null)?.[Symbol.iterator];
  if (typeof asyncIt !== 'function' && typeof syncIt !== 'function') {
    throw new PlanError('tidemark.fromAsyncIterable: expected an async iterable (or an iterable)');
  }
  return {
    kind: 'async-iterable',
    providesTimestamps: false,
    providesWatermarks: false,
    open(ctx) {
      const it: AsyncIterator<T> | Iterator<T> = typeof asyncIt === 'function'
        ? (iterable as AsyncIterable<T>)[Symbol.asyncIterator]()
        : (iterable as Iterable<T>)[Symbol.iterator]();
      let done = false;
      let ahead: Promise<IteratorResult<T>> | undefined;
      let settled: IteratorResult<T> | undefined;
      const pull = (): Promise<IteratorResult<T>> => {
        const p = Promise.resolve(it.next());
        settled = undefined;
        void p.then((r) => {
          if (ahead === p) settled = r;
        }, () => undefined);
        ahead = p;
        return p;
      };
      return {
        async next(): Promise<SourceChunk<T> | null> {
          if (done) return null;
          const first = await (ahead ?? pull());
          ahead = undefined;
          if (first.done === true) {
            done = true;
            return null;
          }
          const values: T[] = [first.value];
          // Gather what is already available without waiting.
          while (values.length < ctx.batchSize) {
            pull();
            await Promise.resolve();
            await Promise.resolve();
            if (settled === undefined) break;
            ahead = undefined;
            if (settled.done === true) {
              done = true;
              break;
            }
            values.push(settled.value);
          }
          return { kind: 'records', values };
        },
        async close() {
          if (!done) await it.return?.();
        },
      };
    },
  };
}
