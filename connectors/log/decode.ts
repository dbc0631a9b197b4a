/**
 * The event log's MessagePack decoder: reads the keys and values that `encode.ts` (or msgpackr,
 * for the types that encoder leaves to it) wrote, many per buffer, without per-call setup. It is strict and data-only:
 *
 * - extensions: only what msgpackr's encoder (with `moreTypes: false`) writes — the standard
 *   timestamp type -1 (a `Date`) and fixext 1 type 0 (`undefined`). Every other extension,
 *   msgpackr's record definitions (`0x72`, which would compile code from the data) included, is
 *   an error: no extension code runs.
 * - maps become plain objects; `__proto__` is defined as an own data property (never a
 *   prototype change), `constructor` and `prototype` stay ordinary keys; non-string keys
 *   (numbers, booleans, bigints, nil) become their string form, as msgpackr's `mapsAsObjects`.
 * - 64-bit integers become `bigint` (msgpackr writes them only for bigints); bin becomes a
 *   `Uint8Array` copy; nesting deeper than `MAX_DEPTH` is an error (no stack overflow).
 * - a length that runs past the end of the value is an error, never a read past it.
 *
 * Maps whose keys are short strings are decoded through a shape cache: the raw bytes of a map's
 * keys (header and characters, as written) are kept with their strings, and the next map with the
 * same entry count and first key is checked against them byte by byte — no hashing, no key
 * strings built. The object is then filled in the cached key order, so maps of one shape share
 * a hidden class. A map whose keys differ anywhere is decoded again by the generic path (which
 * records its shape); shapes with a `__proto__` key or a repeated key are never cached, so those
 * maps always take the generic path. No code is generated from the data.
 *
 * Errors are `LogDecodeError`s; the cursor turns them into problems with the record's position.
 */

/** Deepest nesting of maps and arrays a value may have. */
export const MAX_DEPTH = 512;

/** The bytes of a stored key or value are not a value this decoder accepts. */
export class LogDecodeError extends Error {
  override name = 'LogDecodeError';
}

let src: Uint8Array = new Uint8Array(0);
let view = new DataView(src.buffer);
let pos = 0;
let end = 0;
const fromCharCode = String.fromCharCode;
const utf8 = new TextDecoder('utf-8');

/** Map keys (and record keys) seen recently: ASCII strings up to 31 bytes, by a hash of their bytes. */
const KEY_SLOTS = 4096;
const keyStrings: string[] = new Array<string>(KEY_SLOTS).fill('');
/** The bytes of `keyStrings[slot]` at `slot * 32`; byte 0 of a slot is its length + 1 (0: empty). */
const keyBytes = new Uint8Array(KEY_SLOTS * 32);

/**
 * Points the decoder at `buf` (call once per buffer; `decodeAt` then reads from it). The
 * `DataView` is made here, not per value.
 *
 * @example
 * useBuffer(chunk);
 * for (const [start, end] of frames) values.push(decodeAt(start, end));
 */
