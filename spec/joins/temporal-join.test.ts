/**
 * The temporal (as-of) join: golden cases (Flink's versioned-rates example), waiting for the
 * table's watermark with the output watermark held, late records of both sides, the grace with an
 * idle table input, state purging, and property tests against a reference (reorder invariance,
 * batch-size independence).
 */
import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  ManualClock, Pipeline, type Source, type SourceChunk, type Stream, boundedOutOfOrderness, collect, fromArray, fromAsyncIterable,
} from 'tidemark';
import { canonical } from 'tidemark/testing';
import { type Ev, type SideEv, arrival, disorder, expectContract, runSplit, runSteps, sideEvents, sorted } from './helpers.js';
import { type JoinLateRecord, type JoinPair, joinHarness } from './setup.js';

interface Rate { cur: string; rate: number; ts: number }
interface Order { id: string; cur: string; ts: number }

const H = 3_600_000;
const M = 60_000;
const at = (h: number, m: number) => h * H + m * M;

function ratesJoin(grace = 0) {
  return (orders: Stream<Order>, rates: Stream<Rate>) =>
    orders.keyBy((o) => o.cur).temporalJoin(rates.keyBy((r) => r.cur), { grace, name: 'join' });
}

const render = (x: { value: JoinPair<Order, Rate | undefined>; timestamp: number }) => `${x.value.left.id}:${x.value.right?.rate ?? '-'}@${x.timestamp}`;

describe('temporal join: golden cases', () => {
  // Source: Apache Flink documentation, "Temporal Tables" (the RatesHistory versioned table:
  // 09:00 US Dollar 102, Euro 114, Yen 1; 10:45 Euro 116; 11:15 Euro 119; 11:49 Pounds 108, where
  // the rate of Euro as of 10:58 is 116). Orders are ours; each joins the version valid at its time.
  const rates: Rate[] = [
    { cur: 'USD', rate: 102, ts: at(9, 0) },
    { cur: 'EUR', rate: 114, ts: at(9, 0) },
    { cur: 'YEN', rate: 1, ts: at(9, 0) },
    { cur: 'EUR', rate: 116, ts: at(10, 45) },
    { cur: 'EUR', rate: 119, ts: at(11, 15) },
    { cur: 'GBP', rate: 108, ts: at(11, 49) },
  ];
  const orders: Order[] = [
    { id: 'o1', cur: 'EUR', ts: at(10, 15) },
    { id: 'o2', cur: 'EUR', ts: at(10, 58) },
    { id: 'o3', cur: 'GBP', ts: at(11, 0) },
    { id: 'o4', cur: 'EUR', ts: at(11, 30) },
    { id: 'o5', cur: 'GBP', ts: at(12, 0) },
    { id: 'o6', cur: 'EUR', ts: at(11, 15) }, // exactly at a version: that version
  ];
  const expected = [
    `o1:114@${at(10, 15)}`, `o2:116@${at(10, 58)}`, `o3:-@${at(11, 0)}`, `o6:119@${at(11, 15)}`, `o4:119@${at(11, 30)}`, `o5:108@${at(12, 0)}`,
  ];

  it('each order joins the rate valid at its time (rates in order)', () => {
    const h = joinHarness(ratesJoin());
    for (const r of rates) h.addRight(r, r.ts);
    for (const o of orders) h.addLeft(o, o.ts);
    h.finish();
    expect(h.takeOutputWithTimestamps().map(render)).toEqual(expected);
  });

  it('orders first, rates afterwards and out of order: same result, emitted as the table watermark passes', () => {
    const h = joinHarness(ratesJoin());
    for (const o of orders) h.addLeft(o, o.ts);
    for (const r of [...rates].reverse()) h.addRight(r, r.ts);
    h.advanceLeftWatermarkTo(at(13, 0));
    expect(h.takeOutput()).toEqual([]); // the table has promised nothing yet
    h.advanceRightWatermarkTo(at(11, 0));
    expect(h.takeOutputWithTimestamps().map(render)).toEqual(expected.slice(0, 3));
    h.advanceRightWatermarkTo(at(13, 0));
    expect(h.takeOutputWithTimestamps().map(render)).toEqual(expected.slice(3));
    expect(h.summary().operators['join']).toMatchObject({ accepted: 12, tooLate: 0, joined: 5, unjoined: 1, buffered: 0 });
  });

  it('holds the output watermark while records wait', () => {
    const h = joinHarness(ratesJoin());
    h.addLeft({ id: 'o', cur: 'EUR', ts: 100 }, 100);
    h.advanceWatermarkTo(50);
    expect(h.summary().operators['join']?.watermark).toBe(50);
    h.advanceLeftWatermarkTo(200);
    h.advanceRightWatermarkTo(99);
    expect(h.summary().operators['join']?.watermark).toBe(99);
    expect(h.takeOutput()).toEqual([]);
    h.advanceRightWatermarkTo(150);
    expect(h.takeOutputWithTimestamps().map(render)).toEqual(['o:-@100']);
    expect(h.summary().operators['join']?.watermark).toBe(150);
  });

  it('a record whose time the table watermark has already passed is joined at once', () => {
    const h = joinHarness(ratesJoin());
    h.addRight({ cur: 'EUR', rate: 7, ts: 40 }, 40);
    h.advanceRightWatermarkTo(100); // the stream's watermark is still −∞
    h.addLeft({ id: 'o', cur: 'EUR', ts: 50 }, 50);
    expect(h.takeOutputWithTimestamps().map(render)).toEqual(['o:7@50']);
  });

  it('equal version timestamps: the later arrival wins', () => {
    const h = joinHarness(ratesJoin());
    h.addRight({ cur: 'EUR', rate: 1, ts: 10 }, 10);
    h.addRight({ cur: 'EUR', rate: 2, ts: 10 }, 10);
    h.addLeft({ id: 'o', cur: 'EUR', ts: 10 }, 10);
    h.finish();
    expect(h.takeOutputWithTimestamps().map(render)).toEqual(['o:2@10']);
  });
});

