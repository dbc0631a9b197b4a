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

/**
 * Decodes exactly one MessagePack value from `bytes`, or says why it cannot.
 *
 * @example
 * decodeMsgpack(new Uint8Array([0x81, 0xa1, 0x61, 0x01])); // { ok: true, value: { a: 1 } }
 */
export function decodeMsgpack(bytes: Uint8Array, options: MsgpackDecodeOptions = {}): Decoded<unknown> {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const timestamps = options.timestamps ?? true;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;
  let pos = 0;

  const need = (n: number): void => {
    if (pos + n > end) throw new Bad(`truncated msgpack value at byte ${pos}`);
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++] as number;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos);
    pos += 4;
    return v;
  };
  const str = (n: number): string => {
    need(n);
    const s = decodeUtf8(bytes.subarray(pos, pos + n));
    if (!s.ok) throw new Bad(`invalid UTF-8 in msgpack string at byte ${pos}`);
    pos += n;
    return s.value;
  };
  const bin = (n: number): Uint8Array => {
    need(n);
    const b = new Uint8Array(n); // a copy, never a view of the (possibly large, pooled) input
    b.set(bytes.subarray(pos, pos + n));
    pos += n;
    return b;
  };
  const ext = (n: number): unknown => {
    need(n + 1);
    const type = view.getInt8(pos);
    pos++;
    if (type !== -1 || !timestamps) throw new Bad(`msgpack extension type ${type} is not allowed (extensions are not decoded)`);
    let ms: number;
    if (n === 4) {
      ms = view.getUint32(pos) * 1000;
    } else if (n === 8) {
      const hi = view.getUint32(pos);
      const lo = view.getUint32(pos + 4);
      const nanos = hi >>> 2;
      const seconds = (hi & 0x3) * 0x100000000 + lo;
      ms = seconds * 1000 + Math.floor(nanos / 1e6);
    } else if (n === 12) {
      const nanos = view.getUint32(pos);
      ms = Number(view.getBigInt64(pos + 4)) * 1000 + Math.floor(nanos / 1e6);
    } else {
      throw new Bad(`msgpack timestamp with invalid length ${n}`);
    }
    pos += n;
    return new Date(ms);
  };
  const key = (depth: number): string => {
    const k = value(depth);
    if (typeof k === 'string') return k;
    if (typeof k === 'number' || typeof k === 'boolean' || k === null) return String(k);
    throw new Bad('msgpack map key must be a string, number, boolean or nil');
  };
  const array = (n: number, depth: number): unknown[] => {
    if (depth >= maxDepth) throw new Bad(`msgpack nested deeper than ${maxDepth} levels`);
    if (n > end - pos) throw new Bad(`truncated msgpack array at byte ${pos}`); // each item needs a byte
    const out: unknown[] = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = value(depth + 1);
    return out;
  };
  const map = (n: number, depth: number): Record<string, unknown> => {
    if (depth >= maxDepth) throw new Bad(`msgpack nested deeper than ${maxDepth} levels`);
    if (n * 2 > end - pos) throw new Bad(`truncated msgpack map at byte ${pos}`);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const k = key(depth + 1);
      setOwn(out, k, value(depth + 1));
    }
    return out;
  };
  const value = (depth: number): unknown => {
    const b = u8();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b <= 0x8f) return map(b & 0x0f, depth);
    if (b <= 0x9f) return array(b & 0x0f, depth);
    if (b <= 0xbf) return str(b & 0x1f);
    let v: number;
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return bin(u8());
      case 0xc5: return bin(u16());
      case 0xc6: return bin(u32());
      case 0xc7: return ext(u8());
      case 0xc8: return ext(u16());
      case 0xc9: return ext(u32());
      case 0xca: need(4); v = view.getFloat32(pos); pos += 4; return v;
      case 0xcb: need(8); v = view.getFloat64(pos); pos += 8; return v;
      case 0xcc: return u8();
      case 0xcd: return u16();
      case 0xce: return u32();
      case 0xcf: need(8); v = Number(view.getBigUint64(pos)); pos += 8; return v;
      case 0xd0: need(1); v = view.getInt8(pos); pos += 1; return v;
      case 0xd1: need(2); v = view.getInt16(pos); pos += 2; return v;
      case 0xd2: need(4); v = view.getInt32(pos); pos += 4; return v;
      case 0xd3: need(8); v = Number(view.getBigInt64(pos)); pos += 8; return v;
      case 0xd4: return ext(1);
      case 0xd5: return ext(2);
      case 0xd6: return ext(4);
      case 0xd7: return ext(8);
      case 0xd8: return ext(16);
      case 0xd9: return str(u8());
      case 0xda: return str(u16());
      case 0xdb: return str(u32());
      case 0xdc: return array(u16(), depth);
      case 0xdd: return array(u32(), depth);
      case 0xde: return map(u16(), depth);
      case 0xdf: return map(u32(), depth);
      default: throw new Bad(`invalid msgpack type byte 0x${b.toString(16)} at byte ${pos - 1}`);
    }
  };

  try {
    const v = value(0);
    if (pos !== end) return rejected(`${end - pos} trailing bytes after the msgpack value`);
    return { ok: true, value: v };
  } catch (e) {
    if (e instanceof Bad) return rejected(e.message);
    if (e instanceof RangeError) return rejected(`undecodable msgpack: ${e.message}`);
    throw e;
  }
}
