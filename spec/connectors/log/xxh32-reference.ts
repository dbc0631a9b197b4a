/**
 * An independent, byte-at-a-time xxHash32 (seed 0) written from the specification, to check the
 * event log's frame checksums against (and to forge valid frames around hostile payloads).
 */

const P1 = 2654435761;
const P2 = 2246822519;
const P3 = 3266489917;
const P4 = 668265263;
const P5 = 374761393;

const mul = (a: number, b: number): number => Number((BigInt(a) * BigInt(b)) & 0xffffffffn);
const add = (a: number, b: number): number => (a + b) >>> 0;
const rotl = (x: number, r: number): number => ((x << r) | (x >>> (32 - r))) >>> 0;
const u32 = (b: Uint8Array, i: number): number => ((b[i] ?? 0) | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16) | ((b[i + 3] ?? 0) << 24)) >>> 0;
const round = (acc: number, lane: number): number => mul(rotl(add(acc, mul(lane, P2)), 13), P1);

/**
 * xxHash32 of `b` with seed 0.
 *
 * @example
 * xxh32Reference(Buffer.from('abc')); // 0x32d153ff
 */
export function xxh32Reference(b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  let h: number;
  if (n >= 16) {
    let v1 = add(P1, P2);
    let v2 = P2;
    let v3 = 0;
    let v4 = (0 - P1) >>> 0;
    for (; i + 16 <= n; i += 16) {
      v1 = round(v1, u32(b, i));
      v2 = round(v2, u32(b, i + 4));
      v3 = round(v3, u32(b, i + 8));
      v4 = round(v4, u32(b, i + 12));
    }
    h = add(add(rotl(v1, 1), rotl(v2, 7)), add(rotl(v3, 12), rotl(v4, 18)));
  } else h = P5;
  h = add(h, n);
  for (; i + 4 <= n; i += 4) h = mul(rotl(add(h, mul(u32(b, i), P3)), 17), P4);
  for (; i < n; i++) h = mul(rotl(add(h, mul(b[i] as number, P5)), 11), P1);
  h = mul((h ^ (h >>> 15)) >>> 0, P2);
  h = mul((h ^ (h >>> 13)) >>> 0, P3);
  return (h ^ (h >>> 16)) >>> 0;
}
