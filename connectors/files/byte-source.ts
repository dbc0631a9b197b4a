/**
 * The generic source over a byte stream (a file, a Node `Readable`) and a format: bytes are pulled
 * only when the pipeline asks for the next chunk (backpressure), cut into frames (never more than
 * `maxRecordBytes` of one record held), decoded, and emitted as records chunks and dead-letter
 * chunks in input order. Every frame ends as exactly one record, one dead letter, or one counted
 * blank line, so `read = emitted + deadLettered`.
 *
 * Stats: `bytes` read, `blankLines` skipped, and `offset`/`line` — the position just past the
 * last chunk acknowledged downstream (where a restart can resume with `start`).
 *
 * Replayable (files): every chunk carries its position — `{ offset, line }` (line-based formats)
 * or `{ offset, record }` (msgpack): the byte offset just past the chunk's last complete record,
 * plus the decoder's resume state (the CSV header's column names). A run restored from a
 * checkpoint opens the file at that offset (`SourceContext.resume`), so nothing is read twice.
 */
import { SourceError, describeError } from '../../engine/errors.js';
import type { Source, SourceChunk, SourceDeadLetter } from '../../engine/source.js';
import type { Decoding } from './format.js';
import type { Frame } from './frame.js';

/** How the source is described in positions: `{ file: path }` or `{ stream: name }`. */
export type Origin = { readonly file: string } | { readonly stream: string };

/** What `byteSource` needs. */
export interface ByteSourceSpec<T> {
  readonly kind: string;
  readonly factory: string;
  readonly origin: Origin;
  readonly decoding: Decoding<T>;
  readonly start: { readonly offset: number; readonly line: number };
  /** True when `open` can start at any record boundary (files): chunks carry positions and `ctx.resume` is honoured. */
  readonly replayable: boolean;
  /** Opens the bytes (called once per run, at the first read). */
  open(start: number): AsyncIterable<unknown>;
}

/** A file source's position after a chunk (plain data, stored in checkpoints). */
export interface BytePosition {
  /** Byte offset just past the chunk's last record: where a restored run continues. */
  readonly offset: number;
  /** Line number at `offset` (line-based formats). */
  readonly line?: number;
  /** Records framed so far (msgpack: numbers the records in dead-letter positions). */
  readonly record?: number;
  /** The decoder's own resume state (CSV: the header's column names). */
  readonly decoder?: unknown;
}

/** Reads `ctx.resume` as a position, or fails naming the factory. */
function resumeOf(factory: string, resume: unknown): BytePosition | undefined {
  if (resume === undefined) return undefined;
  const r = resume as Partial<BytePosition> | null;
  const ok = (v: unknown, min: number): boolean => v === undefined || (typeof v === 'number' && Number.isSafeInteger(v) && v >= min);
  if (r === null || typeof r !== 'object' || typeof r.offset !== 'number' || !ok(r.offset, 0) || !ok(r.line, 1) || !ok(r.record, 0)) {
    throw new SourceError(`${factory}: cannot resume from checkpoint position ${JSON.stringify(resume)} (expected { offset, line?, record? })`);
  }
  return r as BytePosition;
}

/** A chunk with the position just past its last frame. */
interface Positioned<T> {
  readonly chunk: SourceChunk<T>;
  readonly end: number;
  readonly line: number;
}

/**
 * A source decoding a byte stream with a format.
 *
 * @example
 * byteSource({ kind: 'json-lines', factory: 'tidemark.fromJsonLines', origin: { file: 'a.jsonl' },
 *   decoding: jsonLinesDecoding('tidemark.fromJsonLines', {}), start: { offset: 0, line: 1 }, replayable: true,
 *   open: (at) => createReadStream('a.jsonl', { start: at }) });
 */
