/**
 * The event log's on-disk format (version 2): a segment file starts with a 16-byte header
 *
 *     u32 magic 'TMLS' | u32 format version (2) | u32 header bytes (16) | u32 reserved (0)
 *
 * followed by record frames, each
 *
 *     u32 length (bytes after this field) | u32 xxHash32 (of the bytes after it) |
 *     f64 offset | f64 timestamp | u32 key length | key (msgpack) | value (msgpack)
 *
 * little-endian. The offset and timestamp sit in the fixed header, so scanning, indexing and
 * seeking never decode msgpack. Keys and values are encoded by the log's own encoder
 * (`encode.ts`: plain objects, arrays, strings, numbers, booleans, null) or, for any other type, by
 * msgpackr without extensions (no records or structures, no `moreTypes`), and decoded by the
 * strict decoder of `decode.ts`.
 * Version 1 (no segment header, CRC-32 frames) is refused with an error saying so.
 */
import { Packr } from 'msgpackr';
import { decode } from './decode.js';
import { NO_ROOM, UNSUPPORTED, encodePlain } from './encode.js';
import { xxhash32 } from './xxhash32.js';

/** Bytes before the key: length, checksum, offset, timestamp, key length. */
export const HEADER_BYTES = 28;
/** Bytes of a frame's length field (not counted in the length). */
export const LENGTH_BYTES = 4;
/** The format version this code writes and reads. */
export const FORMAT_VERSION = 2;
/** Bytes of the header at the start of every segment file. */
export const SEGMENT_HEADER_BYTES = 16;
/** 'TMLS' read as a little-endian u32; larger than any valid frame length, so a version-1 file never starts with it. */
const SEGMENT_MAGIC = 0x534c4d54;

const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false, largeBigIntToFloat: false });
/** msgpackr's flags: return its own buffer with `start`/`end` (no subarray) and rewind after. */
const REUSE_AND_RESET = 512 | 1024;

/** The 16-byte header of a new segment file. */
export function segmentHeader(): Buffer {
  const b = Buffer.alloc(SEGMENT_HEADER_BYTES);
  b.writeUInt32LE(SEGMENT_MAGIC, 0);
  b.writeUInt32LE(FORMAT_VERSION, 4);
  b.writeUInt32LE(SEGMENT_HEADER_BYTES, 8);
  return b;
}

/**
 * Why the first bytes of a segment file are not a version-2 header, or `undefined` when they
 * are. A version-1 segment (it starts with a frame) is named as such.
 */
export function segmentHeaderProblem(b: Buffer): string | undefined {
  if (b.length < SEGMENT_HEADER_BYTES) return `it is ${b.length} bytes, shorter than the ${SEGMENT_HEADER_BYTES}-byte segment header`;
  if (b.readUInt32LE(0) !== SEGMENT_MAGIC) {
    return b.readUInt32LE(0) <= 2 ** 30 + HEADER_BYTES
      ? `it is in event log format 1 (no segment header, CRC-32 frames); this version reads format ${FORMAT_VERSION} only`
      : 'it does not start with the segment magic (not an event log segment)';
  }
  const v = b.readUInt32LE(4);
  if (v !== FORMAT_VERSION) return `it is in event log format ${v}; this version reads format ${FORMAT_VERSION} only`;
  if (b.readUInt32LE(8) !== SEGMENT_HEADER_BYTES) return 'its segment header length is not 16';
  return undefined;
}

/** One frame's header fields (the key and value are decoded by the caller). */
export interface FrameView {
  /** Byte position of the frame in its buffer. */
  readonly at: number;
  /** Total bytes of the frame, length field included. */
  readonly size: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly keyStart: number;
  readonly valueStart: number;
  readonly end: number;
}

/** Why a frame at a position is unusable. */
export type FrameProblem = 'short' | 'length' | 'checksum' | 'header';

/**
 * Parses the frame at `buf[at]` (bytes up to `limit`), checking its length against
 * `maxFrameBytes` and its checksum. Returns the frame, `'short'` when the buffer ends inside it
 * (read more, or a torn tail), or another problem when it is corrupt.
 *
 * @example
 * const f = parseFrame(bytes, 16, bytes.length, 1 << 20);
 * if (typeof f !== 'string') console.log(f.offset, f.timestamp);
 */
