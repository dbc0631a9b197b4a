/**
 * A MessagePack encoder for records written by sinks, the counterpart of `decodeMsgpack`:
 * null/undefined → nil, booleans, numbers (smallest integer form up to 32 bits, else float64 —
 * exact for safe integers, as msgpackr does), bigints (64-bit),
 * strings, `Uint8Array` → bin, arrays, `Date` → the standard timestamp extension (-1), `Map` and
 * plain objects → maps of their own enumerable string keys (undefined properties are skipped, as
 * in JSON). Functions and symbols, cycles and nesting deeper than `maxDepth` are errors.
 */
import { DEFAULT_MAX_DEPTH } from './limits.js';

const utf8 = new TextEncoder();

/** Grows-as-needed output buffer. */
class Out {
  buf = new Uint8Array(256);
  view = new DataView(this.buf.buffer);
  len = 0;

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

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
}

/**
 * Encodes `value` as one MessagePack value; throws a `TypeError` for what cannot be encoded.
 *
 * @example
 * encodeMsgpack({ a: 1 }); // Uint8Array [0x81, 0xa1, 0x61, 0x01]
 */
export function encodeMsgpack(value: unknown, maxDepth: number = DEFAULT_MAX_DEPTH): Uint8Array {
  const out = new Out();
  const header = (small: number, b8: number | undefined, b16: number, b32: number, n: number, smallMax: number): void => {
    if (n <= smallMax) out.byte(small | n);
    else if (b8 !== undefined && n <= 0xff) { out.byte(b8); out.byte(n); }
    else if (n <= 0xffff) { out.reserve(3); out.byte(b16); out.view.setUint16(out.len, n); out.len += 2; }
    else { out.reserve(5); out.byte(b32); out.view.setUint32(out.len, n); out.len += 4; }
  };
  const float = (n: number): void => {
    out.reserve(9);
    out.byte(0xcb);
    out.view.setFloat64(out.len, n);
    out.len += 8;
  };
  const int = (n: number): void => {
    if (n >= 0) {
      if (n <= 0x7f) out.byte(n);
      else if (n <= 0xff) { out.byte(0xcc); out.byte(n); }
      else if (n <= 0xffff) { out.reserve(3); out.byte(0xcd); out.view.setUint16(out.len, n); out.len += 2; }
      else if (n <= 0xffffffff) { out.reserve(5); out.byte(0xce); out.view.setUint32(out.len, n); out.len += 4; }
      else float(n); // exact for safe integers, and read back as a number everywhere (not a bigint)
    } else if (n >= -32) out.byte(n + 0x100);
    else if (n >= -0x80) { out.reserve(2); out.byte(0xd0); out.view.setInt8(out.len, n); out.len += 1; }
    else if (n >= -0x8000) { out.reserve(3); out.byte(0xd1); out.view.setInt16(out.len, n); out.len += 2; }
    else if (n >= -0x80000000) { out.reserve(5); out.byte(0xd2); out.view.setInt32(out.len, n); out.len += 4; }
    else float(n);
  };
  const date = (d: Date): void => {
    const ms = d.getTime();
    if (Number.isNaN(ms)) throw new TypeError('cannot encode an invalid Date');
    const seconds = Math.floor(ms / 1000);
    const nanos = (ms - seconds * 1000) * 1e6;
    out.reserve(15);
    out.byte(0xc7);
    out.byte(12);
    out.byte(0xff);
    out.view.setUint32(out.len, nanos);
    out.view.setBigInt64(out.len + 4, BigInt(seconds));
    out.len += 12;
  };
  const stack = new Set<object>();
  const encode = (v: unknown, depth: number): void => {
    switch (typeof v) {
      case 'undefined': out.byte(0xc0); return;
      case 'boolean': out.byte(v ? 0xc3 : 0xc2); return;
      case 'number':
        if (Number.isSafeInteger(v)) int(v);
        else float(v);
        return;
      case 'bigint':
        out.reserve(9);
        if (v >= 0n) { out.byte(0xcf); out.view.setBigUint64(out.len, BigInt.asUintN(64, v)); }
        else { out.byte(0xd3); out.view.setBigInt64(out.len, BigInt.asIntN(64, v)); }
        out.len += 8;
        return;
      case 'string': {
        const b = utf8.encode(v);
        header(0xa0, 0xd9, 0xda, 0xdb, b.length, 31);
        out.bytes(b);
        return;
      }
      case 'object': break;
      default: throw new TypeError(`cannot encode a ${typeof v} as msgpack`);
    }
    if (v === null) { out.byte(0xc0); return; }
    if (v instanceof Uint8Array) {
      header(0, 0xc4, 0xc5, 0xc6, v.length, -1);
      out.bytes(v);
      return;
    }
    if (v instanceof Date) { date(v); return; }
    if (depth >= maxDepth) throw new TypeError(`cannot encode a value nested deeper than ${maxDepth} levels`);
    if (stack.has(v)) throw new TypeError('cannot encode a cyclic value');
    stack.add(v);
    if (Array.isArray(v)) {
      header(0x90, undefined, 0xdc, 0xdd, v.length, 15);
      for (const item of v) encode(item, depth + 1);
    } else if (v instanceof Map) {
      header(0x80, undefined, 0xde, 0xdf, v.size, 15);
      for (const [k, item] of v) {
        encode(k, depth + 1);
        encode(item, depth + 1);
      }
    } else {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o).filter((k) => o[k] !== undefined);
      header(0x80, undefined, 0xde, 0xdf, keys.length, 15);
      for (const k of keys) {
        encode(k, depth + 1);
        encode(o[k], depth + 1);
      }
    }
    stack.delete(v);
  };
  encode(value, 0);
  return out.buf.slice(0, out.len);
}