export function byteSource<T>(spec: ByteSourceSpec<T>): Source<T> {
  const { decoding, origin, factory } = spec;
  const where = 'file' in origin ? origin.file : origin.stream;
  return {
    kind: spec.kind,
    providesTimestamps: false,
    providesWatermarks: false,
    ...(spec.replayable ? { replayable: true } : {}),
    open(ctx) {
      const batchSize = Math.max(1, ctx.batchSize);
      const resume = spec.replayable ? resumeOf(factory, ctx.resume) : undefined;
      const start = resume === undefined ? spec.start : { offset: resume.offset, line: resume.line ?? 1 };
      const framer = decoding.framer({ ...start });
      const decode = decoding.decoder(where, resume?.decoder);
      const ready: Positioned<T>[] = [];
      const positions = new WeakMap<SourceChunk<T>, { end: number; line: number }>();
      let records: T[] = [];
      let letters: SourceDeadLetter[] = [];
      let lastEnd = start.offset;
      let lastLine = start.line;
      let count = resume?.record ?? 0; // frames seen (record number, for formats without lines)
      let bytes = 0;
      let blankLines = 0;
      let ackedOffset = start.offset;
      let ackedLine = start.line;
      let input: AsyncIterator<unknown> | undefined;
      let done = false;

      /** The position after what has been framed so far (replayable sources only). */
      const here = (): { position?: BytePosition } => {
        if (!spec.replayable) return {};
        const state = decode.resumeState?.();
        const position: BytePosition = decoding.lineBased ? { offset: lastEnd, line: lastLine } : { offset: lastEnd, record: count };
        return { position: state === undefined ? position : { ...position, decoder: state } };
      };
      const cut = (): void => {
        if (records.length > 0) {
          ready.push({ chunk: { kind: 'records', values: records, ...here() }, end: lastEnd, line: lastLine });
          records = [];
        }
        if (letters.length > 0) {
          ready.push({ chunk: { kind: 'dead-letters', letters, ...here() }, end: lastEnd, line: lastLine });
          letters = [];
        }
      };
      const position = (f: Frame): Record<string, unknown> => (decoding.lineBased
        ? { ...origin, line: f.line, offset: f.offset }
        : { ...origin, record: count, offset: f.offset });
      const onFrame = (f: Frame): void => {
        count++;
        let letter: SourceDeadLetter | undefined;
        if (f.bytes === undefined) {
          decode.unframed?.(f);
          letter = { value: decoding.preview(f.head ?? new Uint8Array(), true), reason: f.error ?? 'unreadable record', position: position(f) };
        } else {
          const r = decode.decode(f.bytes, f);
          if (r === undefined) {
            blankLines++;
          } else if (r.ok) {
            if (letters.length > 0) cut();
            records.push(r.value);
          } else {
            letter = { value: decoding.preview(f.bytes, false), reason: r.reason, position: position(f) };
          }
        }
        if (letter !== undefined) {
          if (records.length > 0) cut();
          letters.push(letter);
        }
        lastEnd = f.end;
        lastLine = f.nextLine ?? lastLine;
        if (records.length >= batchSize) cut();
      };

      const fill = async (): Promise<void> => {
        input ??= spec.open(start.offset)[Symbol.asyncIterator]();
        while (ready.length === 0 && !done) {
          let step: IteratorResult<unknown>;
          try {
            step = await input.next();
          } catch (e) {
            throw new SourceError(`${factory}: cannot read ${where}: ${describeError(e)}`, { cause: e });
          }
          if (step.done === true) {
            done = true;
            framer.finish(onFrame);
          } else {
            const chunk = toBytes(step.value, factory);
            bytes += chunk.length;
            framer.push(chunk, onFrame);
          }
          cut();
        }
      };

      return {
        async next() {
          if (ready.length === 0) await fill();
          const p = ready.shift();
          if (p === undefined) return null;
          positions.set(p.chunk, { end: p.end, line: p.line });
          return p.chunk;
        },
        ack(chunk) {
          const p = positions.get(chunk);
          if (p !== undefined) {
            ackedOffset = p.end;
            ackedLine = p.line;
          }
        },
        stats() {
          return decoding.lineBased
            ? { bytes, blankLines, offset: ackedOffset, line: ackedLine }
            : { bytes, offset: ackedOffset };
        },
        async close() {
          if (!done) await input?.return?.();
        },
      };
    },
  };
}

const utf8 = new TextEncoder();

/**
 * A stream chunk as a plain `Uint8Array` view (cheaper to slice than a Buffer; strings are UTF-8
 * encoded); anything else fails the run.
 */
function toBytes(chunk: unknown, factory: string): Uint8Array {
  if (chunk instanceof Uint8Array) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return utf8.encode(chunk);
  throw new SourceError(`${factory}: the stream yielded a ${chunk === null ? 'null' : typeof chunk}, expected bytes (use a byte stream, not object mode)`);
}
