/**
 * The reader side of a repartition stream: a partitioned, replayable source over
 * `<stream>.<partition>` (read with `fromJetStream`, following) that yields the records with their
 * event times and scripts the watermark itself — the minimum over every origin partition of the
 * last marker received from it, leaving out origins whose last idleness marker said idle — and
 * ends once every origin has sent its final (`Infinity`) marker. It drops what an origin already handed over — a record whose counter `n` it has passed,
 * or anything carrying an older fencing token than the newest seen from that origin (a zombie's) —
 * so a replay is dropped however late it comes (no dependence on the duplicate window). Its
 * position is the JetStream position plus each origin's watermark, newest token and highest
 * counter, so a restored reader continues with the same watermark and the same de-duplication.
 */
import { SourceError } from '../../../engine/errors.js';
import type { Source, SourceChunk, SourceContext, SourceDeadLetter, SourceReader } from '../../../engine/source.js';
import { fromJetStream } from '../../jetstream/from-jetstream.js';
import type { JetStreamConnectionOptions } from '../../jetstream/connection.js';
import { classify } from './messages.js';

/** The position of a repartition reader. */
interface RepartitionPosition {
  readonly inner: unknown;
  /** `[origin, watermark, newest token, highest counter]` of every origin heard from. */
  readonly origins: readonly (readonly [number, number, number?, number?, boolean?])[];
}

/** What a reader knows of one origin. */
interface Origin {
  w: number;
  k: number;
  n: number;
  /** Its last idleness marker said idle (and nothing came from it since). */
  idle: boolean;
}

/**
 * The repartition source of `stream` with `partitions` partitions (and as many origins).
 *
 * @example
 * const source = repartitionSource({ servers: '127.0.0.1:4222' }, 'app-repartition-byPage', 8);
 */
export function repartitionSource(nats: JetStreamConnectionOptions, stream: string, partitions: number): Source<unknown> {
  const inner = fromJetStream<unknown>({ ...nats, stream, partitions, format: 'msgpack', follow: true });
  return {
    kind: 'repartition',
    providesTimestamps: true,
    providesWatermarks: true,
    replayable: true,
    partitionCount: partitions,
    open(ctx: SourceContext): SourceReader<unknown> {
      const resumed = ctx.resume as RepartitionPosition | undefined;
      if (resumed !== undefined && (resumed === null || typeof resumed !== 'object' || !Array.isArray(resumed.origins))) {
        throw new SourceError(`tidemark.runPartitioned: cannot resume the repartition stream '${stream}' from ${JSON.stringify(resumed)}`);
      }
      const reader = inner.open({ ...ctx, ...(resumed === undefined ? {} : { resume: resumed.inner }) });
      const origins = new Map<number, Origin>();
      for (const [o, w, k, n, idle] of resumed?.origins ?? []) origins.set(o, { w, k: k ?? 0, n: n ?? -1, idle: idle === true });
      return new RepartitionReader(reader, partitions, origins);
    },
  };
}

class RepartitionReader implements SourceReader<unknown> {
  private readonly queue: SourceChunk<unknown>[] = [];
  private readonly innerOf = new WeakMap<object, SourceChunk<unknown>>();
  private emitted = -Infinity;

  constructor(private readonly inner: SourceReader<unknown>, private readonly count: number, private readonly origins: Map<number, Origin>) {
    // a restored reader first re-announces the watermark its origins had reached
    this.pushWatermark();
  }

  /**
   * The minimum over every active origin (−∞ while one has not been heard from); while every origin
   * is idle, the maximum over them (as Flink's watermark valve does: nothing can come below it
   * until an origin is active again, and then its records are late by the watermark it joins).
   */
  private watermark(): number {
    if (this.origins.size < this.count) return -Infinity;
    let min = Infinity;
    let max = -Infinity;
    let active = 0;
    for (const x of this.origins.values()) {
      if (x.w > max) max = x.w;
      if (x.idle && x.w < Infinity) continue;
      active++;
      if (x.w < min) min = x.w;
    }
    return active === 0 ? max : min;
  }

  private pushWatermark(): void {
    const w = this.watermark();
    if (w > this.emitted && w > -Infinity) {
      this.emitted = w;
      this.queue.push({ kind: 'watermark', time: w });
    }
  }

  async next(): Promise<SourceChunk<unknown> | null> {
    for (;;) {
      const queued = this.queue.shift();
      if (queued !== undefined) return queued;
      if (this.watermark() === Infinity) return null; // every origin has ended
      const chunk = await this.inner.next();
      if (chunk === null) return null;
      if (chunk.kind !== 'records') {
        this.queue.push(chunk);
        continue;
      }
      const values: unknown[] = [];
      const times: number[] = [];
      const letters: SourceDeadLetter[] = [];
      const src = chunk.values;
      for (let i = 0; i < src.length; i++) {
        const m = classify(src[i], this.count);
        if (m === undefined) {
          letters.push({ value: src[i], reason: 'not a repartition record or marker', position: { partition: chunk.partition } });
          continue;
        }
        let origin = this.origins.get(m.o);
        if (origin === undefined) {
          origin = { w: -Infinity, k: m.k, n: -1, idle: false };
          this.origins.set(m.o, origin);
        }
        if (m.k < origin.k) continue; // a zombie's (an older owner of the origin partition)
        origin.k = m.k;
        if ('i' in m) {
          origin.idle = m.i;
          continue;
        }
        origin.idle = false;
        if ('w' in m) {
          if (m.w > origin.w) origin.w = m.w;
        } else if (m.n > origin.n) {
          origin.n = m.n;
          values.push(m.v);
          times.push(m.t);
        }
      }
      const origins: [number, number, number, number, boolean][] = [];
      for (const [o, x] of this.origins) origins.push([o, x.w, x.k, x.n, x.idle]);
      const position: RepartitionPosition = { inner: chunk.position, origins };
      if (letters.length > 0) this.queue.push({ kind: 'dead-letters', letters });
      const out: SourceChunk<unknown> = { kind: 'records', values, timestamps: times, position };
      this.innerOf.set(out, chunk);
      this.queue.push(out);
      this.pushWatermark();
    }
  }

  ack(chunk: SourceChunk<unknown>): void | Promise<void> {
    const c = this.innerOf.get(chunk);
    if (c !== undefined) return this.inner.ack?.(c);
    return undefined;
  }

  stats(): Record<string, number> {
    return this.inner.stats?.() ?? {};
  }

  close(): void | Promise<void> {
    return this.inner.close?.();
  }
}
