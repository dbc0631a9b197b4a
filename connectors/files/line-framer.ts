/**
 * Cuts a byte stream into lines (LF or CRLF), or — in CSV mode — into CSV records, whose quoted
 * fields may contain newlines. CSV mode follows RFC 4180 field states: only a quote at the start
 * of a field opens a quoted field, so a stray quote inside an unquoted field cannot swallow the
 * following lines. Oversized records are skipped to their end without being held in memory; a
 * leading UTF-8 byte order mark is skipped.
 */
import { type Frame, type Framer, RecordBuffer, oversized } from './frame.js';

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BOM = [0xef, 0xbb, 0xbf];
// CSV field states
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;

/** Options of the line framer. */
export interface LineFramerOptions {
  readonly maxRecordBytes: number;
  /** CSV mode: the delimiter byte (the quote is `"`); newlines in quoted fields do not end a record. */
  readonly csvDelimiter?: number;
  /** Byte offset and line number of the first byte (resuming mid-file). */
  readonly start?: { readonly offset: number; readonly line: number };
}

/**
 * A framer for line-based formats.
 *
 * @example
 * const framer = lineFramer({ maxRecordBytes: 1 << 20 });
 * framer.push(Buffer.from('a\nb'), (f) => frames.push(f)); // one frame ('a', line 1)
 */
export function lineFramer(options: LineFramerOptions): Framer {
  const max = options.maxRecordBytes;
  const delimiter = options.csvDelimiter ?? -1;
  const record = new RecordBuffer(max);
  let pos = options.start?.offset ?? 0; // offset of the next byte pushed
  let recordOffset = pos;
  let line = options.start?.line ?? 1;
  let newlinesInside = 0;
  let state = FIELD_START;

  const finishRecord = (end: number, emit: (f: Frame) => void): void => {
    const r = record.take();
    let bytes = r.bytes;
    if (bytes !== undefined && bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
    const nextLine = line + 1 + newlinesInside;
    if (bytes !== undefined) emit({ offset: recordOffset, end, line, nextLine, bytes });
    else emit({ offset: recordOffset, end, line, nextLine, error: oversized(r.size, max), ...(r.head !== undefined ? { head: r.head } : {}) });
    line += 1 + newlinesInside;
    newlinesInside = 0;
    recordOffset = end;
  };

  /** Cuts records from `chunk` (whose first byte is at `pos`). */
  const feed = (chunk: Uint8Array, emit: (f: Frame) => void): void => {
    const base = pos;
    const n = chunk.length;
    if (delimiter < 0) {
      let start = 0;
      while (start < n) {
        const i = chunk.indexOf(LF, start);
        if (i < 0) {
          record.add(chunk, start, n);
          break;
        }
        record.add(chunk, start, i);
        finishRecord(base + i + 1, emit);
        start = i + 1;
      }
    } else {
      let from = 0;
      for (let i = 0; i < n; i++) {
        const b = chunk[i];
        if (state === QUOTED) {
          if (b === QUOTE) state = QUOTE_IN_QUOTED;
          else if (b === LF) newlinesInside++;
        } else if (b === LF) {
          record.add(chunk, from, i);
          finishRecord(base + i + 1, emit);
          from = i + 1;
          state = FIELD_START;
        } else if (b === delimiter) {
          state = FIELD_START;
        } else if (b === QUOTE) {
          // opens a quoted field at a field start; an escaped quote inside one
          state = state === FIELD_START || state === QUOTE_IN_QUOTED ? QUOTED : UNQUOTED;
        } else {
          state = UNQUOTED;
        }
      }
      record.add(chunk, from, n);
    }
    pos += n;
  };
  /** Leading bytes that may be a byte order mark (checked only when reading from offset 0). */
  let bom: number[] | undefined = pos === 0 ? [] : undefined;
  const endBomCheck = (emit: (f: Frame) => void): void => {
    const held = bom as number[];
    bom = undefined;
    if (held.length === 3) {
      pos = recordOffset = 3;
    } else if (held.length > 0) {
      feed(Uint8Array.from(held), emit);
    }
  };

  return {
    push(chunk, emit) {
      let start = 0;
      while (bom !== undefined && start < chunk.length) {
        const b = chunk[start++] as number;
        if (b !== BOM[bom.length]) {
          start--; // not part of a mark: replay what was held, then this chunk from here
          endBomCheck(emit);
          break;
        }
        bom.push(b);
        if (bom.length === 3) endBomCheck(emit);
      }
      feed(start === 0 ? chunk : chunk.subarray(start), emit);
    },
    finish(emit) {
      if (bom !== undefined) endBomCheck(emit);
      if (!record.empty) {
        if (state === QUOTED) {
          const r = record.take();
          emit({
            offset: recordOffset,
            end: pos,
            line,
            nextLine: line + newlinesInside,
            error: 'unterminated quoted field at end of input',
            head: (r.bytes ?? r.head ?? new Uint8Array()).subarray(0, 256),
          });
        } else {
          finishRecord(pos, emit);
        }
      }
    },
  };
}
