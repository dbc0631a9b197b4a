/**
 * A MessagePack encoder for records written by sinks, the counterpart of `decodeMsgpack`:
 * null/undefined → nil, booleans, numbers (smallest integer form up to 32 bits, else float64 —
 * exact for safe integers, as msgpackr does), bigints (64-bit), strings, `Uint8Array` → bin,
 * arrays, `Date` → the standard timestamp extension (-1), `Map` and plain objects → maps of their
 * own enumerable string keys (undefined properties are skipped, as in JSON). Functions and
 * symbols, cycles and nesting deeper than `maxDepth` are errors.
 */
import { DEFAULT_MAX_DEPTH } from './limits.js';

const utf8 = new TextEncoder();

/** Encoding state: a growing output buffer and the objects being encoded (cycle check). */
class Encoder {
  buf = new Uint8Array(1024);
  view = new DataView(this.buf.buffer);
  len = 0;
  readonly stack = new Set<object>();

  constructor(readonly maxDepth: number) {}

  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  /** A length header: the fix form up to `fixMax`, else 8 (if the type has one), 16 or 32 bits. */
  header(fix: number, b8: number, b16: number, b32: number, n: number, fixMax: number): void {
    this.reserve(5);
    if (n <= fixMax) {
      this.buf[this.len++] = fix | n;
    } else if (b8 !== 0 && n <= 0xff) {
      this.buf[this.len++] = b8;
      this.buf[this.len++] = n;
    } else if (n <= 0xffff) {
      this.buf[this.len++] = b16;
      this.view.setUint16(this.len, n);
      this.len += 2;
    } else {
      this.buf[this.len++] = b32;
      this.view.setUint32(this.len, n);
      this.len += 4;
    }
  }

  float(n: number): void {
    this.reserve(9);
    this.buf[this.len++] = 0xcb;
    this.view.setFloat64(this.len, n);
    this.len += 8;
  }

  int(n: number): void {
    this.reserve(5);
    const v = this.view;
    if (n >= 0) {
      if (n <= 0x7f) this.buf[this.len++] = n;
      else if (n <= 0xff) { this.buf[this.len++] = 0xcc; this.buf[this.len++] = n; }
      else if (n <= 0xffff) { this.buf[this.len++] = 0xcd; v.setUint16(this.len, n); this.len += 2; }
      else if (n <= 0xffffffff) { this.buf[this.len++] = 0xce; v.setUint32(this.len, n); this.len += 4; }
      else this.float(n); // exact for safe integers, and read back as a number everywhere (not a bigint)
    } else if (n >= -32) this.buf[this.len++] = n + 0x100;
    else if (n >= -0x80) { this.buf[this.len++] = 0xd0; v.setInt8(this.len, n); this.len += 1; }
    else if (n >= -0x8000) { this.buf[this.len++] = 0xd1; v.setInt16(this.len, n); this.len += 2; }
    else if (n >= -0x80000000) { this.buf[this.len++] = 0xd2; v.setInt32(this.len, n); this.len += 4; }
    else this.float(n);
  }

  string(s: string): void {
    const n = s.length;
    if (n < 32) {
      // short strings: encode in place (at most 3 bytes per UTF-16 unit)
      this.reserve(2 + n * 3);
      const headerAt = this.len;
      let at = headerAt + 1;
      const buf = this.buf;
      for (let i = 0; i < n; i++) {
        let c = s.charCodeAt(i);
        if (c < 0x80) {
          buf[at++] = c;
        } else if (c < 0x800) {
          buf[at++] = 0xc0 | (c >> 6);
          buf[at++] = 0x80 | (c & 0x3f);
        } else {
          if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
            const d = s.charCodeAt(i + 1);
            if (d >= 0xdc00 && d <= 0xdfff) {
              c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
              i++;
              buf[at++] = 0xf0 | (c >> 18);
              buf[at++] = 0x80 | ((c >> 12) & 0x3f);
              buf[at++] = 0x80 | ((c >> 6) & 0x3f);
              buf[at++] = 0x80 | (c & 0x3f);
              continue;
            }
          }
          if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // lone surrogate, as TextEncoder does
          buf[at++] = 0xe0 | (c >> 12);
          buf[at++] = 0x80 | ((c >> 6) & 0x3f);
          buf[at++] = 0x80 | (c & 0x3f);
        }
      }
      const size = at - headerAt - 1;
      if (size < 32) {
        buf[headerAt] = 0xa0 | size;
        this.len = at;
      } else {
        // 32..93 bytes: needs a str8 header, one byte longer
        buf.copyWithin(headerAt + 2, headerAt + 1, at);
        buf[headerAt] = 0xd9;
        buf[headerAt + 1] = size;
        this.len = at + 1;
      }
      return;
    }
    const b = utf8.encode(s);
    this.header(0xa0, 0xd9, 0xda, 0xdb, b.length, 31);
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  date(d: Date): void {
    const ms = d.getTime();
    if (Number.isNaN(ms)) throw new TypeError('cannot encode an invalid Date');
    const seconds = Math.floor(ms / 1000);
    const nanos = (ms - seconds * 1000) * 1e6;
    this.reserve(15);
    this.buf[this.len++] = 0xc7;
    this.buf[this.len++] = 12;
    this.buf[this.len++] = 0xff;
    this.view.setUint32(this.len, nanos);
    this.view.setBigInt64(this.len + 4, BigInt(seconds));
    this.len += 12;
  }

