/**
 * The event log's fast MessagePack encoder for the values most records hold: plain objects
 * (`constructor === Object`), arrays (`constructor === Array`), strings, numbers, booleans, `null`
 * and `undefined`. It writes straight into the frame buffer and produces what msgpackr (with the
 * log's options: no records, no bundled strings, float64 for non-integers) writes for the same
 * value, except that maps of fewer than 16 entries get a fixmap header (msgpackr always writes
 * map16) — the log's strict decoder (`decode.ts`) reads both into the same value. Anything else
 * anywhere in the value (a `Date`, `Map`, bigint, class instance, typed array, nesting deeper than
 * the decoder's limit…) makes it give up, and the caller encodes the whole value with msgpackr,
 * so such values keep exactly msgpackr's encoding.
 */
import { MAX_DEPTH } from './decode.js';

/** `encodePlain` could not encode the value: encode it with msgpackr. */
export const UNSUPPORTED = -1;
/** `encodePlain` ran out of room in the buffer: grow it and call again. */
export const NO_ROOM = -2;

let out: Buffer = Buffer.alloc(0);
let view = new DataView(out.buffer);
let p = 0;
let limit = 0;

/**
 * Encodes `value` into `buf` from byte `at` (`view` is a `DataView` over `buf`); returns the
 * position after it, `UNSUPPORTED` when the value holds a type this encoder leaves to msgpackr,
 * or `NO_ROOM` when the buffer is too small (nothing useful was written in either case).
 *
 * @example
 * const end = encodePlain(buf, view, 40, { page: '/home', n: 1 });
 * if (end === NO_ROOM) grow();
 */
export function encodePlain(buf: Buffer, dv: DataView, at: number, value: unknown): number {
  out = buf;
  view = dv;
  p = at;
  limit = buf.length;
  const r = write(value, 0);
  return r < 0 ? r : p;
}

/** Writes one value at `p`; 0, or `UNSUPPORTED` / `NO_ROOM`. */
function write(v: unknown, depth: number): number {
  switch (typeof v) {
    case 'string':
      return writeString(v);
    case 'number':
      return writeNumber(v);
    case 'boolean':
      if (p >= limit) return NO_ROOM;
      out[p++] = v ? 0xc3 : 0xc2;
      return 0;
    case 'undefined':
      if (p + 3 > limit) return NO_ROOM;
      out[p++] = 0xd4; // fixext 1, type 0, data 0: msgpackr's undefined
      out[p++] = 0;
      out[p++] = 0;
      return 0;
    case 'object': {
      if (v === null) {
        if (p >= limit) return NO_ROOM;
        out[p++] = 0xc0;
        return 0;
      }
      if (depth >= MAX_DEPTH) return UNSUPPORTED;
      const c: unknown = (v as { constructor?: unknown }).constructor;
      if (c === Object) return writeMap(v as Record<string, unknown>, depth);
      if (c === Array) return writeArray(v as unknown[], depth);
      return UNSUPPORTED;
    }
    default:
      return UNSUPPORTED;
  }
}

function writeMap(o: Record<string, unknown>, depth: number): number {
  const h = p;
  if (p >= limit) return NO_ROOM;
  p++; // the fixmap header, written when the count is known
  let n = 0;
  for (const k in o) {
    if (!hasOwn(o, k)) continue;
    n++;
    let r = writeString(k);
    if (r < 0) return r;
    const v = o[k];
    r = typeof v === 'string' ? writeString(v) : typeof v === 'number' ? writeNumber(v) : write(v, depth + 1);
    if (r < 0) return r;
  }
  if (n < 0x10) {
    out[h] = 0x80 | n;
    return 0;
  }
  if (n >= 0x10000) return UNSUPPORTED; // msgpackr refuses it
  if (p + 2 > limit) return NO_ROOM;
  out.copyWithin(h + 3, h + 1, p);
  out[h] = 0xde;
  out[h + 1] = n >> 8;
  out[h + 2] = n & 0xff;
  p += 2;
  return 0;
}

/** Own enumerable keys only, in `for…in` order (as msgpackr; `for…in` reads values faster than `Object.keys`). */
const hasOwn = Object.prototype.hasOwnProperty.call.bind(Object.prototype.hasOwnProperty) as (o: object, k: string) => boolean;

