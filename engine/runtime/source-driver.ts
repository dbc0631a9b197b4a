/**
 * Drives one source: extracts and validates timestamps (bad ones become dead letters), runs the
 * watermark generator record by record, and emits batches and watermarks. Results are defined as
 * if the watermark advanced after every record; to keep that true at any batch size, a batch is
 * cut (and the watermark emitted) just before a record that the watermark already passed.
 */
import type { Cancel, Clock } from '../clock.js';
import { SourceError, describeError } from '../errors.js';
import type { SourceCheckpoint } from '../checkpoint.js';
import type { SourceSpec } from '../plan.js';
import type { SourceChunk, SourceReader } from '../source.js';
import { isValidTimestamp, timestampProblem } from '../time.js';
import type { AlignmentGroup } from './alignment.js';
import { Emitter } from './emitter.js';
import { type PartitionState, PartitionWatermarks } from './partition-watermarks.js';

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
  /** Per-partition generators (none in manual mode: the harness drives the watermark). */
  private readonly parts: PartitionWatermarks;
  /** Watermark of the generators (or script) so far; `watermark` is what was emitted. */
  private genW = -Infinity;
  /** Watermarks the generator passed through since the last emitted watermark (ascending). */
  private trace: number[] = [];
  read = 0;
  futureSkewed = 0;
  /** Deliver every watermark advance before the next record (an operator downstream needs it). */
  cutEveryAdvance = false;
  /** The watermark alignment group, if the source belongs to one. */
  alignment: AlignmentGroup | undefined;
  /** Times the source was paused by watermark alignment. */
  aligned = 0;
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
    this.parts = new PartitionWatermarks(manual ? undefined : spec.watermark, () => clock.now());
  }

  /** The reader position of the last chunk handled (what a checkpoint keeps). */
  readerPosition: unknown = undefined;

  /** The source's part of a checkpoint (taken between chunks). */
  checkpoint(): SourceCheckpoint {
    return {
      position: this.readerPosition,
      replayable: this.spec.source.replayable === true,
      watermark: this.outWatermark,
      partitions: this.parts.saved(),
      read: this.read,
    };
  }

  /** Restores what `checkpoint()` saved; the watermark is re-emitted when the source starts. */
  restore(saved: SourceCheckpoint): void {
    this.readerPosition = saved.position;
    this.read = saved.read;
    this.parts.restore(saved.partitions);
    if (saved.watermark > this.genW) this.genW = saved.watermark;
  }

  /** Handles one chunk from the reader. */
  handle(chunk: SourceChunk<unknown>): void {
    if ((chunk.kind === 'records' || chunk.kind === 'dead-letters') && chunk.position !== undefined) this.readerPosition = chunk.position;
    if (chunk.kind === 'records') {
      this.records(chunk.values, chunk.timestamps, chunk.partition);
    } else if (chunk.kind === 'dead-letters') {
      this.read += chunk.letters.length;
      for (const l of chunk.letters) this.deadLetter(l.value, l.reason, undefined, l.position);
      this.flushAll();
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
  records(values: readonly unknown[], timestamps: readonly number[] | undefined, partition = -1): void {
    const part = this.parts.get(partition, this.outWatermark);
    if (part.idle) {
      part.idle = false;
      part.joined = part.w >= this.outWatermark;
    }
    if (this.idle) this.forwardIdle(false);
    const n = values.length;
    this.read += n;
    const gen = part.gen;
    const extract = this.extract as (r: unknown) => number;
    const skewLimit = this.spec.maxFutureSkew !== undefined && (this.clock.realTime || this.spec.maxFutureSkewAlways === true)
      ? this.clock.now() + this.spec.maxFutureSkew
      : Infinity;
    let genW = this.genW;
    const cutAll = this.cutEveryAdvance;
    const sinceNow = this.clock.now();
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
          if ((t <= genW || cutAll) && genW > this.outWatermark) {
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
              if (w > part.w) {
                part.w = w;
                part.since = sinceNow;
                if (!part.joined && w >= this.outWatermark) part.joined = true;
                const c = this.parts.combined();
                if (c > genW) {
                  genW = c;
                  this.trace.push(c);
                }
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
    if (genW > this.outWatermark) this.emitWatermark(genW);
    this.armIdleTimer(part);
    this.alignPartitions();
  }

  /** Emits `values[from, to)` with their timestamps; returns a fresh timestamp buffer. */
  private emitSegment(values: readonly unknown[], from: number, to: number, times: number[]): number[] {
    if (to <= from) return times.length === 0 ? times : [];
    this.out.emitBatch({ values: from === 0 && to === values.length ? values : values.slice(from, to), times });
    return [];
  }

  /** A scripted or manual watermark (TestStream, harness); never goes backwards. */
  advanceWatermark(w: number): void {
    this.advanceTo(w);
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
    const declared = this.reader?.partitions;
    if (declared !== undefined) this.parts.declare(declared);
    // A restored source first re-emits the watermark it had reached (before any record).
    if (this.genW > this.outWatermark) this.emitWatermark(this.genW);
    const period = this.spec.watermark?.periodMs;
    if (!this.manual && period !== undefined) {
      const tick = this.guarded((): void => {
        if (this.ended) return;
        const now = this.clock.now();
        for (const p of this.parts.all()) {
          const w = p.gen?.onPeriodic?.(now);
          if (w !== undefined && w > p.w) {
            p.w = w;
            p.since = now;
            if (!p.joined && w >= this.outWatermark) p.joined = true;
          }
        }
        this.periodicTimer = this.clock.schedule(this.clock.now() + period, tick);
        this.advanceTo(this.parts.combined());
      });
      this.periodicTimer = this.clock.schedule(this.clock.now() + period, tick);
    }
    for (const p of this.parts.all()) this.armIdleTimer(p);
  }

  /** Emits `w` as the source's watermark if it is an advance. */
  private advanceTo(w: number): void {
    if (w > this.genW) this.genW = w;
    if (this.genW > this.outWatermark) this.emitWatermark(this.genW);
  }

  /** Marks `p` idle after the strategy's idle timeout without records from it. */
  private armIdleTimer(p: PartitionState): void {
    const timeout = this.spec.watermark?.idleTimeout;
    if (timeout === undefined || this.manual || this.ended) return;
    p.idleTimer?.();
    p.idleTimer = this.clock.schedule(this.clock.now() + timeout, this.guarded(() => {
      if (this.ended) return;
      p.idle = true;
      p.joined = false;
      this.advanceTo(this.parts.combined());
      if (this.parts.allIdle()) this.forwardIdle(true);
    }));
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
    for (const p of this.parts.all()) {
      p.idleTimer?.();
      p.idleTimer = undefined;
    }
    this.periodicTimer?.();
    this.periodicTimer = undefined;
  }

  private pausedKey = '';

  /** Tells the reader which of its partitions run more than `maxDrift` ahead of the group. */
  alignPartitions(): void {
    const group = this.alignment;
    const reader = this.reader;
    if (group === undefined || reader?.pause === undefined || this.ended) return;
    const limit = group.minimum() + group.maxDrift;
    const paused = new Set<number>();
    for (const p of this.parts.all()) if (p.joined && !p.idle && p.w > limit) paused.add(p.id);
    const key = [...paused].sort((a, b) => a - b).join(',');
    if (key === this.pausedKey) return;
    this.pausedKey = key;
    if (paused.size > 0) this.aligned++;
    reader.pause(paused);
  }

  /** Where errors from the driver's own timers go (the runtime fails the run); unset: thrown. */
  onAsyncError: ((error: unknown) => void) | undefined;

  /** Runs a timer's work; what it causes downstream that throws fails the run, not the process. */
  private guarded(work: () => void): () => void {
    return () => {
      try {
        work();
      } catch (e) {
        if (this.onAsyncError === undefined) throw e;
        this.onAsyncError(e);
      }
    };
  }

  /** Each partition's watermark, idleness and when it last advanced (for explanations). */
  partitions(): readonly PartitionState[] {
    return [...this.parts.all()];
  }

  summary(): SourceSummary {
    return {
      ...(this.reader?.stats?.() ?? {}),
      read: this.read,
      emitted: this.out.count,
      deadLettered: this.deadLettered,
      futureSkewed: this.futureSkewed,
      ...(this.alignment === undefined ? {} : { alignmentPauses: this.aligned }),
      watermark: this.outWatermark,
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
  checkpoints?: { readonly gate: Promise<void> | undefined; afterChunk(): Promise<unknown> | undefined },
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
  const clock = driver.clock;
  let yieldedAt = clock.now();
  try {
    for (;;) {
      if (shouldStop()) return;
      // A source that never waits must not starve due timers (checkpoints, processing time).
      if (clock.realTime && clock.yieldToTimers !== undefined && clock.now() - yieldedAt >= 10) {
        await clock.yieldToTimers();
        yieldedAt = clock.now();
      }
      if (driver.alignment !== undefined && !driver.alignment.mayRead(driver)) await driver.alignment.wait(driver, stopped, shouldStop);
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
      // A checkpoint in progress: the chunk waits (the cut is between chunks).
      // A failed or stopped run does not wait for a pause to be released.
      while (checkpoints?.gate !== undefined && !shouldStop()) await Promise.race([checkpoints.gate, stopped]);
      if (shouldStop()) return;
      if (chunk === null) break;
      driver.handle(chunk);
      const d = drain();
      if (d !== undefined) await d;
      const acked = reader.ack?.(chunk);
      if (acked instanceof Promise) await acked;
      const cp = checkpoints?.afterChunk();
      if (cp !== undefined) await cp;
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