  value(v: unknown, depth: number): void {
    switch (typeof v) {
      case 'undefined': this.byte(0xc0); return;
      case 'boolean': this.byte(v ? 0xc3 : 0xc2); return;
      case 'number':
        if (Number.isSafeInteger(v)) this.int(v);
        else this.float(v);
        return;
      case 'string': this.string(v); return;
      case 'bigint':
        this.reserve(9);
        if (v >= 0n) { this.buf[this.len++] = 0xcf; this.view.setBigUint64(this.len, BigInt.asUintN(64, v)); }
        else { this.buf[this.len++] = 0xd3; this.view.setBigInt64(this.len, BigInt.asIntN(64, v)); }
        this.len += 8;
        return;
      case 'object': break;
      default: throw new TypeError(`cannot encode a ${typeof v} as msgpack`);
    }
    if (v === null) { this.byte(0xc0); return; }
    if (v instanceof Uint8Array) {
      this.header(0, 0xc4, 0xc5, 0xc6, v.length, -1);
      this.reserve(v.length);
      this.buf.set(v, this.len);
      this.len += v.length;
      return;
    }
    if (v instanceof Date) { this.date(v); return; }
    if (depth >= this.maxDepth) throw new TypeError(`cannot encode a value nested deeper than ${this.maxDepth} levels`);
    if (this.stack.has(v)) throw new TypeError('cannot encode a cyclic value');
    this.stack.add(v);
    if (Array.isArray(v)) {
      this.header(0x90, 0, 0xdc, 0xdd, v.length, 15);
      for (let i = 0; i < v.length; i++) this.value(v[i], depth + 1);
    } else if (v instanceof Map) {
      this.header(0x80, 0, 0xde, 0xdf, v.size, 15);
      for (const [k, item] of v) {
        this.value(k, depth + 1);
        this.value(item, depth + 1);
      }
    } else {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      let n = 0;
      for (const k of keys) if (o[k] !== undefined) n++;
      this.header(0x80, 0, 0xde, 0xdf, n, 15);
      for (const k of keys) {
        const item = o[k];
        if (item === undefined) continue;
        this.string(k);
        this.value(item, depth + 1);
      }
    }
    this.stack.delete(v);
  }
}

/** A reusable encoder (encoding is synchronous; a nested call, e.g. from a getter, gets its own). */
let shared: Encoder | undefined;

/**
 * Encodes `value` as one MessagePack value; throws a `TypeError` for what cannot be encoded.
 *
 * @example
 * encodeMsgpack({ a: 1 }); // Uint8Array [0x81, 0xa1, 0x61, 0x01]
 */
export function encodeMsgpack(value: unknown, maxDepth: number = DEFAULT_MAX_DEPTH): Uint8Array {
  const enc = shared !== undefined && shared.maxDepth === maxDepth ? shared : new Encoder(maxDepth);
  shared = undefined;
  enc.len = 0;
  enc.stack.clear();
  try {
    enc.value(value, 0);
    return enc.buf.slice(0, enc.len);
  } finally {
    if (enc.buf.length <= 1 << 16) shared = enc; // do not keep a huge buffer around
  }
}
