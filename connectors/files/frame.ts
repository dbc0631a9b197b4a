/**
 * Frames: the raw bytes of one record cut from a byte stream (a line, a CSV record, a msgpack
 * value), with where it was. A framer never holds more than `maxRecordBytes` of one record: a
 * larger record is skipped to its end and reported with `error` and a short `head` preview.
 */

/** One record's bytes (or why there are none) and its position. */
export interface Frame {
  /** The record's bytes (without the line terminator); absent when `error` is set. */
  readonly bytes?: Uint8Array;
  /** Why the record could not be framed (oversized, truncated, unframeable rest of input). */
  readonly error?: string;
  /** The first bytes of a rejected record, for the dead letter. */
  readonly head?: Uint8Array;
  /** Byte offset of the record's first byte in the stream. */
  readonly offset: number;
  /** Byte offset just past the record (and its terminator): where reading resumes. */
  readonly end: number;
  /** 1-based line of the record's first byte (line-based formats). */
  readonly line?: number;
  /** Line number just past the record (line-based formats). */
  readonly nextLine?: number;
}

/** Cuts a byte stream into frames; `push` and `finish` report frames through `emit`. */
export interface Framer {
  push(chunk: Uint8Array, emit: (frame: Frame) => void): void;
  /** End of input: reports a final unterminated record, if any. */
  finish(emit: (frame: Frame) => void): void;
}

/** Bytes kept of a rejected record for its dead letter. */
export const PREVIEW_BYTES = 256;

/** Joins parts into one array (no copy for a single part). */
export function join(parts: readonly Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Accumulates one record's bytes up to a limit, keeping only a preview beyond it. */
export class RecordBuffer {
  private parts: Uint8Array[] = [];
  /** Bytes of the record so far (counted even when not kept). */
  size = 0;
  head: Uint8Array | undefined;

  constructor(private readonly max: number) {}

  get oversized(): boolean {
    return this.head !== undefined;
  }

  add(chunk: Uint8Array, from: number, to: number): void {
    if (to <= from) return;
    const n = to - from;
    if (this.head === undefined) {
      if (this.size + n <= this.max) {
        this.parts.push(chunk.subarray(from, to));
      } else {
        const kept = join(this.parts, this.size);
        const head = new Uint8Array(Math.min(PREVIEW_BYTES, this.size + n));
        head.set(kept.subarray(0, head.length));
        if (kept.length < head.length) head.set(chunk.subarray(from, from + head.length - kept.length), kept.length);
        this.head = head;
        this.parts.length = 0;
      }
    }
    this.size += n;
  }

  /** The record's bytes (empty record: empty array) and resets. */
  take(): { bytes?: Uint8Array; head?: Uint8Array; size: number } {
    const r = this.head !== undefined
      ? { head: this.head, size: this.size }
      : { bytes: join(this.parts, this.size), size: this.size };
    this.parts.length = 0;
    this.size = 0;
    this.head = undefined;
    return r;
  }

  /** The record so far is empty. */
  get empty(): boolean {
    return this.size === 0;
  }
}

/** The reason for an oversized record. */
export function oversized(size: number, max: number): string {
  return `record of ${size} bytes exceeds maxRecordBytes (${max})`;
}
