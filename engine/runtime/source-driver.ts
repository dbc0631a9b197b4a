/**
 * Drives one source: extracts and validates timestamps (bad ones become dead letters), runs the
 * watermark generator record by record, and emits batches and watermarks. Results are defined as
 * if the watermark advanced after every record; to keep that true at any batch size, a batch is
 * cut (and the watermark emitted) just before a record that the watermark already passed.
 */
import type { Cancel, Clock } from '../clock.js';
import { SourceError, describeError } from '../errors.js';
import type { SourceSpec } from '../plan.js';
import type { SourceChunk, SourceReader } from '../source.js';
import { isValidTimestamp, timestampProblem } from '../time.js';
import type { WatermarkGenerator } from '../watermark.js';
import { Emitter } from './emitter.js';

/** Counters of one source for the run summary: `read = emitted + deadLettered`. */
export interface SourceSummary {
  [counter: string]: number;
  read: number;
  emitted: number;
  deadLettered: number;
  /** Records whose timestamp ran more than `maxFutureSkew` ahead of the clock. */
  futureSkewed: number;
  watermark: number;
}

/** The runtime side of one source node. */
export class SourceDriver extends Emitter {
  private readonly extract: ((r: unknown) => number) | undefined;
  private readonly gen: WatermarkGenerator<unknown> | undefined;
  /** Watermark of the generator (or script) so far; `watermark` is what was emitted. */
  private genW = -Infinity;
  /** Watermarks the generator passed through since the last emitted watermark (ascending). */
  private trace: number[] = [];
  read = 0;
  futureSkewed = 0;
  private idleTimer: Cancel | undefined;
  /** The reader, while the source runs (for its own counters). */
  reader: SourceReader<unknown> | undefined;
  private periodicTimer: Cancel | undefined;

  constructor(
    name: string,
    readonly spec: SourceSpec,
    readonly clock: Clock,
    /** Harness sources have their watermarks driven by the test. */
    readonly manual: boolean,
  ) {
    super(name, name);
    this.extract = spec.timestamp;
    this.gen = manual ? undefined : spec.watermark?.create();
  }

  /** Handles one chunk from the reader. */
  handle(chunk: SourceChunk<unknown>): void {
    if (chunk.kind === 'records') {
      this.records(chunk.values, chunk.timestamps);
    } else if (chunk.kind === 'watermark') {
      this.advanceWatermark(chunk.time);
    } else {
      const clock = this.clock as Clock & { advanceBy?: (d: number) => void };
      if (typeof clock.advanceBy !== 'function') {
        throw new SourceError(`source '${this.name}': advancing processing time needs a pipeline with a ManualClock`);
      }
      clock.advanceBy(chunk.advanceBy);
    }
  }

  /** Emits records (timestamps given, or taken from the extractor). */
  records(values: readonly unknown[], timestamps: readonly number[] | undefined): void {
    if (this.idle) this.forwardIdle(false);
    const n = values.length;
    this.read += n;
    const gen = this.gen;
    const extract = this.extract as (r: unknown) => number;
    const skewLimit = this.spec.maxFutureSkew !== undefined && (this.clock.realTime || this.spec.maxFutureSkewAlways === true)
      ? this.clock.now() + this.spec.maxFutureSkew
      : Infinity;
    let genW = this.genW;
    // Records go out in runs ("segments") of the chunk, passed on without copying when the whole
    // chunk is clean; a dead letter or a watermark cut ends a run.
    let segStart = 0;
    let segTimes: number[] = [];
    let i = 0;
    while (i < n) {
      try {
        for (; i < n; i++) {
          const v = values[i];
          const t = timestamps !== undefined ? (timestamps[i] as number) : extract(v);
          if (!isValidTimestamp(t)) {
            segTimes = this.emitSegment(values, segStart, i, segTimes);
            segStart = i + 1;
            this.deadLetter(v, timestampProblem(t) as string);
            continue;
          }
          if (t <= genW && genW > this.watermark) {
            segTimes = this.emitSegment(values, segStart, i, segTimes);
            segStart = i;
            this.genW = genW;
            this.emitWatermark(genW);
          }
          segTimes.push(t);
          if (gen !== undefined) {
            if (t > skewLimit) {
              this.futureSkewed++;
            } else {
              const w = gen.onRecord(t, v);
              if (w > genW) {
                genW = w;
                this.trace.push(w);
              }
            }
          }
        }
      } catch (e) {
        segTimes = this.emitSegment(values, segStart, i, segTimes);
        segStart = i + 1;
        this.deadLetter(values[i], `timestamp extractor threw: ${describeError(e)}`);
        i++;
      }
    }
    this.emitSegment(values, segStart, n, segTimes);
    this.genW = genW;
    this.flushAll();
    if (genW > this.watermark) this.emitWatermark(genW);
    this.armIdleTimer();
  }

