/**
 * Keys compare by value: interning agrees with a canonical-string map under any sequence of
 * interns and releases; equal keys hash alike; invalid keys are named.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Key, KeyMap, hashKey, keyProblem } from 'tidemark';
import { canonicalKey } from 'tidemark/testing';

const prim = fc.oneof(fc.constantFrom('a', 'b', '1', ''), fc.constantFrom(0, 1, -0, 2.5, NaN), fc.constantFrom(1n, 0n), fc.boolean());
const key: fc.Arbitrary<Key> = fc.oneof(prim, fc.array(prim, { maxLength: 3 }));

describe('KeyMap', () => {
  it('agrees with a by-value model under sets, gets and deletes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('set', 'get', 'delete'), key, fc.integer()), { maxLength: 80 }), (ops) => {
        const m = new KeyMap<number>();
        const model = new Map<string, number>();
        for (const [op, k, v] of ops) {
          const c = canonicalKey(k);
          const probe = Array.isArray(k) ? [...k] : k; // a different array with the same elements
          if (op === 'set') {
            m.set(k, v);
            model.set(c, v);
          } else if (op === 'delete') {
            expect(m.delete(probe)).toBe(model.delete(c));
          }
          expect(m.get(probe)).toBe(model.get(c));
          expect(m.size).toBe(model.size);
        }
        const seen = new Map<string, number>();
        m.forEach((value, k) => seen.set(canonicalKey(k), value));
        expect(seen).toEqual(model);
      }),
      { numRuns: 500 },
    );
  });

  it('frees what it no longer holds (array tries are pruned)', () => {
    const m = new KeyMap<number>();
    for (let n = 0; n < 100; n++) m.set(['a', n, [true, false][n % 2] as boolean], n);
    for (let n = 0; n < 100; n++) m.delete(['a', n, [true, false][n % 2] as boolean]);
    expect(m.size).toBe(0);
    let visited = 0;
    m.forEach(() => visited++);
    expect(visited).toBe(0);
  });
});

describe('hashKey', () => {
  it('hashes keys equal by value alike, and is stable', () => {
    fc.assert(fc.property(key, (k) => {
      const copy = Array.isArray(k) ? [...k] : k;
      expect(hashKey(copy)).toBe(hashKey(k));
      expect(hashKey(k) >>> 0).toBe(hashKey(k));
    }));
    expect(hashKey(0)).toBe(hashKey(-0));
    expect(hashKey('1')).not.toBe(hashKey(1));
    expect(hashKey(['a', 'b'])).not.toBe(hashKey(['ab']));
    // pinned values: a change re-partitions keys (event logs, approxDistinct sketches in checkpoints)
    expect([hashKey('user-1'), hashKey(42), hashKey(['u', 7])]).toMatchInlineSnapshot(`
      [
        1121786550,
        1979763424,
        514888463,
      ]
    `);
  });

  it('hashes a string as murmur3_x86_32 of its UTF-16LE bytes (seeded with the state after the type word 1)', () => {
    // A byte-level murmur3_x86_32, written from the algorithm's description: the reference model.
    const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
    const scramble = (k: number): number => Math.imul(rotl(Math.imul(k, 0xcc9e2d51), 15), 0x1b873593);
    const block = (h: number, k: number): number => (Math.imul(rotl(h ^ scramble(k), 13), 5) + 0xe6546b64) | 0;
    const murmur3 = (bytes: Uint8Array, seed: number): number => {
      let h = seed;
      const whole = bytes.length & ~3;
      for (let i = 0; i < whole; i += 4) h = block(h, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
      let tail = 0;
      for (let i = bytes.length - 1; i >= whole; i--) tail = (tail << 8) | bytes[i]!;
      if (bytes.length > whole) h ^= scramble(tail);
      h ^= bytes.length;
      h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
      h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
      return (h ^ (h >>> 16)) >>> 0;
    };
    const utf16le = (s: string): Uint8Array => {
      const b = new Uint8Array(s.length * 2);
      for (let i = 0; i < s.length; i++) {
        b[2 * i] = s.charCodeAt(i) & 0xff;
        b[2 * i + 1] = s.charCodeAt(i) >>> 8;
      }
      return b;
    };
    const seed = block(0x9747b28c, 1);
    fc.assert(fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), (s) => {
      expect(hashKey(s)).toBe(murmur3(utf16le(s), seed));
    }));
    expect(hashKey('')).toBe(murmur3(new Uint8Array(0), seed));
  });

  it('spreads keys over partitions', () => {
    const buckets = new Array<number>(16).fill(0);
    for (let n = 0; n < 16_000; n++) buckets[hashKey(`user-${n}`) % 16]! += 1;
    for (const b of buckets) expect(b).toBeGreaterThan(800);
    // and key groups (the low bits) over workers, for keys of every kind
    const groups = new Array<number>(128).fill(0);
    for (let n = 0; n < 12_800; n++) groups[hashKey(n % 3 === 0 ? n : n % 3 === 1 ? `k${n}` : ['u', n]) & 127]! += 1;
    for (const g of groups) expect(g).toBeGreaterThan(60);
  });
});

describe('keyProblem', () => {
  it('names what is wrong with a key', () => {
    expect(keyProblem(['u', 1, 2n, true])).toBeUndefined();
    expect(keyProblem({ id: 1 })).toMatch(/key must be a string, number, bigint, boolean or an array of those; got object/);
    expect(keyProblem(undefined)).toMatch(/got undefined/);
    expect(keyProblem(['u', null])).toMatch(/key element 1/);
  });
});
