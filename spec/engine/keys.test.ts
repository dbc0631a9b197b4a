/**
 * Keys compare by value: interning agrees with a canonical-string map under any sequence of
 * interns and releases; equal keys hash alike; invalid keys are named.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Key, KeyInterner, hashKey, keyProblem } from 'tidemark';
import { canonicalKey } from 'tidemark/testing';

const prim = fc.oneof(fc.constantFrom('a', 'b', '1', ''), fc.constantFrom(0, 1, -0, 2.5, NaN), fc.constantFrom(1n, 0n), fc.boolean());
const key: fc.Arbitrary<Key> = fc.oneof(prim, fc.array(prim, { maxLength: 3 }));

describe('KeyInterner', () => {
  it('agrees with a by-value model under interns and releases', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), key), { maxLength: 80 }), (ops) => {
        const interner = new KeyInterner();
        const model = new Map<string, number>();
        for (const [release, k] of ops) {
          const c = canonicalKey(k);
          if (release && model.has(c)) {
            interner.release(model.get(c) as number);
            model.delete(c);
            expect(interner.lookup(k)).toBe(-1);
            continue;
          }
          const id = interner.intern(k);
          if (model.has(c)) expect(id).toBe(model.get(c));
          else expect([...model.values()]).not.toContain(id);
          model.set(c, id);
          expect(canonicalKey(interner.keyOf(id))).toBe(c);
        }
        expect(interner.size).toBe(model.size);
      }),
      { numRuns: 500 },
    );
  });

  it('reuses released ids, so memory follows live keys', () => {
    const i = new KeyInterner();
    for (let n = 0; n < 1000; n++) i.release(i.intern(`k${n}`));
    expect(i.capacity).toBe(1);
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
