/**
 * A small, strict msgpack decoder for untrusted JetStream payloads. It decodes the standard types
 * (nil, booleans, integers, floats, strings, binary, arrays, maps) and the one standard extension,
 * the timestamp (type −1, as a `Date`); every other extension type is rejected, so decoding never
 * runs extension code (msgpackr's built-in extensions build RegExps, Errors, structured clones and
 * compiled record readers — none of that is wanted for data from outside).
 *
 * Safety: `__proto__` and `constructor` keys become plain own properties (never a prototype
 * change); declared lengths are checked against the bytes left before anything is allocated, so a
 * 5-byte message cannot ask for a 4-billion-element array; nesting is bounded (no stack overflow).
 */

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Why a payload is not valid msgpack (the dead letter's reason). */
export class MsgpackDecodeError extends Error {
  override name = 'MsgpackDecodeError';
}

/** Options of {@link decodeMsgpack}. */
export interface MsgpackDecodeOptions {
  /** Deepest nesting of arrays and maps accepted (default 512). */
  readonly maxDepth?: number;
}

/**
 * Decodes exactly one msgpack value from `bytes` (trailing bytes are an error). Throws a
 * {@link MsgpackDecodeError} that says what is wrong and at which byte.
 *
 * @example
 * decodeMsgpack(Uint8Array.of(0x81, 0xa1, 0x61, 0x01)); // { a: 1 }
 */
export function decodeMsgpack(bytes: Uint8Array, options: MsgpackDecodeOptions = {}): unknown {
  const d = new Decoder(bytes, options.maxDepth ?? 512);
  const value = d.value(0);
  if (d.pos !== bytes.length) throw new MsgpackDecodeError(`msgpack: ${bytes.length - d.pos} trailing bytes after the value (at byte ${d.pos})`);
  return value;
}

class Decoder {
  pos = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array, private readonly maxDepth: number) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private fail(what: string): never {
    throw new MsgpackDecodeError(`msgpack: ${what} (at byte ${this.pos})`);
  }

  /** Moves past `n` bytes that must be present; returns where they start. */
  private take(n: number): number {
    if (n > this.bytes.length - this.pos) this.fail(`needs ${n} more bytes, ${this.bytes.length - this.pos} left`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private u8(): number {
    return this.view.getUint8(this.take(1));
  }

  private u16(): number {
    return this.view.getUint16(this.take(2));
  }

  private u32(): number {
    return this.view.getUint32(this.take(4));
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
      case 0xca: return this.view.getFloat32(this.take(4));
      case 0xcb: return this.view.getFloat64(this.take(8));
      case 0xcc: return this.u8();
      case 0xcd: return this.u16();
      case 0xce: return this.u32();
      case 0xcf: return safeInt(this.view.getBigUint64(this.take(8)));
      case 0xd0: return this.view.getInt8(this.take(1));
      case 0xd1: return this.view.getInt16(this.take(2));
      case 0xd2: return this.view.getInt32(this.take(4));
      case 0xd3: return safeInt(this.view.getBigInt64(this.take(8)));
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
      default: return this.fail(`byte 0x${b.toString(16)} is not a msgpack type`);
    }
  }

  private str(n: number): string {
    const at = this.take(n);
    try {
      return utf8.decode(this.bytes.subarray(at, at + n));
    } catch {
      return this.fail('a string is not valid UTF-8');
    }
  }

  private bin(n: number): Uint8Array {
    const at = this.take(n);
    return new Uint8Array(this.bytes.subarray(at, at + n)); // a plain copy, even from a Buffer
  }

  private array(n: number, depth: number): unknown[] {
    if (depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    // Every element takes at least one byte: refuse lengths the payload cannot hold.
    if (n > this.bytes.length - this.pos) this.fail(`an array of ${n} elements cannot fit in the ${this.bytes.length - this.pos} bytes left`);
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
    return out;
  }

  private map(n: number, depth: number): Record<string, unknown> {
    if (depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    if (n * 2 > this.bytes.length - this.pos) this.fail(`a map of ${n} entries cannot fit in the ${this.bytes.length - this.pos} bytes left`);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const k = this.value(depth + 1);
      if (typeof k !== 'string' && typeof k !== 'number') this.fail(`a map key is ${k === null ? 'null' : typeof k}; only string and number keys are accepted`);
      const key = String(k);
      const v = this.value(depth + 1);
      // A plain own property even for '__proto__' (an assignment would change the prototype).
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }

  private ext(n: number): Date {
    const type = this.view.getInt8(this.take(1));
    const at = this.take(n);
    if (type !== -1) this.fail(`msgpack extension type ${type} is not allowed (only the timestamp, −1)`);
    let ms: number;
    if (n === 4) {
      ms = this.view.getUint32(at) * 1000;
    } else if (n === 8) {
      const hi = this.view.getUint32(at);
      const lo = this.view.getUint32(at + 4);
      const nanos = hi >>> 2;
      const secs = (hi & 0x3) * 0x1_0000_0000 + lo;
      ms = secs * 1000 + Math.floor(nanos / 1e6);
    } else if (n === 12) {
      const nanos = this.view.getUint32(at);
      const secs = Number(this.view.getBigInt64(at + 4));
      ms = secs * 1000 + Math.floor(nanos / 1e6);
    } else {
      return this.fail(`a timestamp extension of ${n} bytes (expected 4, 8 or 12)`);
    }
    const date = new Date(ms);
    if (Number.isNaN(date.getTime())) this.fail('a timestamp outside the range of Date');
    return date;
  }
}

/** A 64-bit integer as a number when exact, else as a bigint. */
function safeInt(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
}
