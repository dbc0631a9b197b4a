/**
 * The Nexmark generator as a Tidemark source (fused: events are generated chunk by chunk as the
 * pipeline pulls, the way Flink's Nexmark suite measures, so no input array is held in memory)
 * and as a writer of JSON-lines files.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Source, SourceChunk } from 'tidemark';
import type { NexmarkEvent } from './events.js';
import { NexmarkGenerator, type NexmarkOptions } from './generator.js';

/** Options of `nexmarkSource`: the generator's, plus how chunks are cut and processing time. */
export interface NexmarkSourceOptions extends NexmarkOptions {
  /** Events per chunk (default: the pipeline's batch size). */
  readonly batchSize?: number;
  /**
   * Simulated arrival (needs a pipeline with a `ManualClock`): before each chunk, processing
   * time is moved to the chunk's first event time (never backwards), and after the last chunk
   * it advances `trailingMs` more, so processing-time timers pending at the end fire.
   */
  readonly processingTime?: { readonly trailingMs: number };
}

/**
 * A fused Nexmark source: chunks carry their events' timestamps (`dateTime`), so the pipeline
 * needs no timestamp extractor, only a watermark strategy.
 *
 * @example
 * const p = new Pipeline();
 * const events = p.source(nexmarkSource({ events: 1_000_000, seed: 1 }), { watermark: boundedOutOfOrderness(0) });
 */
export function nexmarkSource(options: NexmarkSourceOptions): Source<NexmarkEvent> {
  const where = 'nexmarkSource';
  const gen = new NexmarkGenerator(options);
  const size = options.batchSize;
  if (size !== undefined && (!Number.isInteger(size) || size < 1)) throw new RangeError(`${where}: batchSize must be a positive integer, got ${String(size)}`);
  const pt = options.processingTime;
  if (pt !== undefined && !(Number.isFinite(pt.trailingMs) && pt.trailingMs >= 0)) {
    throw new RangeError(`${where}: processingTime.trailingMs must be a non-negative number, got ${String(pt.trailingMs)}`);
  }
  return {
    kind: 'nexmark',
    providesTimestamps: true,
    providesWatermarks: false,
    stepsProcessingTime: pt !== undefined,
    open(ctx) {
      const chunk = size ?? ctx.batchSize;
      const total = gen.config.events;
      let at = 0;
      let pending: SourceChunk<NexmarkEvent> | undefined;
      let trailed = false;
      return {
        next() {
          if (pending !== undefined) {
            const c = pending;
            pending = undefined;
            return c;
          }
          if (at >= total) {
            if (pt === undefined || trailed) return null;
            trailed = true;
            return { kind: 'processing-time', advanceBy: pt.trailingMs };
          }
          const n = Math.min(chunk, total - at);
          const { values, timestamps } = gen.chunk(at, n);
          at += n;
          const records: SourceChunk<NexmarkEvent> = { kind: 'records', values, timestamps };
          if (pt === undefined) return records;
          const step = (timestamps[0] as number) - ctx.clock.now();
          if (step <= 0) return records;
          pending = records;
          return { kind: 'processing-time', advanceBy: step };
        },
      };
    },
  };
}

/**
 * Writes the events as JSON lines (one event object per line, with its `type`), honouring the
 * file stream's backpressure. Resolves with the number of events and bytes written.
 *
 * @example
 * await writeNexmarkJsonLines('/tmp/nexmark.jsonl', { events: 100_000, seed: 3 });
 */
export async function writeNexmarkJsonLines(path: string, options: NexmarkOptions): Promise<{ events: number; bytes: number }> {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('writeNexmarkJsonLines: path must be a non-empty string');
  const gen = new NexmarkGenerator(options);
  const out = createWriteStream(path);
  let bytes = 0;
  const total = gen.config.events;
  try {
    for (let at = 0; at < total; at += 4096) {
      const values: NexmarkEvent[] = [];
      gen.fill(at, Math.min(4096, total - at), values, []);
      let text = '';
      for (const e of values) text += JSON.stringify(e) + '\n';
      bytes += Buffer.byteLength(text);
      if (!out.write(text)) await once(out, 'drain');
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  return { events: total, bytes };
}