  /** Emits `values[from, to)` with their timestamps; returns a fresh timestamp buffer. */
  private emitSegment(values: readonly unknown[], from: number, to: number, times: number[]): number[] {
    if (to <= from) return times.length === 0 ? times : [];
    this.out.emitBatch({ values: from === 0 && to === values.length ? values : values.slice(from, to), times });
    return [];
  }

  /** A scripted or manual watermark (TestStream, harness); never goes backwards. */
  advanceWatermark(w: number): void {
    if (w > this.genW) this.genW = w;
    if (this.genW > this.watermark) this.emitWatermark(this.genW);
  }

  private emitWatermark(w: number): void {
    this.flushAll();
    const trace = this.trace;
    this.trace = [];
    if (trace.length > 0 && (trace[trace.length - 1] as number) < w) trace.push(w);
    this.forwardWatermark(w, trace.length > 1 ? trace : undefined);
  }

  /** Starts periodic watermark emission and idleness detection (run mode only). */
  start(): void {
    const period = this.spec.watermark?.periodMs;
    if (!this.manual && this.gen?.onPeriodic !== undefined && period !== undefined) {
      const tick = (): void => {
        if (this.ended) return;
        const w = (this.gen as WatermarkGenerator<unknown>).onPeriodic?.(this.clock.now()) ?? -Infinity;
        if (w > this.genW) this.genW = w;
        if (this.genW > this.watermark) this.emitWatermark(this.genW);
        this.periodicTimer = this.clock.schedule(this.clock.now() + period, tick);
      };
      this.periodicTimer = this.clock.schedule(this.clock.now() + period, tick);
    }
    this.armIdleTimer();
  }

  private armIdleTimer(): void {
    const timeout = this.spec.watermark?.idleTimeout;
    if (timeout === undefined || this.manual || this.ended) return;
    this.idleTimer?.();
    this.idleTimer = this.clock.schedule(this.clock.now() + timeout, () => {
      if (!this.ended) this.forwardIdle(true);
    });
  }

  /** End of input: the watermark goes to +∞ (flushing every window), then end-of-stream. */
  finish(): void {
    if (this.ended) return;
    this.stopTimers();
    this.flushAll();
    if (this.idle) this.forwardIdle(false);
    this.genW = Infinity;
    this.forwardWatermark(Infinity);
    this.forwardEnd();
  }

  stopTimers(): void {
    this.idleTimer?.();
    this.periodicTimer?.();
    this.idleTimer = undefined;
    this.periodicTimer = undefined;
  }

  summary(): SourceSummary {
    return {
      ...(this.reader?.stats?.() ?? {}),
      read: this.read,
      emitted: this.out.count,
      deadLettered: this.deadLettered,
      futureSkewed: this.futureSkewed,
      watermark: this.watermark,
    };
  }
}

/** A reader's failure, named after its source (the original error is `cause`). */
function sourceFailure(name: string, e: unknown): unknown {
  if (e instanceof SourceError) return e;
  return new SourceError(`source '${name}' failed: ${describeError(e)}`, { cause: e });
}

/** Reads a reader to the end (or until the run stops), handing each chunk to `driver`; yields between chunks. */
export async function pump(
  reader: SourceReader<unknown>,
  driver: SourceDriver,
  shouldStop: () => boolean,
  stopped: Promise<void>,
  drain: () => Promise<void> | undefined,
): Promise<void> {
  driver.reader = reader;
  driver.start();
  const read = (): SourceChunk<unknown> | null | Promise<SourceChunk<unknown> | null> => {
    try {
      return reader.next();
    } catch (e) {
      throw sourceFailure(driver.name, e);
    }
  };
  try {
    for (;;) {
      if (shouldStop()) return;
      let chunk = read();
      // A reader that waits (a quiet broker, a stalled iterable) must not keep a failed run alive.
      if (chunk instanceof Promise) {
        chunk = await Promise.race([
          chunk.catch((e: unknown) => Promise.reject(sourceFailure(driver.name, e))),
          stopped.then(() => null),
        ]);
      } else {
        await null; // let other sources interleave
      }
      if (shouldStop()) return;
      if (chunk === null) break;
      driver.handle(chunk);
      const d = drain();
      if (d !== undefined) await d;
    }
    driver.finish();
  } finally {
    driver.stopTimers();
    const closing = reader.close?.();
    // After a failure, a reader may be stuck in a pending read; do not wait for it to close.
    if (closing instanceof Promise) {
      if (shouldStop()) closing.catch(() => undefined);
      else await closing;
    }
  }
}