describe('temporal join: late records and state', () => {
  it('routes a late order (behind the join watermark) and a late rate (behind the table watermark) with their sides', () => {
    const h = joinHarness(ratesJoin());
    h.addRight({ cur: 'EUR', rate: 1, ts: 10 }, 10);
    h.advanceWatermarkTo(20);
    h.addLeft({ id: 'late', cur: 'EUR', ts: 20 }, 20);
    h.addRight({ cur: 'EUR', rate: 9, ts: 15 }, 15);
    h.addLeft({ id: 'ok', cur: 'EUR', ts: 21 }, 21);
    h.finish();
    expect(h.takeOutputWithTimestamps().map(render)).toEqual(['ok:1@21']);
    expect(h.takeLate<JoinLateRecord<Order, Rate, string>>().map((l) => [l.side, l.timestamp, l.key])).toEqual([['left', 20, 'EUR'], ['right', 15, 'EUR']]);
    const op = h.summary().operators['join'] as Record<string, number>;
    expect(op['in']).toBe((op['accepted'] as number) + (op['tooLate'] as number) + (op['deadLettered'] as number));
    expect(op).toMatchObject({ tooLate: 2, buffered: 0, versions: 0, keys: 0 });
  });

  it('keeps only the versions a waiting or future record can still ask for', () => {
    const h = joinHarness(ratesJoin());
    for (const t of [10, 20, 30, 40]) h.addRight({ cur: 'EUR', rate: t, ts: t }, t);
    const versions = () => (h.summary().operators['join'] as Record<string, number>)['versions'];
    expect(versions()).toBe(4);
    h.advanceWatermarkTo(25); // future orders are > 25: the version at 20 still serves them
    expect(versions()).toBe(3);
    h.addLeft({ id: 'o', cur: 'EUR', ts: 26 }, 26);
    h.advanceRightWatermarkTo(45);
    h.advanceLeftWatermarkTo(45);
    expect(h.takeOutputWithTimestamps().map(render)).toEqual(['o:20@26']);
    expect(versions()).toBe(1);
  });
});

describe('temporal join: grace with an idle table input', () => {
  it('an idle table is left out of the watermark; records wait for it until W passes t + grace', async () => {
    const clock = new ManualClock(0);
    const p = new Pipeline({ clock, batchSize: 1 });
    let release: () => void = () => undefined;
    const tableDone = new Promise<void>((r) => { release = r; });
    async function* rateFeed(): AsyncGenerator<Rate> {
      yield { cur: 'EUR', rate: 1, ts: 10 };
      await tableDone; // then quiet: the source goes idle after 1 s of processing time
    }
    let rateSeen: () => void = () => undefined;
    const seen = new Promise<void>((res) => { rateSeen = res; });
    // The orders, scripted: wait until the rate went through, then let 5 s of processing time
    // pass (the rate source goes idle after 1 s), then move on.
    const script: (SourceChunk<Order> | Promise<void>)[] = [
      { kind: 'records', values: [{ id: 'o1', cur: 'EUR', ts: 20 }], timestamps: [20] },
      seen,
      { kind: 'processing-time', advanceBy: 5_000 },
      { kind: 'watermark', time: 1_000 },
      { kind: 'records', values: [{ id: 'o2', cur: 'EUR', ts: 1_500 }], timestamps: [1_500] },
      { kind: 'watermark', time: 2_000 },
    ];
    const orders: Source<Order> = {
      kind: 'script',
      providesTimestamps: true,
      providesWatermarks: true,
      open() {
        let i = 0;
        return {
          next: async (): Promise<SourceChunk<Order> | null> => {
            for (;;) {
              const step = script[i++];
              if (step === undefined) return null;
              if (step instanceof Promise) await step;
              else return step;
            }
          },
        };
      },
    };
    const fallback = setTimeout(() => release(), 5_000);
    const out: JoinPair<Order, Rate | undefined>[] = [];
    const log: string[] = [];
    const o = p.source(orders, { name: 'orders' });
    const r = p.source(fromAsyncIterable(rateFeed()), { timestamp: (x) => x.ts, watermark: boundedOutOfOrderness(0, { idleTimeout: 1_000 }), name: 'rates' });
    o.sink({ kind: 'log', write: (vs) => { for (const v of vs) log.push(`in:${v.id}`); } });
    r.sink({ kind: 'seen', write: () => rateSeen() });
    o.keyBy((x) => x.cur).temporalJoin(r.keyBy((x) => x.cur), { grace: 600, name: 'join' })
      .sink(collect(out))
      .sink({ kind: 'log', write: (vs) => { for (const v of vs) log.push(`out:${v.left.id}:${v.right?.rate ?? '-'}`); if (out.length === 2) release(); } });
    const summary = await p.run();
    clearTimeout(fallback);
    // o1 (20) waited for the idle table until W = 1000 ≥ 20 + 600 and joined the rate known then;
    // o2 (1500) waited for W ≥ 2100, which came only with the end of the orders.
    expect(log).toEqual(['in:o1', 'out:o1:1', 'in:o2', 'out:o2:1']);
    expect(summary.operators['join']).toMatchObject({ buffered: 0, tooLate: 0 });
  });
});

