/**
 * A safe MessagePack decoder for untrusted bytes: one complete value per call, no extension code
 * (every ext type is rejected except, when allowed, the standard timestamp type -1, decoded to a
 * `Date`), maps become plain objects whose `__proto__`/`constructor` keys are own data properties
 * (msgpackr renames `__proto__`, which changes the data; this keeps it), a nesting limit, strict
 * UTF-8 strings, and no trailing bytes. 64-bit integers outside the safe range become (inexact)
 * numbers, as in JSON. Bin values become `Uint8Array` copies.
 */
import { DEFAULT_MAX_DEPTH } from './limits.js';
import { type Decoded, rejected } from './result.js';
import { setOwn } from './safe-object.js';
import { decodeUtf8 } from './utf8.js';

/** Options of `decodeMsgpack`. */
export interface MsgpackDecodeOptions {
  /** Deepest accepted nesting (default 256). */
  readonly maxDepth?: number;
  /** Decode the standard timestamp extension (type -1) to a `Date` (default true). */
  readonly timestamps?: boolean;
}

class Bad extends Error {}

/** Decoding state over one input. */
class Reader {
  pos = 0;
  readonly view: DataView;
  readonly end: number;

  constructor(readonly bytes: Uint8Array, readonly maxDepth: number, readonly timestamps: boolean) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.end = bytes.length;
  }

  need(n: number): void {
    if (this.pos + n > this.end) throw new Bad(`truncated msgpack value at byte ${this.pos}`);
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++] as number;
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  /** A fixed-size number read with `get` (`size` bytes). */
  num(size: number, get: (view: DataView, at: number) => number): number {
    this.need(size);
    const v = get(this.view, this.pos);
    this.pos += size;
    return v;
  }

  str(n: number): string {
    this.need(n);
    const s = decodeUtf8(this.bytes.subarray(this.pos, this.pos + n));
    if (!s.ok) throw new Bad(`invalid UTF-8 in msgpack string at byte ${this.pos}`);
    this.pos += n;
    return s.value;
  }

  bin(n: number): Uint8Array {
    this.need(n);
    const b = new Uint8Array(n); // a copy, never a view of the (possibly large, pooled) input
    b.set(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return b;
  }

  ext(n: number): unknown {
    this.need(n + 1);
    const view = this.view;
    const type = view.getInt8(this.pos);
    this.pos++;
    if (type !== -1 || !this.timestamps) throw new Bad(`msgpack extension type ${type} is not allowed (extensions are not decoded)`);
    const at = this.pos;
    let ms: number;
    if (n === 4) {
      ms = view.getUint32(at) * 1000;
    } else if (n === 8) {
      const hi = view.getUint32(at);
      const nanos = hi >>> 2;
      const seconds = (hi & 0x3) * 0x100000000 + view.getUint32(at + 4);
      ms = seconds * 1000 + Math.floor(nanos / 1e6);
    } else if (n === 12) {
      ms = Number(view.getBigInt64(at + 4)) * 1000 + Math.floor(view.getUint32(at) / 1e6);
    } else {
      throw new Bad(`msgpack timestamp with invalid length ${n}`);
    }
    this.pos += n;
    return new Date(ms);
  }

  key(depth: number): string {
    const k = this.value(depth);
    if (typeof k === 'string') return k;
    if (typeof k === 'number' || typeof k === 'boolean' || k === null) return String(k);
    throw new Bad('msgpack map key must be a string, number, boolean or nil');
  }

  array(n: number, depth: number): unknown[] {
    if (depth >= this.maxDepth) throw new Bad(`msgpack nested deeper than ${this.maxDepth} levels`);
    if (n > this.end - this.pos) throw new Bad(`truncated msgpack array at byte ${this.pos}`); // each item needs a byte
    const out: unknown[] = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
    return out;
  }

  map(n: number, depth: number): Record<string, unknown> {
    if (depth >= this.maxDepth) throw new Bad(`msgpack nested deeper than ${this.maxDepth} levels`);
    if (n * 2 > this.end - this.pos) throw new Bad(`truncated msgpack map at byte ${this.pos}`);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const k = this.key(depth + 1);
      setOwn(out, k, this.value(depth + 1));
    }
    return out;
  }

  value(depth: number): unknown {
    const b = this.u8();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b <= 0x8f) return this.map(b & 0x0f, depth);
    if (b <= 0x9f) return this.array(b & 0x0f, depth);
    if (b <= 0xbf) return this.str(b & 0x1f);
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return this.bin(this.u8());
      case 0xc5: return this.bin(this.u16());
      case 0xc6: return this.bin(this.u32());
      case 0xc7: return this.ext(this.u8());
      case 0xc8: return this.ext(this.u16());
      case 0xc9: return this.ext(this.u32());
      case 0xca: return this.num(4, getFloat32);
      case 0xcb: return this.num(8, getFloat64);
      case 0xcc: return this.u8();
      case 0xcd: return this.u16();
      case 0xce: return this.u32();
      case 0xcf: return this.num(8, getUint64);
      case 0xd0: return this.num(1, getInt8);
      case 0xd1: return this.num(2, getInt16);
      case 0xd2: return this.num(4, getInt32);
      case 0xd3: return this.num(8, getInt64);
      case 0xd4: return this.ext(1);
      case 0xd5: return this.ext(2);
      case 0xd6: return this.ext(4);
      case 0xd7: return this.ext(8);
      case 0xd8: return this.ext(16);
      case 0xd9: return this.str(this.u8());
      case 0xda: return this.str(this.u16());
      case 0xdb: return this.str(this.u32());
      case 0xdc: return this.array(this.u16(), depth);
      case 0xdd: return this.array(this.u32(), depth);
      case 0xde: return this.map(this.u16(), depth);
      case 0xdf: return this.map(this.u32(), depth);
      default: throw new Bad(`invalid msgpack type byte 0x${b.toString(16)} at byte ${this.pos - 1}`);
    }
  }
}

const getFloat32 = (v: DataView, at: number): number => v.getFloat32(at);
const getFloat64 = (v: DataView, at: number): number => v.getFloat64(at);
const getUint64 = (v: DataView, at: number): number => Number(v.getBigUint64(at));
const getInt8 = (v: DataView, at: number): number => v.getInt8(at);
const getInt16 = (v: DataView, at: number): number => v.getInt16(at);
const getInt32 = (v: DataView, at: number): number => v.getInt32(at);
const getInt64 = (v: DataView, at: number): number => Number(v.getBigInt64(at));

/**
 * Decodes exactly one MessagePack value from `bytes`, or says why it cannot.
 *
 * @example
 * decodeMsgpack(new Uint8Array([0x81, 0xa1, 0x61, 0x01])); // { ok: true, value: { a: 1 } }
 */
export function decodeMsgpack(bytes: Uint8Array, options: MsgpackDecodeOptions = {}): Decoded<unknown> {
  const r = new Reader(bytes, options.maxDepth ?? DEFAULT_MAX_DEPTH, options.timestamps ?? true);
  try {
    const v = r.value(0);
    if (r.pos !== r.end) return rejected(`${r.end - r.pos} trailing bytes after the msgpack value`);
    return { ok: true, value: v };
  } catch (e) {
    if (e instanceof Bad) return rejected(e.message);
    if (e instanceof RangeError) return rejected(`undecodable msgpack: ${e.message}`);
    throw e;
  }
}
