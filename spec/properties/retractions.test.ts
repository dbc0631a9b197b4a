/**
 * Retracting streams compose: a downstream aggregate that applies retractions ends with the same
 * totals as the final accumulating results — whatever the arrival order, lateness and early
 * firings. And an aggregate without `retract` cannot be built over a retracting stream.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LateRecord, type Stream, type WindowResult, count, globalWindow, session, sliding, sum, tumbling } from 'tidemark';
import { harness } from 'tidemark/testing';

interface Ev {
  k: number;
  v: number;
}

const scenario = fc.record({
  recs: fc.array(fc.record({ k: fc.integer({ min: 0, max: 2 }), v: fc.integer({ min: 1, max: 9 }), t: fc.integer({ min: 0, max: 80 }) }), { minLength: 1, maxLength: 40 }),
  delays: fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 40 }),
  bound: fc.integer({ min: 0, max: 10 }),
  L: fc.integer({ min: 0, max: 20 }),
  early: fc.integer({ min: 0, max: 3 }),
  kind: fc.constantFrom('tumbling', 'sliding', 'session'),
});

describe('retracting windows', () => {
  it('the sum of a retracting stream equals the sum of the accepted records, per key', () => {
    fc.assert(
      fc.property(scenario, ({ recs, delays, bound, L, early, kind }) => {
        const assigner = kind === 'tumbling' ? tumbling(10) : kind === 'sliding' ? sliding(10, 10) : session(7);
        const late: LateRecord<Ev, number>[] = [];
        const totals: WindowResult<number, number>[] = [];
        const h = harness((input: Stream<Ev>) => {
          const panes = input.keyBy((e) => e.k).window(assigner, {
            allowedLateness: L,
            accumulation: 'retracting',
            ...(early > 0 ? { trigger: { early: { everyRecords: early } } } : {}),
          }).aggregate(sum((e) => e.v), { name: 'panes' });
          return panes.keyBy((r) => r.key).window(globalWindow()).aggregate(sum((r) => r.value));
        });
        const arrival = recs.map((r, i) => ({ ...r, at: r.t + (delays[i % delays.length] as number) })).sort((a, b) => a.at - b.at);
        let max = -Infinity;
        for (const r of arrival) {
          h.addElement({ k: r.k, v: r.v }, r.t);
          max = Math.max(max, r.t);
          h.advanceWatermarkTo(max - bound - 1);
        }
        h.finish();
        totals.push(...h.takeOutput());
        late.push(...h.takeLate<LateRecord<Ev, number>>());
        // expected: every record's value, minus records too late for every window
        const expected = new Map<number, number>();
        for (const r of recs) expected.set(r.k, (expected.get(r.k) ?? 0) + r.v);
        const tooLate = new Set(late.filter((l) => l.missedWindows.length > 0).map((l) => l.value));
        for (const l of tooLate) expected.set(l.k, (expected.get(l.k) ?? 0) - l.v);
        for (const [k, v] of [...expected]) if (v === 0) expected.delete(k);
        const got = new Map(totals.filter((t) => t.value !== 0).map((t) => [t.key, t.value]));
        expect(got).toEqual(expected);
      }),
      { numRuns: 400 },
    );
  });

  it('an aggregate without retract cannot consume a retracting stream', () => {
    expect(() => harness((input: Stream<Ev>) => input.keyBy((e) => e.k).window(tumbling(10), { accumulation: 'retracting' }).aggregate(count())
      .keyBy((r) => r.key).window(tumbling(100)).aggregate({ create: () => 0, add: (a: number) => a + 1, merge: (a: number, b: number) => a + b, result: (a: number) => a })))
      .toThrow(/needs a retract\(acc, value\) function/);
  });
});
