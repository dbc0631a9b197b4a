/**
 * The stateful-operator contract (spec/contract/stateful-operators.test.ts) applied to keyed
 * process functions: deterministic output independent of batch size (what `onRecord` sees of the
 * watermark included), monotone watermarks, nothing on the main output behind the watermark, no
 * state, timers or buffered records left after end of input, and `in = accepted + tooLate +
 * deadLettered`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DeadLetter, type RunSummary, type Stream, Pipeline, boundedOutOfOrderness, collect, fromArray, monotonic,
} from 'tidemark';
import { canonical } from 'tidemark/testing';
import { listState, mapState, valueState } from 'tidemark';
import { type ProbeLog, newLog, tap } from '../contract/probe.js';

interface Ev {
  id: number;
  k: string;
  v: number;
  ts: number;
}

interface Rule {
  id: number;
  v: number;
  ts: number;
}

const state = { n: valueState<number>({ ttl: 20 }), ids: listState<number>(), m: mapState<number, number>({ ttl: 7 }) };

type Build = (s: Stream<Ev>, rules: Stream<Rule>) => Stream<unknown>;

const operators: Record<string, Build> = {
  'process: value/list/map state, TTL, timers with deletion, records behind the watermark': (s) =>
    s.keyBy((e) => e.k).process<unknown, typeof state>({
      state,
      onRecord(e, ctx) {
        ctx.state.n.set((ctx.state.n.get() ?? 0) + e.v);
        ctx.state.ids.add(e.id);
        ctx.state.m.set(e.v % 3, e.id);
        ctx.emit({ rec: e.id, w: ctx.watermark, n: ctx.state.n.get() });
        ctx.timers.registerEventTime(ctx.timestamp + 5);
        if (e.v === 0) ctx.timers.deleteEventTime(ctx.timestamp + 5);
        if (e.v === 7) ctx.timers.registerEventTime(ctx.timestamp - 3);
      },
      onTimer(t, ctx) {
        ctx.emit({ k: ctx.key, t: t.timestamp, w: ctx.watermark, n: ctx.state.n.get(), ids: [...ctx.state.ids.get()], m: [...ctx.state.m.entries()] });
        if (t.timestamp % 2 === 0) ctx.state.ids.clear();
        if (t.timestamp % 3 === 0) ctx.timers.registerEventTime(t.timestamp + 4);
      },
    }, { name: 'op' }),
  'process: array keys, side outputs': (s) =>
    s.keyBy((e) => [e.k, e.v % 2]).process<unknown, { last: typeof state.n }>({
      state: { last: valueState<number>() },
      onRecord(e, ctx) {
        const prev = ctx.state.last.get();
        ctx.state.last.set(e.ts);
        if (prev !== undefined && e.ts < prev) ctx.output({ name: 'backwards' }, e.id);
        ctx.timers.registerEventTime(Math.max(e.ts, prev ?? e.ts) + 2);
      },
      onTimer(t, ctx) {
        ctx.emit({ k: ctx.key, t: t.timestamp, last: ctx.state.last.get() });
        ctx.state.last.clear();
      },
    }, { name: 'op' }),
  'connect(broadcast).process': (s, rules) =>
    s.keyBy((e) => e.k).connect(rules.broadcast()).process<unknown, { seen: typeof state.ids }, string, number>({
      state: { seen: listState<number>() },
      onBroadcast(r, ctx) {
        ctx.broadcast.set('limit', r.v);
        if (r.v === 0) ctx.broadcast.delete('limit');
        ctx.emit({ rule: r.id });
      },
      onRecord(e, ctx) {
        ctx.state.seen.add(e.id);
        const limit = ctx.broadcast.get('limit');
        ctx.emit({ rec: e.id, limit, over: limit !== undefined && e.v > limit });
        ctx.timers.registerEventTime(ctx.timestamp + 3);
      },
      onTimer(t, ctx) {
        ctx.emit({ k: ctx.key, t: t.timestamp, seen: [...ctx.state.seen.get()], limit: ctx.broadcast.get('limit') });
        ctx.state.seen.clear();
      },
    }, { name: 'op' }),
};

const events = fc.array(
  fc.record({ k: fc.constantFrom('a', 'b', 'c'), v: fc.integer({ min: 0, max: 9 }), ts: fc.integer({ min: 0, max: 80 }), bad: fc.integer({ min: 0, max: 30 }) }),
  { minLength: 1, maxLength: 60 },
).map((xs) => xs.map((x, id) => ({ id, k: x.k, v: x.v, ts: x.bad === 0 ? 0.5 : x.ts })));

const ruleList = fc.array(fc.record({ v: fc.integer({ min: 0, max: 9 }), ts: fc.integer({ min: 0, max: 90 }) }), { maxLength: 6 })
  .map((xs) => xs.sort((a, b) => a.ts - b.ts).map((x, id) => ({ id, ...x })));

interface Run {
  out: string[];
  late: string[];
  side: string[];
  dead: string[];
  summary: RunSummary;
  logs: { before: ProbeLog; after: ProbeLog };
}

async function run(name: string, build: Build, evs: Ev[], rules: Rule[], batchSize: number, bound: number): Promise<Run> {
  const p = new Pipeline({ batchSize, maxFutureSkew: false });
  const out: unknown[] = [];
  const late: unknown[] = [];
  const side: unknown[] = [];
  const dead: DeadLetter[] = [];
  const logs = { before: newLog(), after: newLog() };
  // With a broadcast input, only records behind their own watermark may see a broadcast state
  // that depends on how the two sources interleave (documented): keep the keyed input in order.
  const keyed = name.startsWith('connect') ? evs.filter((e) => Number.isInteger(e.ts)).sort((a, b) => a.ts - b.ts) : evs;
  const src = p.source(fromArray(keyed), { timestamp: (e) => e.ts, watermark: boundedOutOfOrderness(bound), name: 'src' });
  const ruleSrc = p.source(fromArray(rules), { timestamp: (r) => r.ts, watermark: monotonic(), name: 'rules' });
  const result = build(tap(src, logs.before), ruleSrc);
  tap(result, logs.after).sink(collect(out));
  (result as unknown as { late(): Stream<unknown> }).late().sink(collect(late));
  result.sideOutput({ name: 'backwards' }).sink(collect(side));
  p.deadLetters().sink(collect(dead));
  const summary = await p.run();
  return { out: out.map(canonical), late: late.map(canonical), side: side.map(canonical), dead: dead.map(canonical), summary, logs };
}

describe.each(Object.entries(operators))('contract: %s', (name, build) => {
  it('is deterministic and independent of batch size', async () => {
    await fc.assert(
      fc.asyncProperty(events, ruleList, fc.integer({ min: 0, max: 12 }), fc.integer({ min: 2, max: 7 }), async (evs, rules, bound, mid) => {
        const one = await run(name, build, evs, rules, 1, bound);
        const again = await run(name, build, evs, rules, 1, bound);
        const some = await run(name, build, evs, rules, mid, bound);
        const big = await run(name, build, evs, rules, 1024, bound);
        expect(again.out).toEqual(one.out);
        for (const other of [some, big]) {
          expect(other.out).toEqual(one.out);
          expect(other.late).toEqual(one.late);
          expect(other.side).toEqual(one.side);
          expect(other.dead).toEqual(one.dead);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('keeps watermarks monotone, never emits on the main output behind them, and leaves no state', async () => {
    await fc.assert(
      fc.asyncProperty(events, ruleList, fc.integer({ min: 0, max: 12 }), fc.integer({ min: 1, max: 64 }), async (evs, rules, bound, batch) => {
        const r = await run(name, build, evs, rules, batch, bound);
        for (const log of [r.logs.before, r.logs.after]) {
          for (let i = 1; i < log.watermarks.length; i++) expect(log.watermarks[i]).toBeGreaterThan(log.watermarks[i - 1] as number);
          expect(log.watermarks.at(-1)).toBe(Infinity);
        }
        expect(r.logs.after.behind).toEqual([]);
        const op = r.summary.operators['op'] as Record<string, number>;
        expect([op['keys'], op['timers'], op['processingTimers'], op['buffered'] ?? 0, op['broadcastEntries'] ?? 0]).toEqual([0, 0, 0, 0, 0]);
        expect(op['in']).toBe(op['accepted']! + op['tooLate']! + op['deadLettered']!);
      }),
      { numRuns: 40 },
    );
  });
});
