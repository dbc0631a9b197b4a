/**
 * The fair share of partitions (a pure decision per instance and round): golden cases, and a
 * property test that simulates rounds of instances deciding in turn — with joins and departures —
 * against the model: no partition ever has two owners, and once membership is stable the shares
 * converge to floor(P/N)…ceil(P/N) with every partition owned.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fairShare } from 'tidemark';

describe('fairShare', () => {
  it('a lone instance claims every partition', () => {
    expect(fairShare({ partitions: 4, me: 'a', members: ['a'], owners: [undefined, undefined, undefined, undefined] })).toEqual({ claim: [0, 1, 2, 3], release: [] });
  });

  it('an instance above the ceiling releases the excess; the newcomer claims what is free', () => {
    const owners = ['a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'];
    expect(fairShare({ partitions: 8, me: 'a', members: ['a', 'b'], owners })).toEqual({ claim: [], release: [4, 5, 6, 7] });
    expect(fairShare({ partitions: 8, me: 'b', members: ['a', 'b'], owners })).toEqual({ claim: [], release: [] });
    expect(fairShare({ partitions: 8, me: 'b', members: ['a', 'b'], owners: ['a', 'a', 'a', 'a', undefined, undefined, undefined, undefined] }).claim).toHaveLength(4);
  });

  it('at the ceiling, an instance gives one up while another is starved and nothing is free', () => {
    // P=4, N=3: floor 1, ceiling 2; c has none
    expect(fairShare({ partitions: 4, me: 'a', members: ['a', 'b', 'c'], owners: ['a', 'a', 'b', 'b'] })).toEqual({ claim: [], release: [1] });
    // one free partition covers c's deficit: nobody releases
    expect(fairShare({ partitions: 5, me: 'a', members: ['a', 'b', 'c'], owners: ['a', 'a', 'b', 'b', undefined] }).release).toEqual([]);
  });

  it('blocked partitions are not claimed', () => {
    expect(fairShare({ partitions: 2, me: 'a', members: ['a'], owners: [undefined, undefined], blocked: new Set([0]) })).toEqual({ claim: [1], release: [] });
  });

  it('a failing instance is left out: a healthy one takes the partition it keeps failing, above its share', () => {
    // P=2: b holds one; a failed partition 0 and released it (cooling down, its heartbeat says failing)
    const owners = [undefined, 'b'];
    expect(fairShare({ partitions: 2, me: 'b', members: ['a', 'b'], owners })).toEqual({ claim: [], release: [] }); // without the health signal: at its share
    expect(fairShare({ partitions: 2, me: 'b', members: ['a', 'b'], owners, failing: new Set(['a']) })).toEqual({ claim: [0], release: [] });
    // and b does not give partitions back to a failing instance
    expect(fairShare({ partitions: 2, me: 'b', members: ['a', 'b'], owners: ['b', 'b'], failing: new Set(['a']) })).toEqual({ claim: [], release: [] });
  });

  it('instances holding leases count even without a heartbeat', () => {
    // 'x' holds two partitions but its heartbeat is gone: N = 2, not 1
    expect(fairShare({ partitions: 4, me: 'a', members: ['a'], owners: ['x', 'x', undefined, undefined] })).toEqual({ claim: [2, 3], release: [] });
  });

  it('converges to a fair, exclusive assignment (simulated rounds, joins and departures)', () => {
    fc.assert(fc.property(
      fc.constantFrom(1, 2, 4, 8, 16),
      fc.array(fc.record({ join: fc.boolean(), who: fc.integer({ min: 0, max: 5 }) }), { minLength: 1, maxLength: 6 }),
      fc.array(fc.nat(), { minLength: 40, maxLength: 40 }),
      (P, changes, order) => {
        const owners: (string | undefined)[] = Array.from({ length: P }, () => undefined);
        let members = new Set<string>(['m0']);
        let k = 0;
        const round = (): void => {
          const list = [...members].sort();
          // instances act one after another in a shuffled order, each on what it reads now
          const turn = [...list].sort((x, y) => ((order[k++ % order.length] as number) % 3) - 1 || x.localeCompare(y));
          for (const me of turn) {
            const d = fairShare({ partitions: P, me, members: list, owners });
            for (const p of d.release) {
              expect(owners[p]).toBe(me);
              owners[p] = undefined;
            }
            for (const p of d.claim) {
              expect(owners[p]).toBeUndefined(); // claims only free partitions (compare-and-set)
              owners[p] = me;
            }
          }
        };
        for (const c of changes) {
          const id = `m${c.who}`;
          if (c.join) members.add(id);
          else if (members.size > 1) {
            members.delete(id);
            for (let p = 0; p < P; p++) if (owners[p] === id) owners[p] = undefined; // its leases expire
          }
          members = new Set(members);
          for (let r = 0; r < 3; r++) round();
        }
        for (let r = 0; r < 2 * P + 4; r++) round();
        const n = members.size;
        expect(owners.every((o) => o !== undefined && members.has(o))).toBe(true);
        for (const m of members) {
          const c = owners.filter((o) => o === m).length;
          expect(c).toBeGreaterThanOrEqual(Math.floor(P / n));
          expect(c).toBeLessThanOrEqual(Math.ceil(P / n));
        }
      },
    ), { numRuns: 200 });
  });
});
