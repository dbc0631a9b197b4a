/**
 * xxHash32 (seed 0), the checksum of the event log's record frames (format 2). Pure JS, reading
 * four bytes at a time little-endian through a `DataView` kept per buffer: about three times as
 * fast as a slicing-by-8 CRC-32 on ~100-byte frames (25M vs 8M frames/s on the development
 * machine), so that checking every frame stays a small part of replay. It detects random
 * corruption (bit rot, torn writes) with probability 1 − 2⁻³²; it is not a cryptographic hash.
 */

const P1 = 0x9e3779b1 | 0;
const P2 = 0x85ebca77 | 0;
const P3 = 0xc2b2ae3d | 0;
const P4 = 0x27d4eb2f | 0;
const P5 = 0x165667b1 | 0;

/** The buffer last hashed and a view of it (made once per buffer, not per call). */
let viewed: Uint8Array | undefined;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/**
 * The xxHash32 (seed 0) of `b[start, end)`, as an unsigned 32-bit integer.
 *
 * @example
 * xxhash32(Buffer.from('abc')); // 0x32d153ff
 */
export function xxhash32(b: Uint8Array, start = 0, end = b.length): number {
  if (b !== viewed) {
    viewed = b;
    view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  const d = view;
  let i = start;
  let h: number;
  if (end - start >= 16) {
    let v1 = (P1 + P2) | 0;
    let v2 = P2;
    let v3 = 0;
    let v4 = -P1 | 0;
    const limit = end - 16;
    while (i <= limit) {
      v1 = Math.imul(rotl(v1 + Math.imul(d.getInt32(i, true), P2), 13), P1);
      v2 = Math.imul(rotl(v2 + Math.imul(d.getInt32(i + 4, true), P2), 13), P1);
      v3 = Math.imul(rotl(v3 + Math.imul(d.getInt32(i + 8, true), P2), 13), P1);
      v4 = Math.imul(rotl(v4 + Math.imul(d.getInt32(i + 12, true), P2), 13), P1);
      i += 16;
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = P5;
  }
  h = (h + (end - start)) | 0;
  while (i + 4 <= end) {
    h = Math.imul(rotl(h + Math.imul(d.getInt32(i, true), P3), 17), P4);
    i += 4;
  }
  while (i < end) {
    h = Math.imul(rotl(h + Math.imul(b[i] as number, P5), 11), P1);
    i++;
  }
  h = Math.imul(h ^ (h >>> 15), P2);
  h = Math.imul(h ^ (h >>> 13), P3);
  return (h ^ (h >>> 16)) >>> 0;
}

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}