export function useBuffer(buf: Uint8Array): void {
  if (buf !== src) {
    src = buf;
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
}

/**
 * Decodes exactly one value from `buf[start, stop)` of the buffer given to `useBuffer`; throws
 * `LogDecodeError` when the bytes are not one valid value.
 *
 * @example
 * useBuffer(bytes);
 * const value = decodeAt(10, 42);
 */
export function decodeAt(start: number, stop: number): unknown {
  pos = start;
  end = stop;
  const v = read(0);
  if (pos !== stop) throw new LogDecodeError(pos > stop ? 'value runs past its frame' : `${stop - pos} bytes left after the value`);
  return v;
}

/**
 * Decodes one value from `buf[start, stop)`.
 *
 * @example
 * decode(Buffer.from([0x81, 0xa1, 0x61, 0x01])); // { a: 1 }
 */
export function decode(buf: Uint8Array, start = 0, stop = buf.length): unknown {
  useBuffer(buf);
  return decodeAt(start, stop);
}

function need(n: number): void {
  if (pos + n > end) throw new LogDecodeError(`truncated value at byte ${pos}`);
}

function read(depth: number): unknown {
  if (pos >= end) throw new LogDecodeError(`truncated value at byte ${pos}`);
  const b = src[pos++] as number;
  if (b < 0x80) return b;
  if (b < 0x90) return readMap(b - 0x80, depth);
  if (b < 0xa0) return readArray(b - 0x90, depth);
  if (b < 0xc0) return readString(b - 0xa0);
  if (b >= 0xe0) return b - 0x100;
  let v: number;
  switch (b) {
    case 0xc0: return null;
    case 0xc2: return false;
    case 0xc3: return true;
    case 0xc4: need(1); return readBin(src[pos++] as number);
    case 0xc5: need(2); v = view.getUint16(pos); pos += 2; return readBin(v);
    case 0xc6: need(4); v = view.getUint32(pos); pos += 4; return readBin(v);
    case 0xc7: need(1); return readExt(src[pos++] as number);
    case 0xc8: need(2); v = view.getUint16(pos); pos += 2; return readExt(v);
    case 0xc9: need(4); v = view.getUint32(pos); pos += 4; return readExt(v);
    case 0xca: need(4); v = view.getFloat32(pos); pos += 4; return v;
    case 0xcb: need(8); v = view.getFloat64(pos); pos += 8; return v;
    case 0xcc: need(1); return src[pos++] as number;
    case 0xcd: need(2); v = view.getUint16(pos); pos += 2; return v;
    case 0xce: need(4); v = view.getUint32(pos); pos += 4; return v;
    case 0xcf: { need(8); const x = view.getBigUint64(pos); pos += 8; return x; }
    case 0xd0: need(1); v = view.getInt8(pos); pos += 1; return v;
    case 0xd1: need(2); v = view.getInt16(pos); pos += 2; return v;
    case 0xd2: need(4); v = view.getInt32(pos); pos += 4; return v;
    case 0xd3: { need(8); const x = view.getBigInt64(pos); pos += 8; return x; }
    case 0xd4: return readExt(1);
    case 0xd5: return readExt(2);
    case 0xd6: return readExt(4);
    case 0xd7: return readExt(8);
    case 0xd8: return readExt(16);
    case 0xd9: need(1); return readString(src[pos++] as number);
    case 0xda: need(2); v = view.getUint16(pos); pos += 2; return readString(v);
    case 0xdb: need(4); v = view.getUint32(pos); pos += 4; return readString(v);
    case 0xdc: need(2); v = view.getUint16(pos); pos += 2; return readArray(v, depth);
    case 0xdd: need(4); v = view.getUint32(pos); pos += 4; return readArray(v, depth);
    case 0xde: need(2); v = view.getUint16(pos); pos += 2; return readMap(v, depth);
    case 0xdf: need(4); v = view.getUint32(pos); pos += 4; return readMap(v, depth);
    default: throw new LogDecodeError(`invalid type byte 0x${b.toString(16)} at byte ${pos - 1}`);
  }
}

function readMap(n: number, depth: number): Record<string, unknown> {
  if (depth >= MAX_DEPTH) throw new LogDecodeError(`nested deeper than ${MAX_DEPTH} levels`);
  if (n * 2 > end - pos) throw new LogDecodeError(`truncated map at byte ${pos}`); // each entry needs two bytes
  if (n === 0) return {};
  const start = pos;
  const slot = shapeSlot(n);
  if (slot >= 0) {
    const shape = shapes[slot];
    if (shape !== undefined && shape.n === n) {
      const o = readShaped(shape, depth);
      if (o !== undefined) return o;
      pos = start; // a key differs: decode it again, generically
    }
  }
  return readMapGeneric(n, depth, slot);
}

/** Decodes a map entry by entry, recording its shape in `shapes[slot]` when it is cacheable. */
function readMapGeneric(n: number, depth: number, slot: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  let cacheable = slot >= 0 && n <= MAX_SHAPE_KEYS;
  const keys = cacheable ? new Array<string>(n) : undefined;
  const ends = cacheable ? new Int32Array(n) : undefined;
  const starts = cacheable ? new Int32Array(n) : undefined;
  let keyBytes = 0;
  for (let i = 0; i < n; i++) {
    const at = pos;
    const k = readKey(depth);
    if (cacheable) {
      const h = src[at] as number;
      if (h < 0xa0 || h >= 0xc0 || k === '__proto__' || Object.prototype.hasOwnProperty.call(o, k)) cacheable = false;
      else {
        (keys as string[])[i] = k;
        (starts as Int32Array)[i] = at;
        (ends as Int32Array)[i] = keyBytes += pos - at;
      }
    }
    const v = read(depth + 1);
    if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    else o[k] = v;
  }
  if (cacheable) shapes[slot] = makeShape(n, keys as string[], starts as Int32Array, ends as Int32Array);
  return o;
}

/**
 * Decodes the map at `pos` as `shape` when each of its keys has the shape's bytes; `undefined`
 * (with `pos` somewhere inside the map) at the first key that differs.
 */
function readShaped(shape: Shape, depth: number): Record<string, unknown> | undefined {
  const kb = shape.bytes;
  const kv = shape.view;
  const v32 = view;
  const ends = shape.ends;
  const keys = shape.keys;
  const s = src;
  const n = shape.n;
  const o: Record<string, unknown> = { ...shape.template };
  let k0 = 0;
  for (let i = 0; i < n; i++) {
    const k1 = ends[i] as number;
    let p = pos;
    if (p + (k1 - k0) > end) return undefined;
    let j = k0;
    for (; j + 4 <= k1; j += 4, p += 4) if (v32.getInt32(p) !== kv.getInt32(j)) return undefined;
    for (; j < k1; j++, p++) if (s[p] !== kb[j]) return undefined;
    pos = p;
    k0 = k1;
    // Inline the commonest value types; everything else goes through `read`.
    const b = s[p] as number;
    let v: unknown;
    if (b < 0x80) {
      v = b;
      pos = p + 1;
    } else if (b >= 0xa0 && b < 0xc0) {
      pos = p + 1;
      v = readString(b - 0xa0);
    } else if (b === 0xcb && p + 9 <= end) {
      v = view.getFloat64(p + 1);
      pos = p + 9;
    } else v = read(depth + 1);
    o[keys[i] as string] = v;
  }
  return o;
}

/** Maps with up to this many entries have their shape cached. */
const MAX_SHAPE_KEYS = 32;
/** Shape cache slots (a power of two). */
const SHAPE_SLOTS = 256;

/** A map shape: its keys, and their msgpack bytes back to back (`ends[i]`: end of key i's bytes). */
interface Shape {
  readonly n: number;
  readonly keys: readonly string[];
  readonly bytes: Uint8Array;
  /** A view of `bytes`, to compare four at a time. */
  readonly view: DataView;
  readonly ends: Int32Array;
  readonly template: Record<string, unknown>;
}

const shapes: (Shape | undefined)[] = new Array<Shape | undefined>(SHAPE_SLOTS).fill(undefined);

/**
 * The shape cache slot of the map of `n` entries whose first key is at `pos`: from `n` and the
 * first key's first bytes; -1 when the first key is not a short string (not cached).
 */
function shapeSlot(n: number): number {
  const h = src[pos] as number;
  if (h < 0xa0 || h >= 0xc0 || pos + (h - 0x9f) > end) return -1;
  const len = h - 0xa0;
  const c0 = len > 0 ? (src[pos + 1] as number) : 0;
  const c1 = len > 1 ? (src[pos + len] as number) : 0;
  return (Math.imul(n, 0x9e3779b1) ^ Math.imul(len, 0x85ebca77) ^ (c0 << 3) ^ (c1 << 9)) >>> 24;
}

/** A shape from the keys of the map just decoded: their strings, where their bytes start in `src`, and the ends of those bytes back to back. */
function makeShape(n: number, keys: string[], starts: Int32Array, ends: Int32Array): Shape {
  const bytes = new Uint8Array(ends[n - 1] as number);
  let k0 = 0;
  for (let i = 0; i < n; i++) {
    const k1 = ends[i] as number;
    const at = starts[i] as number;
    bytes.set(src.subarray(at, at + k1 - k0), k0);
    k0 = k1;
  }
  const template: Record<string, unknown> = {};
  for (const k of keys) template[k] = null;
  return { n, keys, bytes, view: new DataView(bytes.buffer), ends, template };
}

function readArray(n: number, depth: number): unknown[] {
  if (depth >= MAX_DEPTH) throw new LogDecodeError(`nested deeper than ${MAX_DEPTH} levels`);
  if (n > end - pos) throw new LogDecodeError(`truncated array at byte ${pos}`); // each item needs a byte
  const a = new Array<unknown>(n);
  for (let i = 0; i < n; i++) a[i] = read(depth + 1);
  return a;
}

/** A map key: short ASCII keys come from the cache (one string per distinct key). */
function readKey(depth: number): string {
  const b = src[pos] as number;
  if (b >= 0xa0 && b < 0xc0) {
    const s = cachedAscii(pos + 1, b - 0xa0);
    if (s !== undefined) return s;
  }
  const k = read(depth + 1);
  if (typeof k === 'string') return k;
  if (typeof k === 'number' || typeof k === 'boolean' || typeof k === 'bigint' || k === null) return String(k);
  throw new LogDecodeError('map key must be a string, number, boolean, bigint or nil');
}

/**
 * The ASCII string `src[at, at + n)` from the key cache (adding it), moving `pos` past it;
 * `undefined` (and `pos` unchanged) when it is not ASCII.
 */
function cachedAscii(at: number, n: number): string | undefined {
  if (at + n > end) throw new LogDecodeError(`truncated string at byte ${at - 1}`);
  const s = src;
  let h = n;
  let ascii = 0;
  for (let i = at; i < at + n; i++) {
    const c = s[i] as number;
    h = Math.imul(h ^ c, 0x01000193);
    ascii |= c;
  }
  if (ascii >= 0x80) return undefined;
  pos = at + n;
  const slot = (h ^ (h >>> 15)) & (KEY_SLOTS - 1);
  const base = slot * 32;
  const kb = keyBytes;
  if (kb[base] === n + 1) {
    let i = 0;
    while (i < n && kb[base + 1 + i] === s[at + i]) i++;
    if (i === n) return keyStrings[slot] as string;
  }
  const str = ascii8(at, n);
  kb[base] = n + 1;
  for (let i = 0; i < n; i++) kb[base + 1 + i] = s[at + i] as number;
  keyStrings[slot] = str;
  return str;
}

/**
 * Decodes a record key from `buf[start, stop)` of the buffer given to `useBuffer`: like
 * `decodeAt`, but a short ASCII string key is taken from the key cache (keys repeat).
 *
 * @example
 * useBuffer(frameBytes);
 * const key = decodeKeyAt(28, 28 + keyLength); // 'u1234', the same string object each time
 */
export function decodeKeyAt(start: number, stop: number): unknown {
  const b = src[start] as number;
  if (b >= 0xa0 && b < 0xc0 && stop - start === b - 0x9f) {
    end = stop;
    const s = cachedAscii(start + 1, b - 0xa0);
    if (s !== undefined) return s;
  }
  return decodeAt(start, stop);
}

function readString(n: number): string {
  if (n > end - pos) throw new LogDecodeError(`truncated string at byte ${pos}`);
  const at = pos;
  pos += n;
  if (n <= 32) {
    let ascii = 0;
    let i = at;
    const stop = at + n;
    for (; i + 4 <= stop; i += 4) ascii |= view.getInt32(i);
    for (; i < stop; i++) ascii |= src[i] as number;
    if ((ascii & 0x80808080) === 0) return ascii8(at, n);
  }
  return utf8.decode(src.subarray(at, at + n));
}

/** The ASCII string of `src[at, at + n)` (checked to be ASCII by the caller). */
function ascii8(at: number, n: number): string {
  const s = src;
  switch (n) {
    case 0: return '';
    case 1: return fromCharCode(s[at] as number);
    case 2: return fromCharCode(s[at] as number, s[at + 1] as number);
    case 3: return fromCharCode(s[at] as number, s[at + 1] as number, s[at + 2] as number);
    case 4: return fromCharCode(s[at] as number, s[at + 1] as number, s[at + 2] as number, s[at + 3] as number);
    case 5: return fromCharCode(s[at] as number, s[at + 1] as number, s[at + 2] as number, s[at + 3] as number, s[at + 4] as number);
    case 6: return fromCharCode(s[at] as number, s[at + 1] as number, s[at + 2] as number, s[at + 3] as number, s[at + 4] as number, s[at + 5] as number);
    case 7: return fromCharCode(s[at] as number, s[at + 1] as number, s[at + 2] as number, s[at + 3] as number, s[at + 4] as number, s[at + 5] as number, s[at + 6] as number);
    case 8: return fromCharCode(s[at] as number, s[at + 1] as number, s[at + 2] as number, s[at + 3] as number, s[at + 4] as number, s[at + 5] as number, s[at + 6] as number, s[at + 7] as number);
    case 9: return fromCharCode(s[at] as number, s[at + 1] as number, s[at + 2] as number, s[at + 3] as number, s[at + 4] as number, s[at + 5] as number, s[at + 6] as number, s[at + 7] as number, s[at + 8] as number);
    case 10: return fromCharCode(s[at] as number, s[at + 1] as number, s[at + 2] as number, s[at + 3] as number, s[at + 4] as number, s[at + 5] as number, s[at + 6] as number, s[at + 7] as number, s[at + 8] as number, s[at + 9] as number);
    case 11: return fromCharCode(s[at] as number, s[at + 1] as number, s[at + 2] as number, s[at + 3] as number, s[at + 4] as number, s[at + 5] as number, s[at + 6] as number, s[at + 7] as number, s[at + 8] as number, s[at + 9] as number, s[at + 10] as number);
    case 12: return fromCharCode(s[at] as number, s[at + 1] as number, s[at + 2] as number, s[at + 3] as number, s[at + 4] as number, s[at + 5] as number, s[at + 6] as number, s[at + 7] as number, s[at + 8] as number, s[at + 9] as number, s[at + 10] as number, s[at + 11] as number);
    case 13: return fromCharCode(s[at] as number, s[at + 1] as number, s[at + 2] as number, s[at + 3] as number, s[at + 4] as number, s[at + 5] as number, s[at + 6] as number, s[at + 7] as number, s[at + 8] as number, s[at + 9] as number, s[at + 10] as number, s[at + 11] as number, s[at + 12] as number);
    case 14: return fromCharCode(s[at] as number, s[at + 1] as number, s[at + 2] as number, s[at + 3] as number, s[at + 4] as number, s[at + 5] as number, s[at + 6] as number, s[at + 7] as number, s[at + 8] as number, s[at + 9] as number, s[at + 10] as number, s[at + 11] as number, s[at + 12] as number, s[at + 13] as number);
    case 15: return fromCharCode(s[at] as number, s[at + 1] as number, s[at + 2] as number, s[at + 3] as number, s[at + 4] as number, s[at + 5] as number, s[at + 6] as number, s[at + 7] as number, s[at + 8] as number, s[at + 9] as number, s[at + 10] as number, s[at + 11] as number, s[at + 12] as number, s[at + 13] as number, s[at + 14] as number);
    case 16: return fromCharCode(s[at] as number, s[at + 1] as number, s[at + 2] as number, s[at + 3] as number, s[at + 4] as number, s[at + 5] as number, s[at + 6] as number, s[at + 7] as number, s[at + 8] as number, s[at + 9] as number, s[at + 10] as number, s[at + 11] as number, s[at + 12] as number, s[at + 13] as number, s[at + 14] as number, s[at + 15] as number);
    default: {
      let out = '';
      let i = at;
      const stop = at + n;
      for (; i + 16 <= stop; i += 16) out += ascii8(i, 16);
      return i < stop ? out + ascii8(i, stop - i) : out;
    }
  }
}

function readBin(n: number): Uint8Array {
  if (n > end - pos) throw new LogDecodeError(`truncated bin at byte ${pos}`);
  const b = new Uint8Array(n); // a copy, never a view of the read buffer (it is reused)
  b.set(src.subarray(pos, pos + n));
  pos += n;
  return b;
}

/** Extensions: the standard timestamp (-1) and msgpackr's `undefined` (fixext 1, type 0) only. */
function readExt(n: number): unknown {
  need(n + 1);
  const type = view.getInt8(pos);
  const at = pos + 1;
  pos = at + n;
  if (type === 0 && n === 1 && src[at] === 0) return undefined;
  if (type !== -1) throw new LogDecodeError(`msgpack extension type ${type} is not decoded (only timestamps)`);
  if (n === 4) return new Date(view.getUint32(at) * 1000);
  if (n === 8) {
    const hi = view.getUint32(at);
    const seconds = (hi & 0x3) * 0x100000000 + view.getUint32(at + 4);
    return new Date((hi >>> 2) / 1e6 + seconds * 1000);
  }
  if (n === 12) return new Date(view.getUint32(at) / 1e6 + Number(view.getBigInt64(at + 4)) * 1000);
  if (n === 1 && src[at] === 0xff) return new Date(NaN); // msgpackr's invalid date
  throw new LogDecodeError(`msgpack timestamp with invalid length ${n}`);
}
