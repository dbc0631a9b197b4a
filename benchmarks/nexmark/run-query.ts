/**
 * Runs one Nexmark query as a Tidemark pipeline over a source of events — the fused generator
 * (`nexmarkSource`) or an array of events (`fromArray`) — handing each result to a callback.
 */
import { Pipeline, boundedOutOfOrderness, forEach, fromArray } from 'tidemark';
import type { Clock, RunSummary, Source } from 'tidemark';
import type { NexmarkEvent } from './events.js';
import { QUERIES, type QueryName } from './queries.js';

/** Options of `runQuery`. */
export interface RunQueryOptions {
  /** Bounded out-of-orderness of the watermark (ms): at least the input's disorder. */
  readonly bound: number;
  /** The pipeline's clock (q12 needs a `ManualClock` and a source that steps it). */
  readonly clock?: Clock;
  /** The pipeline's batch size (default 1024). */
  readonly batchSize?: number;
}

const byDateTime = (e: NexmarkEvent): number => e.dateTime;

/** A source over events held in memory. */
export function eventsSource(events: readonly NexmarkEvent[]): Source<NexmarkEvent> {
  return fromArray(events);
}

/**
 * Builds and runs `query` over `source`; every result goes to `onResult`.
 *
 * @example
 * const out: unknown[] = [];
 * await runQuery('q5', nexmarkSource({ events: 100_000 }), (r) => out.push(r), { bound: 0 });
 */
export async function runQuery(query: QueryName, source: Source<NexmarkEvent>, onResult: (r: unknown) => void, options: RunQueryOptions): Promise<RunSummary> {
  const where = 'runQuery';
  if (!Number.isInteger(options.bound) || options.bound < 0) throw new RangeError(`${where}: bound must be a non-negative integer (ms), got ${String(options.bound)}`);
  const p = new Pipeline({
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
  });
  const events = p.source(source, {
    name: 'nexmark',
    watermark: boundedOutOfOrderness(options.bound),
    ...(source.providesTimestamps ? {} : { timestamp: byDateTime }),
  });
  QUERIES[query](events).sink(forEach(onResult), { name: 'results' });
  return p.run();
}
