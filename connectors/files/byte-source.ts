/**
 * The generic source over a byte stream (a file, a Node `Readable`) and a format: bytes are pulled
 * only when the pipeline asks for the next chunk (backpressure), cut into frames (never more than
 * `maxRecordBytes` of one record held), decoded, and emitted as records chunks and dead-letter
 * chunks in input order. Every frame ends as exactly one record, one dead letter, or one counted
 * blank line, so `read = emitted + deadLettered`.
 *
 * Stats: `bytes` read, `blankLines` skipped, and `offset`/`line` — the position just past the
 * last chunk acknowledged downstream (where a restart can resume with `start`).
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
  /** Opens the bytes (called once per run, at the first read). */
  open(start: number): AsyncIterable<unknown>;
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
 *   decoding: jsonLinesDecoding('tidemark.fromJsonLines', {}), start: { offset: 0, line: 1 },
 *   open: (at) => createReadStream('a.jsonl', { start: at }) });
 */
export function byteSource<T>(spec: ByteSourceSpec<T>): Source<T> {
  const { decoding, origin, factory } = spec;
  const where = 'file' in origin ? origin.file : origin.stream;
  return {
    kind: spec.kind,
    providesTimestamps: false,
    providesWatermarks: false,
    open(ctx) {
      const batchSize = Math.max(1, ctx.batchSize);
      const framer = decoding.framer({ ...spec.start });
      const decode = decoding.decoder(where);
      const ready: Positioned<T>[] = [];
      const positions = new WeakMap<SourceChunk<T>, { end: number; line: number }>();
      let records: T[] = [];
      let letters: SourceDeadLetter[] = [];
      let lastEnd = spec.start.offset;
      let lastLine = spec.start.line;
      let count = 0; // frames seen (record number, for formats without lines)
      let bytes = 0;
      let blankLines = 0;
      let ackedOffset = spec.start.offset;
      let ackedLine = spec.start.line;
      let input: AsyncIterator<unknown> | undefined;
      let done = false;

      const cut = (): void => {
        if (records.length > 0) {
          ready.push({ chunk: { kind: 'records', values: records }, end: lastEnd, line: lastLine });
          records = [];
        }
        if (letters.length > 0) {
          ready.push({ chunk: { kind: 'dead-letters', letters }, end: lastEnd, line: lastLine });
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
        input ??= spec.open(spec.start.offset)[Symbol.asyncIterator]();
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
