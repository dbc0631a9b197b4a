/**
 * The event log's record frame and value codec. A frame is
 *
 *     u32 length (bytes after this field) | u32 crc32 (of the bytes after it) |
 *     f64 offset | f64 timestamp | u32 key length | key (msgpack) | value (msgpack)
 *
 * little-endian. Keys and values are msgpack without custom extensions (no records or
 * structures, no `moreTypes`); decoding keeps `__proto__` and `constructor` keys as plain own
 * data properties and never touches prototypes.
 */
import { Packr, Unpackr } from 'msgpackr';
import { crc32 } from './crc32.js';

/** Bytes before the key: length, crc, offset, timestamp, key length. */
export const HEADER_BYTES = 28;
/** Bytes of a frame's length field (not counted in the length). */
export const LENGTH_BYTES = 4;

const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false, largeBigIntToFloat: false });
const unpackr = new Unpackr({ useRecords: false, moreTypes: false, structuredClone: false, int64AsType: 'bigint', mapsAsObjects: true, copyBuffers: true });
const mapUnpackr = new Unpackr({ useRecords: false, moreTypes: false, structuredClone: false, int64AsType: 'bigint', mapsAsObjects: false, copyBuffers: true });

/** The bytes of `__proto__`: where they occur, maps are decoded the careful way. */
export const PROTO = Buffer.from('__proto__');

/**
 * Decodes the msgpack value in `buf[start, end)`. Fast path: plain objects. When the bytes may
 * contain `__proto__` (`careful`; see `PROTO`), maps are decoded as `Map`s first and turned
 * into objects with `__proto__` as an own data property (msgpackr would otherwise rename it).
 */
export function unpack(buf: Buffer, start: number, end: number, careful: boolean): unknown {
  const t = buf[start] as number;
  if (t >= 0xa0 && t < 0xc0 && end - start === t - 0x9f) return buf.toString('utf8', start + 1, end); // fixstr (keys)
  if (!careful) return unpackr.unpack(buf, { start, end });
  return plain(mapUnpackr.unpack(buf, { start, end }));
}

function plain(v: unknown): unknown {
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) Object.defineProperty(o, String(k), { value: plain(x), enumerable: true, writable: true, configurable: true });
    return o;
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = plain(v[i]);
  }
  return v;
}

/** One decoded frame header (the key and value are decoded on demand). */
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
 * Parses the frame at `buf[at]` (bytes up to `limit`). Returns the frame, `'short'` when the
 * buffer ends inside it (read more, or a torn tail), or another problem when it is corrupt.
 */
export function parseFrame(buf: Buffer, at: number, limit: number, maxFrameBytes: number): FrameView | FrameProblem {
  if (limit - at < LENGTH_BYTES) return 'short';
  const len = buf.readUInt32LE(at);
  if (len < HEADER_BYTES - LENGTH_BYTES || len > maxFrameBytes) return 'length';
  const end = at + LENGTH_BYTES + len;
  if (end > limit) return 'short';
  const crc = buf.readUInt32LE(at + 4);
  if (crc32(buf, at + 8, end) !== crc) return 'checksum';
  const offset = buf.readDoubleLE(at + 8);
  const timestamp = buf.readDoubleLE(at + 16);
  const keyLen = buf.readUInt32LE(at + 24);
  const keyStart = at + HEADER_BYTES;
  if (!Number.isSafeInteger(offset) || offset < 0 || keyLen < 1 || keyStart + keyLen > end) return 'header';
  return { at, size: end - at, offset, timestamp, keyStart, valueStart: keyStart + keyLen, end };
}

/** A growable byte buffer that frames are encoded into. */
export class FrameWriter {
  buf: Buffer;
  length = 0;

  constructor(initial = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initial);
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
  }

  /**
   * Appends one frame (packing `key` and `value`); returns its size in bytes. Undo with
   * `truncate(sizeBefore)` when the caller rejects it (e.g. too large).
   */
  frame(offset: number, timestamp: number, key: unknown, value: unknown): number {
    const at = this.length;
    let keyLen: number;
    if (typeof key === 'string' && key.length < 32) {
      // fixstr written directly (most keys): one pack call per record instead of two
      this.ensure(HEADER_BYTES + 1 + key.length * 3);
      keyLen = 1 + this.buf.write(key, at + HEADER_BYTES + 1, 'utf8');
      if (keyLen <= 32) this.buf[at + HEADER_BYTES] = 0xa0 + keyLen - 1;
      else keyLen = this.packKey(key, at);
    } else keyLen = this.packKey(key, at);
    const v = packr.pack(value);
    const size = HEADER_BYTES + keyLen + v.length;
    this.ensure(size);
    const b = this.buf;
    v.copy(b, at + HEADER_BYTES + keyLen);
    b.writeUInt32LE(size - LENGTH_BYTES, at);
    b.writeDoubleLE(offset, at + 8);
    b.writeDoubleLE(timestamp, at + 16);
    b.writeUInt32LE(keyLen, at + 24);
    b.writeUInt32LE(crc32(b, at + 8, at + size), at + 4);
    this.length = at + size;
    return size;
  }

  private packKey(key: unknown, at: number): number {
    const k = packr.pack(key);
    this.ensure(HEADER_BYTES + k.length);
    k.copy(this.buf, at + HEADER_BYTES);
    return k.length;
  }

  truncate(length: number): void {
    this.length = length;
  }

  /** A copy of the bytes written so far. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.length);
    this.buf.copy(out, 0, 0, this.length);
    return out;
  }
}