function writeArray(a: unknown[], depth: number): number {
  const n = a.length;
  if (p + 5 > limit) return NO_ROOM;
  if (n < 0x10) out[p++] = 0x90 | n;
  else if (n < 0x10000) {
    out[p] = 0xdc;
    out[p + 1] = n >> 8;
    out[p + 2] = n & 0xff;
    p += 3;
  } else {
    out[p++] = 0xdd;
    view.setUint32(p, n);
    p += 4;
  }
  for (let i = 0; i < n; i++) {
    const r = write(a[i], depth + 1);
    if (r < 0) return r;
  }
  return 0;
}

/** As msgpackr: unsigned and signed 32-bit integers in the smallest form, everything else float64 (so -0 becomes 0). */
function writeNumber(v: number): number {
  if (p + 9 > limit) return NO_ROOM;
  const b = out;
  if (v >>> 0 === v) {
    if (v < 0x80) b[p++] = v;
    else if (v < 0x100) {
      b[p] = 0xcc;
      b[p + 1] = v;
      p += 2;
    } else if (v < 0x10000) {
      b[p] = 0xcd;
      b[p + 1] = v >> 8;
      b[p + 2] = v & 0xff;
      p += 3;
    } else {
      b[p++] = 0xce;
      view.setUint32(p, v);
      p += 4;
    }
  } else if (v >> 0 === v) {
    if (v >= -0x20) b[p++] = 0x100 + v;
    else if (v >= -0x80) {
      b[p] = 0xd0;
      b[p + 1] = v + 0x100;
      p += 2;
    } else if (v >= -0x8000) {
      b[p++] = 0xd1;
      view.setInt16(p, v);
      p += 2;
    } else {
      b[p++] = 0xd2;
      view.setInt32(p, v);
      p += 4;
    }
  } else {
    b[p++] = 0xcb;
    view.setFloat64(p, v);
    p += 8;
  }
  return 0;
}

/**
 * As msgpackr: UTF-8, strings under 64 UTF-16 units encoded by a loop that writes an unpaired
 * surrogate as three bytes (as msgpackr does), longer ones by `Buffer#write` (which writes it as
 * U+FFFD, as msgpackr's native path does); the header sized by the byte length.
 */
function writeString(s: string): number {
  const n = s.length;
  const header = n < 0x20 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
  if (p + header + n * 3 > limit) return NO_ROOM;
  const b = out;
  const start = p + header;
  let q = start;
  if (n < 0x40) {
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) b[q++] = c;
      else if (c < 0x800) {
        b[q++] = (c >> 6) | 0xc0;
        b[q++] = (c & 0x3f) | 0x80;
      } else {
        let c2: number;
        if ((c & 0xfc00) === 0xd800 && ((c2 = s.charCodeAt(i + 1)) & 0xfc00) === 0xdc00) {
          c = 0x10000 + ((c & 0x03ff) << 10) + (c2 & 0x03ff);
          i++;
          b[q++] = (c >> 18) | 0xf0;
          b[q++] = ((c >> 12) & 0x3f) | 0x80;
          b[q++] = ((c >> 6) & 0x3f) | 0x80;
          b[q++] = (c & 0x3f) | 0x80;
        } else {
          b[q++] = (c >> 12) | 0xe0;
          b[q++] = ((c >> 6) & 0x3f) | 0x80;
          b[q++] = (c & 0x3f) | 0x80;
        }
      }
    }
  } else {
    q += b.write(s, start, 'utf8');
  }
  const len = q - start;
  // The header was sized by the UTF-16 length; move the bytes when the byte length needs a longer one.
  const need = len < 0x20 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 5;
  if (need !== header) b.copyWithin(p + need, start, q);
  if (need === 1) b[p] = 0xa0 | len;
  else if (need === 2) {
    b[p] = 0xd9;
    b[p + 1] = len;
  } else if (need === 3) {
    b[p] = 0xda;
    b[p + 1] = len >> 8;
    b[p + 2] = len & 0xff;
  } else {
    b[p] = 0xdb;
    view.setUint32(p + 1, len);
  }
  p += need + len;
  return 0;
}
