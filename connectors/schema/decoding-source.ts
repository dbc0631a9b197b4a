/**
 * `decodingSource(inner, …)`: wraps a source so that each record it yields is decoded (validated,
 * upcast, parsed as a CloudEvent…) on its way into the pipeline. Records that decode become
 * records; those that do not become `dead-letters` chunks with their position and reason, so
 * nothing is dropped silently. Used by `withSchema` and `fromCloudEvents`; acknowledgements reach
 * the inner source once every chunk made from one of its chunks has been processed.
 */
import { PlanError } from '../../engine/errors.js';
import type { Source, SourceChunk, SourceDeadLetter, SourceReader } from '../../engine/source.js';

/** The outcome of decoding one record: the decoded value (and, optionally, its event time), or why not. */
export type DecodeOutcome<T> =
  | { readonly ok: true; readonly value: T; readonly timestamp?: number }
  | { readonly ok: false; readonly reason: string };

/** How `decodingSource` decodes. */
export interface DecodingOptions<I, O> {
  /** The wrapper's `kind`, e.g. `'cloudevents(redis-stream)'`. */
  readonly kind: string;
  /** The factory named in errors, e.g. `'tidemark.withSchema'`. */
  readonly where: string;
  /** Decodes one raw record; may answer with a promise (async validators). */
  readonly decode: (raw: I) => DecodeOutcome<O> | Promise<DecodeOutcome<O>>;
  /**
   * True when every successful decode carries its `timestamp` (the wrapper then provides
   * timestamps); false to keep the inner source's timestamps, if it has them.
   */
  readonly timestamps: boolean;
}

/** Longest string (characters) or byte array kept as a dead letter's `value`. */
export const DEAD_LETTER_PREFIX = 4_096;

/** The raw input, or a bounded prefix of it when it is a long string or byte array. */
export function boundedRaw(raw: unknown): unknown {
  if (typeof raw === 'string' && raw.length > DEAD_LETTER_PREFIX) return raw.slice(0, DEAD_LETTER_PREFIX);
  if (raw instanceof Uint8Array && raw.byteLength > DEAD_LETTER_PREFIX) return raw.slice(0, DEAD_LETTER_PREFIX);
  return raw;
}

/**
 * Wraps `inner` so each of its records goes through `options.decode`. A dead letter's position is
 * `{ source: inner.kind, record, partition? }`, where `record` counts the records this reader has
 * read (from 0) — add the inner source's own positions when it reports them in its records.
 *
 * @example
 * const checked = decodingSource(fromArray(raw), { kind: 'checked', where: 'checked', timestamps: false,
 *   decode: (r) => (typeof r === 'number' ? { ok: true, value: r } : { ok: false, reason: 'not a number' }) });
 */
export function decodingSource<I, O>(inner: Source<I>, options: DecodingOptions<I, O>): Source<O> {
  if (inner === null || typeof inner !== 'object' || typeof inner.open !== 'function') {
    throw new PlanError(`${options.where}: expected a source to wrap`);
  }
  return {
    kind: options.kind,
    providesTimestamps: options.timestamps || inner.providesTimestamps,
    providesWatermarks: inner.providesWatermarks,
    ...(inner.stepsProcessingTime === undefined ? {} : { stepsProcessingTime: inner.stepsProcessingTime }),
    open(ctx) {
      const reader = inner.open(ctx);
      let ordinal = 0;
      const queue: SourceChunk<O>[] = [];
      // outer chunk → the inner chunk it came from and how many outer chunks of it are unacked
      const origin = new WeakMap<object, { chunk: SourceChunk<I>; left: { n: number } }>();

      const convert = async (chunk: SourceChunk<I>): Promise<void> => {
        if (chunk.kind !== 'records') {
          queue.push(chunk as SourceChunk<O>);
          origin.set(chunk, { chunk, left: { n: 1 } });
          return;
        }
        const values: O[] = [];
        const stamps: number[] = [];
        const letters: SourceDeadLetter[] = [];
        for (let i = 0; i < chunk.values.length; i++) {
          const raw = chunk.values[i] as I;
          const position = chunk.partition === undefined
            ? { source: inner.kind, record: ordinal }
            : { source: inner.kind, partition: chunk.partition, record: ordinal };
          ordinal++;
          let out: DecodeOutcome<O>;
          try {
            const r = options.decode(raw);
            out = r instanceof Promise ? await r : r;
          } catch (e) {
            out = { ok: false, reason: `decoding threw: ${e instanceof Error ? e.message : String(e)}` };
          }
          if (!out.ok) {
            letters.push({ value: boundedRaw(raw), reason: out.reason, position });
            continue;
          }
          values.push(out.value);
          const ts = options.timestamps ? out.timestamp : chunk.timestamps?.[i];
          if (ts !== undefined) stamps.push(ts);
        }
        const made: SourceChunk<O>[] = [];
        if (values.length > 0 || letters.length === 0) {
          made.push({
            kind: 'records',
            values,
            ...(stamps.length === values.length && (options.timestamps || chunk.timestamps !== undefined) ? { timestamps: stamps } : {}),
            ...(chunk.partition === undefined ? {} : { partition: chunk.partition }),
          });
        }
        if (letters.length > 0) made.push({ kind: 'dead-letters', letters });
        const left = { n: made.length };
        for (const m of made) {
          origin.set(m, { chunk, left });
          queue.push(m);
        }
      };

      const wrapped: SourceReader<O> = {
        async next() {
          while (queue.length === 0) {
            const c = await reader.next();
            if (c === null) return null;
            await convert(c);
          }
          return queue.shift() as SourceChunk<O>;
        },
        ...(reader.partitions === undefined ? {} : { partitions: reader.partitions }),
        async close() {
          await reader.close?.();
        },
        stats() {
          return reader.stats?.() ?? {};
        },
        async ack(chunk) {
          const o = origin.get(chunk);
          if (o === undefined) return;
          origin.delete(chunk);
          if (--o.left.n === 0) await reader.ack?.(o.chunk);
        },
      };
      return wrapped;
    },
  };
}