export function parseFrame(buf: Buffer, at: number, limit: number, maxFrameBytes: number): FrameView | FrameProblem {
  if (limit - at < LENGTH_BYTES) return 'short';
  const len = buf.readUInt32LE(at);
  if (len < HEADER_BYTES - LENGTH_BYTES || len > maxFrameBytes) return 'length';
  const end = at + LENGTH_BYTES + len;
  if (end > limit) return 'short';
  if (xxhash32(buf, at + 8, end) !== buf.readUInt32LE(at + 4)) return 'checksum';
  const offset = buf.readDoubleLE(at + 8);
  const timestamp = buf.readDoubleLE(at + 16);
  const keyLen = buf.readUInt32LE(at + 24);
  const keyStart = at + HEADER_BYTES;
  if (!Number.isSafeInteger(offset) || offset < 0 || keyLen < 1 || keyStart + keyLen > end) return 'header';
  return { at, size: end - at, offset, timestamp, keyStart, valueStart: keyStart + keyLen, end };
}

/**
 * Decodes the msgpack key or value in `buf[start, end)` (strict: see `decode.ts`).
 *
 * @example
 * const value = unpack(bytes, f.valueStart, f.end);
 */
export function unpack(buf: Buffer, start: number, end: number): unknown {
  return decode(buf, start, end);
}

/** A growable byte buffer that frames are encoded into, one append batch at a time. */
export class FrameWriter {
  buf: Buffer;
  private view: DataView;
  length = 0;

  constructor(initial = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initial);
    this.view = viewOf(this.buf);
  }

  reset(): void {
    this.length = 0;
  }

  private ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next); // all of it: a frame being built lies past `length`
    this.buf = next;
    this.view = viewOf(next);
  }

  /**
   * Appends one frame (packing `key` and `value`); returns its size in bytes. Undo with
   * `truncate(sizeBefore)` when the caller rejects it (e.g. too large).
   */
  frame(offset: number, timestamp: number, key: unknown, value: unknown): number {
    const at = this.length;
    let keyLen = 0;
    if (typeof key === 'string' && key.length < 32) {
      // A short ASCII key is written as a msgpack fixstr directly (most keys); others by msgpackr.
      this.ensure(HEADER_BYTES + 1 + key.length);
      const b = this.buf;
      const k0 = at + HEADER_BYTES + 1;
      const n = key.length;
      let i = 0;
      for (; i < n; i++) {
        const c = key.charCodeAt(i);
        if (c >= 0x80) break;
        b[k0 + i] = c;
      }
      if (i === n) {
        b[k0 - 1] = 0xa0 + n;
        keyLen = n + 1;
      }
    }
    if (keyLen === 0) keyLen = this.packInto(key, at + HEADER_BYTES);
    const valueLen = this.packInto(value, at + HEADER_BYTES + keyLen);
    const size = HEADER_BYTES + keyLen + valueLen;
    const b = this.buf;
    const v = this.view;
    v.setUint32(at, size - LENGTH_BYTES, true);
    v.setFloat64(at + 8, offset, true);
    v.setFloat64(at + 16, timestamp, true);
    v.setUint32(at + 24, keyLen, true);
    v.setUint32(at + 4, xxhash32(b, at + 8, at + size), true);
    this.length = at + size;
    return size;
  }

  /**
   * Encodes `v` at `this.buf[to…]` (the log's own encoder; msgpackr for what it leaves, copied
   * in); returns its length.
   */
  private packInto(v: unknown, to: number): number {
    for (;;) {
      const end = encodePlain(this.buf, this.view, to, v);
      if (end >= 0) return end - to;
      if (end === UNSUPPORTED) break;
      if (end === NO_ROOM) this.ensure(to - this.length + Math.max(4096, this.buf.length - this.length));
    }
    const t = packr.pack(v, REUSE_AND_RESET) as Buffer & { start: number; end: number };
    const n = t.end - t.start;
    this.ensure(to - this.length + n);
    const b = this.buf;
    if (n < 64) {
      for (let i = 0, s = t.start; i < n; i++) b[to + i] = t[s + i] as number; // cheaper than a native copy call
    } else t.copy(b, to, t.start, t.end);
    return n;
  }

  /** Appends the frame `src[at, end)` as it is (compaction copies kept frames). */
  raw(src: Buffer, at: number, end: number): void {
    this.ensure(end - at);
    src.copy(this.buf, this.length, at, end);
    this.length += end - at;
  }

  truncate(length: number): void {
    this.length = length;
  }

  /**
   * The bytes written so far, for the caller to keep: a large batch is handed over (not
   * copied) and the writer continues in a new buffer of the same size; a small one is copied.
   */
  take(): Buffer {
    if (this.length * 4 < this.buf.length) {
      const copy = Buffer.allocUnsafe(this.length); // small: copying is cheaper than a new buffer
      this.buf.copy(copy, 0, 0, this.length);
      this.length = 0;
      return copy;
    }
    const out = this.buf.subarray(0, this.length);
    this.buf = Buffer.allocUnsafeSlow(this.buf.length);
    this.view = viewOf(this.buf);
    this.length = 0;
    return out;
  }
}

function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
