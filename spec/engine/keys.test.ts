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
    // pinned values: partitioning must not change between versions
    expect([hashKey('user-1'), hashKey(42), hashKey(['u', 7])]).toMatchInlineSnapshot(`
      [
        1265063896,
        1979763424,
        327999968,
      ]
    `);
  });

  it('spreads keys over partitions', () => {
    const buckets = new Array<number>(16).fill(0);
    for (let n = 0; n < 16_000; n++) buckets[hashKey(`user-${n}`) % 16]! += 1;
    for (const b of buckets) expect(b).toBeGreaterThan(800);
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