describe('temporal join: validation and types', () => {
  it('rejects bad options, naming the factory; types the right side as optional', () => {
    const s = new Pipeline().source(fromArray<Ev>([]), { timestamp: (e) => e.ts });
    const l = s.keyBy((e) => e.k);
    const r = s.map((e) => e.ts).keyBy((t) => String(t));
    expect(() => l.temporalJoin(r, { grace: -1 })).toThrow(/tidemark\.temporalJoin: grace must be ≥ 0/);
    expect(() => l.temporalJoin(r, null as never)).toThrow(/tidemark\.temporalJoin: options must be an object/);
    expect(() => l.temporalJoin(s as never)).toThrow(/keyed stream/);
    expectTypeOf(l.temporalJoin(r, { grace: 'PT1M' })).toMatchTypeOf<Stream<JoinPair<Ev, number | undefined>>>();
  });
});

/** Reference: each left record with the right record of its key with the largest ts ≤ its own. */
function reference(lefts: readonly Ev[], rights: readonly Ev[]): string[] {
  return lefts.map((a) => {
    let best: Ev | undefined;
    for (const b of rights) if (b.k === a.k && b.ts <= a.ts && (best === undefined || b.ts > best.ts)) best = b;
    return `${a.ts}:${canonical({ left: a, right: best })}`;
  }).sort();
}

/** Table records with distinct timestamps per key (equal timestamps resolve by arrival). */
function distinctPerKey(rights: readonly Ev[]): Ev[] {
  const seen = new Set<string>();
  return rights.filter((r) => !seen.has(`${r.k}|${r.ts}`) && seen.add(`${r.k}|${r.ts}`) !== undefined);
}

describe('temporal join: properties', () => {
  const build = (l: Stream<Ev>, r: Stream<Ev>) => l.keyBy((e) => e.k).temporalJoin(r.keyBy((e) => e.k), { name: 'join' });

  it('equals the reference for any arrival order within the disorder bound (no state left)', () => {
    fc.assert(
      fc.property(
        fc.record({
          lefts: fc.array(fc.record({ k: fc.constantFrom('a', 'b'), ts: fc.integer({ min: 0, max: 60 }) }), { maxLength: 14 }),
          rights: fc.array(fc.record({ k: fc.constantFrom('a', 'b'), ts: fc.integer({ min: 0, max: 60 }) }), { maxLength: 14 }),
        }),
        disorder,
        ({ lefts: ls, rights: rs }, { delays, marks }) => {
          const lefts = ls.map((x, i) => ({ id: `L${i}`, ...x }));
          const rights = distinctPerKey(rs.map((x, i) => ({ id: `R${i}`, ...x })));
          const res = runSteps(build, arrival(lefts, rights, delays, marks, 20));
          expect(sorted(res.out)).toEqual(reference(lefts, rights));
          expect(res.summary.operators['join']).toMatchObject({ buffered: 0, versions: 0, keys: 0, tooLate: 0 });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('output (in order), late records and counters do not depend on batch size; nothing trails the watermark', async () => {
    const split = (l: Stream<SideEv>, r: Stream<SideEv>) => l.keyBy((e) => e.k).temporalJoin(r.keyBy((e) => e.k), { name: 'join' });
    await fc.assert(
      fc.asyncProperty(sideEvents, fc.integer({ min: 0, max: 12 }), fc.integer({ min: 2, max: 7 }), async (evs, bound, mid) => {
        const runs = await Promise.all([1, mid, 1024].map((b) => runSplit(split, evs, b, bound)));
        const [one, ...others] = runs as [Awaited<ReturnType<typeof runSplit>>, ...Awaited<ReturnType<typeof runSplit>>[]];
        for (const o of others) {
          expect(o.out).toEqual(one.out);
          expect(sorted(o.late)).toEqual(sorted(one.late));
        }
        for (const r of runs) {
          expect(r.behind).toEqual([]);
          expectContract(r);
        }
      }),
      { numRuns: 60 },
    );
  });
});
