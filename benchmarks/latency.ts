/**
 * Latency at a fixed input rate, for any Tidemark job: a paced source hands over chunks on a
 * real-time schedule; each chunk's hand-over time and the watermark after it
 * (`maxTs − bound − 1`, the bounded-out-of-orderness rule) are recorded; a window result ending
 * at `e` is measured from the hand-over of the first chunk after which the watermark reached
 * `e − 1` (the moment the window became due) to the result's arrival at the sink. Windows
 * closed only by the end of input (no chunk's watermark reached them) are not counted.
 *
 * Used by the Nexmark bench (q4, q5, q7, q8, q11) and by the runner's window counts (tumbling,
 * sliding, session). Real time is the point here: this is a benchmark helper, never used by tests.
 */
import { Pipeline, boundedOutOfOrderness, forEach } from 'tidemark';
import type { Source, SourceChunk, Stream } from 'tidemark';

/** The input, produced chunk by chunk (a generator, or slices of an array). */
export interface PacedInput<T> {
  /** Number of records. */
  readonly total: number;
  /** Records `[at, at + n)` and their event timestamps. */
  chunk(at: number, n: number): { values: T[]; timestamps: number[] };
}

/** Options of `pacedLatency`. */
export interface PacedLatencyOptions {
  /** Records per second of real time. */
  readonly rate: number;
  /** Bounded out-of-orderness of the watermark (ms). */
  readonly bound: number;
  /** Records per chunk (default 1 000). */
  readonly chunkSize?: number;
}

/** p50 / p99 / max (ms) over the measured window results. */
export interface LatencyFigures {
  readonly windows: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Percentile (nearest rank) of sorted values (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/**
 * Runs `attach(source stream)` over `input` paced at `options.rate` and measures, for every
 * result with a window end (`endOf(r)` defined), watermark-passes-end → sink latency.
 *
 * @example
 * const l = await pacedLatency(input, { rate: 200_000, bound: 0 }, (s) => q7(s), (r) => r.end);
 */
export async function pacedLatency<T, R>(
  input: PacedInput<T>,
  options: PacedLatencyOptions,
  attach: (events: Stream<T>) => Stream<R>,
  endOf: (r: R) => number | undefined,
): Promise<LatencyFigures> {
  const where = 'pacedLatency';
  const chunkSize = options.chunkSize ?? 1_000;
  if (!(options.rate > 0) || !Number.isFinite(options.rate)) throw new RangeError(`${where}: rate must be a positive number of records per second, got ${String(options.rate)}`);
  if (!Number.isInteger(options.bound) || options.bound < 0) throw new RangeError(`${where}: bound must be a non-negative integer (ms), got ${String(options.bound)}`);
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`${where}: chunkSize must be a positive integer, got ${String(chunkSize)}`);
  if (typeof attach !== 'function' || typeof endOf !== 'function') throw new TypeError(`${where}: attach and endOf must be functions`);
  const { rate, bound } = options;
  const handedAt: number[] = [];
  const watermarkAfter: number[] = [];
  const latencies: number[] = [];
  const source: Source<T> = {
    kind: 'paced',
    providesTimestamps: true,
    providesWatermarks: false,
    open() {
      let at = 0;
      let maxTs = -Infinity;
      const start = performance.now();
      return {
        async next(): Promise<SourceChunk<T> | null> {
          if (at >= input.total) return null;
          const due = start + (at / rate) * 1000;
          const wait = due - performance.now();
          if (wait > 1) await new Promise((r) => setTimeout(r, wait));
          const n = Math.min(chunkSize, input.total - at);
          const { values, timestamps } = input.chunk(at, n);
          at += n;
          for (const t of timestamps) if (t > maxTs) maxTs = t;
          handedAt.push(performance.now());
          watermarkAfter.push(maxTs - bound - 1);
          return { kind: 'records', values, timestamps };
        },
      };
    },
  };
  const p = new Pipeline();
  const events = p.source(source, { name: 'paced', watermark: boundedOutOfOrderness(bound) });
  attach(events).sink(forEach((r: R) => {
    const end = endOf(r);
    if (end === undefined) return;
    // the first chunk after which the watermark reached end − 1 (watermarks only grow)
    let lo = 0;
    let hi = watermarkAfter.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((watermarkAfter[mid] as number) >= end - 1) hi = mid;
      else lo = mid + 1;
    }
    if (lo < handedAt.length) latencies.push(performance.now() - (handedAt[lo] as number));
  }));
  await p.run();
  latencies.sort((a, b) => a - b);
  return { windows: latencies.length, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), maxMs: latencies[latencies.length - 1] ?? NaN };
}
