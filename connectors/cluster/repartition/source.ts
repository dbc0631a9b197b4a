/**
 * The reader side of a repartition stream: a partitioned, replayable source over
 * `<stream>.<partition>` (read with `fromJetStream`, following) that yields the records with their
 * event times and scripts the watermark itself — the minimum over every origin partition of the
 * last marker received from it — and ends once every origin has sent its final (`Infinity`)
 * marker. Its position is the JetStream position plus each origin's watermark, so a restored
 * reader continues with the same watermark.
 */
import { SourceError } from '../../../engine/errors.js';
import type { Source, SourceChunk, SourceContext, SourceDeadLetter, SourceReader } from '../../../engine/source.js';
import { fromJetStream } from '../../jetstream/from-jetstream.js';
import type { JetStreamConnectionOptions } from '../../jetstream/connection.js';
import { classify } from './messages.js';

/** The position of a repartition reader. */
interface RepartitionPosition {
  readonly inner: unknown;
  /** `[origin, watermark]` of every origin heard from. */
  readonly origins: readonly (readonly [number, number])[];
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
      return new RepartitionReader(reader, partitions, new Map(resumed?.origins ?? []));
    },
  };
}

class RepartitionReader implements SourceReader<unknown> {
  private readonly queue: SourceChunk<unknown>[] = [];
  private readonly innerOf = new WeakMap<object, SourceChunk<unknown>>();
  private emitted = -Infinity;

  constructor(private readonly inner: SourceReader<unknown>, private readonly count: number, private readonly origins: Map<number, number>) {
    // a restored reader first re-announces the watermark its origins had reached
    this.pushWatermark();
  }

  /** The minimum over every origin (−∞ while one has not been heard from). */
  private watermark(): number {
    if (this.origins.size < this.count) return -Infinity;
    let min = Infinity;
    for (const w of this.origins.values()) if (w < min) min = w;
    return min;
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
        } else if ('w' in m) {
          if (m.w > (this.origins.get(m.o) ?? -Infinity)) this.origins.set(m.o, m.w);
        } else {
          values.push(m.v);
          times.push(m.t);
        }
      }
      const position: RepartitionPosition = { inner: chunk.position, origins: [...this.origins] };
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
