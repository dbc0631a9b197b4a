/**
 * The stateful operators every checkpoint contract applies to, and what drives them: a seeded
 * random, disordered input (late records, watermarks and processing-time steps) for the harness,
 * the msgpack round trip the runtime applies to state, and what each case needs to run on several
 * workers (spec/keygroups): which key a record goes by, and which outputs every worker emits.
 */
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import {
  type Key, type OperatorFactory, type ProcessFunction, type Stream, Pipeline, approxDistinct, calendar, count, fromArray, globalWindow, listState, mapState, max, mean, min, outputTag, quantiles,
  reduce, session, sliding, sum, toList, topK, tumbling, valueState,
} from 'tidemark';
import { type Harness, canonical, harness } from 'tidemark/testing';

export interface Ev {
  id: number;
  k: string | number | bigint | boolean | (string | number)[];
  v: number;
  /** Which input of a two-input operator the record goes to: L(eft), R(ight) or B(roadcast). */
  side: 'L' | 'R' | 'B';
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous operator outputs
export type Build = (s: Stream<Ev>) => Stream<any>;

export interface Case {
  readonly build: Build;
  /** Timestamps and watermarks are multiplied by this (calendar windows want hours, not ms). */
  readonly scale?: number;
  /** On several workers: the key a record is routed by (`undefined`: every worker, a broadcast input); default `e.k`. */
  readonly route?: (e: Ev) => Key | undefined;
  /** On several workers: the routing key of an operator's state key (when the pipeline re-keys); default the key itself. */
  readonly stateKey?: (k: Key) => Key;
  /**
   * On several workers: outputs that the broadcast input causes. A parallel run forwards them from
   * worker 0 only (`OperatorContext.worker`); harness workers all think they are worker 0, so the
   * key-group tests check that they all emit the same and count it once.
   */
  readonly everyWorker?: (value: unknown) => boolean;
  /** Operators whose state is not organised by key (`'not-keyed'`: they run on a single worker). */
  readonly singleWorker?: readonly string[];
  /**
   * A shared sequence counter (merged by `'max'`) orders a key's own tied items, so a wrong merge
   * rule changes that key's results and the key-group tests must catch it. (Elsewhere counters
   * only order items of different keys, which no worker split keeps anyway.)
   */
  readonly countersOrderKeys?: true;
}

const packr = new Packr({ useRecords: false, moreTypes: true, int64AsType: 'bigint' });
export const roundTrip = (x: unknown): Record<string, unknown> => packr.unpack(packr.pack(x)) as Record<string, unknown>;

const side = outputTag<{ k: unknown; v: number }>('side');
export const keyOf = (e: Ev): Ev['k'] => e.k;
export const lefts = (s: Stream<Ev>) => s.filter((e) => e.side !== 'R').keyBy(keyOf);
export const rights = (s: Stream<Ev>) => s.filter((e) => e.side === 'R').keyBy(keyOf);

const processState = { n: valueState<number>(), seen: listState<number>({ ttl: 25 }), byV: mapState<number, number>() };

/** A process function using every kind of state, TTL, both timer domains and a side output. */
export const processFn: ProcessFunction<Ev['k'], Ev, typeof processState, unknown> = {
  state: processState,
  onRecord(e, ctx) {
    const n = (ctx.state.n.get() ?? 0) + 1;
    ctx.state.n.set(n);
    ctx.state.seen.add(e.v);
    ctx.state.byV.set(e.v % 3, (ctx.state.byV.get(e.v % 3) ?? 0) + 1);
    ctx.timers.registerEventTime(ctx.timestamp + 5 + (e.v % 4));
    if (e.v % 3 === 0) ctx.timers.registerProcessingTime(ctx.processingTime + 3 + (e.v % 5));
    if (e.v % 4 === 1) ctx.output(side, { k: ctx.key, v: e.v });
    if (e.v % 5 === 2) ctx.timers.deleteEventTime(ctx.timestamp + 5 + ((e.v + 1) % 4));
    ctx.emit({ k: ctx.key, n, id: e.id });
  },
  onTimer(t, ctx) {
    ctx.emit({ k: ctx.key, timer: t.timestamp, domain: t.domain, n: ctx.state.n.get(), seen: ctx.state.seen.size, byV: ctx.state.byV.size });
    if (t.domain === 'event-time' && t.timestamp % 3 === 0) ctx.state.n.set((ctx.state.n.get() ?? 0) + 100);
    if (t.timestamp % 7 === 0) ctx.state.seen.clear();
    // self-renewing: an even event-time timer sets the next one (ends at the key's end-of-input horizon)
    if (t.domain === 'event-time' && t.timestamp % 2 === 0) ctx.timers.registerEventTime(t.timestamp + 10);
    // an emission behind the timer (late when behind the key's watermark)
    if (t.timestamp % 5 === 0) ctx.emit({ k: ctx.key, behind: t.timestamp }, t.timestamp - 3);
  },
};

const withSide = (s: Stream<unknown>): Stream<unknown> => s.union(s.sideOutput(side).map((x): unknown => ({ side: x })));

export const cases: Record<string, Case> = {
  // ---- windows: shared panes -------------------------------------------------------------
  'tumbling sum (aligned panes, lateness)': { build: (s) => lefts(s).window(tumbling(10), { allowedLateness: 5 }).aggregate(sum((e) => e.v), { name: 'op' }) },
  'sliding count (slide does not divide size)': { build: (s) => lefts(s).window(sliding(10, 4, { offset: 1 }), { allowedLateness: 3 }).aggregate(count(), { name: 'op' }) },
  'tumbling mean, discarding late panes': { build: (s) => lefts(s).window(tumbling(7), { allowedLateness: 6, accumulation: 'discarding' }).aggregate(mean((e) => e.v), { name: 'op' }) },
  'global window count': { route: (e) => [String(e.k), e.v % 2], build: (s) => s.keyBy((e) => [String(e.k), e.v % 2]).window(globalWindow()).aggregate(count(), { name: 'op' }) },
  'window process': { build: (s) => lefts(s).window(tumbling(8), { allowedLateness: 4 }).process((k, w, recs) => [{ k, w, ids: recs.map((r) => r.id) }], { name: 'op' }) },
  // ---- windows: per-window triggers ------------------------------------------------------
  'tumbling, early every 2 records, retracting': { build: (s) => lefts(s).window(tumbling(10), { allowedLateness: 5, accumulation: 'retracting', trigger: { early: { everyRecords: 2 } } }).aggregate(sum((e) => e.v), { name: 'op' }) },
  'sliding, continuous event-time early, discarding, late every 2': { countersOrderKeys: true, build: (s) => lefts(s).window(sliding(12, 5), { allowedLateness: 4, accumulation: 'discarding', trigger: { early: { everyEventTime: 3 }, late: { everyRecords: 2 } } }).aggregate(count(), { name: 'op' }) },
  'tumbling, processing-time early and late, closing always': { build: (s) => lefts(s).window(tumbling(10), { allowedLateness: 6, closing: 'always', trigger: { early: { afterProcessingTime: 5 }, late: { afterProcessingTime: 3 }, onTime: 'if-non-empty' } }).aggregate(toList(), { name: 'op' }) },
  'count windows (global, early every 3, discarding)': { build: (s) => lefts(s).window(globalWindow(), { accumulation: 'discarding', trigger: { early: { everyRecords: 3 } } }).aggregate(sum((e) => e.v), { name: 'op' }) },
  'calendar days (Europe/Berlin)': { scale: 3_600_000, build: (s) => lefts(s).window(calendar('day', { timeZone: 'Europe/Berlin' }), { allowedLateness: 7_200_000 }).aggregate(count(), { name: 'op' }) },
  'retracting input (window over a retracting window)': {
    route: (e) => String(e.k),
    stateKey: (k) => String(k),
    build: (s) => lefts(s).window(tumbling(5), { allowedLateness: 4, accumulation: 'retracting', trigger: { early: { everyRecords: 2 } } }).aggregate(sum((e) => e.v))
      .keyBy((r) => String(r.key)).window(tumbling(20), { allowedLateness: 4 }).aggregate(sum((r) => r.value), { name: 'op' }),
  },
  // ---- windows: sessions ------------------------------------------------------------------
  'session toList': { build: (s) => lefts(s).window(session(6), { allowedLateness: 4 }).aggregate(toList(), { name: 'op' }) },
  'session, discarding': { build: (s) => lefts(s).window(session(6), { allowedLateness: 4, accumulation: 'discarding' }).aggregate(count(), { name: 'op' }) },
  'dynamic-gap session': { build: (s) => lefts(s).window(session<Ev>((e) => (e.v === 9 ? 0 : 2 + (e.v % 5)))).aggregate(count(), { name: 'op' }) },
  'session, retracting, early every 3, closing always': { build: (s) => lefts(s).window(session(6), { allowedLateness: 4, accumulation: 'retracting', closing: 'always', trigger: { early: { everyRecords: 3 } } }).aggregate(sum((e) => e.v), { name: 'op' }) },
  'session, processing-time early, late every 2': { build: (s) => lefts(s).window(session(5), { allowedLateness: 5, trigger: { early: { afterProcessingTime: 4 }, late: { everyRecords: 2 } } }).aggregate(max((e) => e.v), { name: 'op' }) },
  // ---- aggregates --------------------------------------------------------------------------
  'sliding approxDistinct': { build: (s) => lefts(s).window(sliding(12, 4), { allowedLateness: 3 }).aggregate(approxDistinct((e) => e.v % 7, { precision: 6 }), { name: 'op' }) },
  'sliding approxDistinct (sparse)': { build: (s) => lefts(s).window(sliding(12, 4)).aggregate(approxDistinct((e) => e.v), { name: 'op' }) },
  'tumbling quantiles': { build: (s) => lefts(s).window(tumbling(10), { allowedLateness: 3 }).aggregate(quantiles((e) => e.v - 4), { name: 'op' }) },
  'session topK': { build: (s) => lefts(s).window(session(5), { allowedLateness: 3 }).aggregate(topK((e) => e.v % 4, 2, { capacity: 2 }), { name: 'op' }) },
  'tumbling reduce, retracting, early every 2': { build: (s) => lefts(s).window(tumbling(9), { accumulation: 'retracting', trigger: { early: { everyRecords: 2 } } }).aggregate(reduce((a: Ev, b: Ev) => (b.v > a.v ? b : a)), { name: 'op' }) },
  'session reduce, discarding (empty accumulators)': { build: (s) => lefts(s).window(session(6), { allowedLateness: 4, accumulation: 'discarding', trigger: { early: { everyRecords: 2 } } }).aggregate(reduce((a: Ev, b: Ev) => (b.v > a.v ? b : a)), { name: 'op' }) },
  'sliding min': { build: (s) => lefts(s).window(sliding(9, 3)).aggregate(min((e) => e.v), { name: 'op' }) },
  // ---- other keyed operators -----------------------------------------------------------------
  sortByEventTime: { singleWorker: ['op'], build: (s) => lefts(s).sortByEventTime({ name: 'op' }) },
  'sortByEventTime + scan': { singleWorker: ['sort'], build: (s) => lefts(s).sortByEventTime({ name: 'sort' }).scan((acc, e) => acc + e.v, 0, { name: 'op' }) },
  'process (state, TTL, timers, side output)': { build: (s) => withSide(lefts(s).process(processFn, { name: 'op' })) },
  'broadcast process': {
    countersOrderKeys: true,
    route: (e) => (e.side === 'B' ? undefined : e.k),
    everyWorker: (v) => v !== null && typeof v === 'object' && 'rule' in v && !('id' in v),
    build: (s) => withSide(s.filter((e) => e.side !== 'B').keyBy(keyOf).connect(s.filter((e) => e.side === 'B').broadcast()).process<unknown, { n: ReturnType<typeof valueState<number>> }, number, number>({
      state: { n: valueState<number>() },
      onBroadcast(e: Ev, ctx) {
        if (e.v % 3 === 0) ctx.broadcast.delete(e.v % 2);
        else ctx.broadcast.set(e.v % 2, e.v);
        ctx.emit({ rule: e.id });
      },
      onRecord(e: Ev, ctx) {
        ctx.state.n.set((ctx.state.n.get() ?? 0) + 1);
        ctx.timers.registerEventTime(ctx.timestamp + 4);
        if (e.v % 4 === 1) ctx.output(side, { k: ctx.key, v: e.v });
        ctx.emit({ id: e.id, rule: ctx.broadcast.get(e.v % 2), n: ctx.state.n.get() });
      },
      onTimer(t, ctx) {
        ctx.emit({ k: ctx.key, timer: t.timestamp, rules: [...ctx.broadcast.entries()] });
        if (t.timestamp % 3 === 0) ctx.timers.registerEventTime(t.timestamp + 7);
        if (t.timestamp % 4 === 0) ctx.emit({ k: ctx.key, behind: t.timestamp }, t.timestamp - 2);
      },
    }, { name: 'op' })),
  },
  // ---- joins ----------------------------------------------------------------------------------
  'window join pairs, full, lateness': { build: (s) => lefts(s).windowJoin(rights(s), tumbling(10), { allowedLateness: 5, type: 'full' }).pairs({ name: 'op' }) },
  'window join apply, left, sliding': { build: (s) => lefts(s).windowJoin(rights(s), sliding(10, 5), { allowedLateness: 3, type: 'left' }).apply((k, w, l, r) => [{ k, w, l: l.map((x) => x.id), r: r.map((x) => x.id) }], { name: 'op' }) },
  'window join apply, right, global': { build: (s) => lefts(s).windowJoin(rights(s), globalWindow(), { type: 'right' }).apply((k, _w, l, r) => [{ k, l: l.length, r: r.length }], { name: 'op' }) },
  'session join pairs, full': { build: (s) => lefts(s).windowJoin(rights(s), session(5), { type: 'full' }).pairs({ name: 'op' }) },
  'interval join, inner': { build: (s) => lefts(s).intervalJoin(rights(s), { lower: -4, upper: 6, name: 'op' }).map((p) => [p.left.id, p.right.id]) },
  'interval join, full': { countersOrderKeys: true, build: (s) => lefts(s).intervalJoin(rights(s), { lower: -5, upper: 3, upperInclusive: false, type: 'full', name: 'op' }) },
  'temporal join': { countersOrderKeys: true, build: (s) => lefts(s).temporalJoin(rights(s), { grace: 3, name: 'op' }) },
};

export type Step = { kind: 'record'; ev: Ev; t: number } | { kind: 'watermark'; w: number } | { kind: 'clock'; t: number };

/**
 * Records with timestamps up to `maxTs`, then an arrival order (delays up to 20, bound 0–8: some
 * records are late), watermarks and clock steps. A small `maxTs` crowds records of a key onto the
 * same timestamps (ties broken by arrival).
 */
export function scenariosUpTo(maxTs: number) {
  return fc.record({
    recs: fc.array(fc.record({
      k: fc.constantFrom<Ev['k']>('a', 'b', 1, '1', 1n, ['a', 1], 0, -0, Number.NaN, true, false, [], -(2n ** 70n)),
      v: fc.integer({ min: 0, max: 9 }),
      ts: fc.integer({ min: 0, max: maxTs }),
      side: fc.constantFrom<Ev['side']>('L', 'L', 'R', 'R', 'B'),
      delay: fc.integer({ min: 0, max: 20 }),
      wm: fc.boolean(),
      clock: fc.integer({ min: 0, max: 6 }),
    }), { minLength: 1, maxLength: 40 }),
    bound: fc.integer({ min: 0, max: 8 }),
    /** Where the cut falls, in 1/1000 of the steps. */
    cut: fc.integer({ min: 0, max: 1000 }),
  });
}

/** The usual scenarios: timestamps 0–70. */
export const scenarios = scenariosUpTo(70);

export type Scenario = typeof scenarios extends fc.Arbitrary<infer S> ? S : never;

export function steps(sc: Scenario, scale: number): Step[] {
  const arrival = sc.recs.map((r, id) => ({ r, id })).sort((a, b) => a.r.ts + a.r.delay - (b.r.ts + b.r.delay) || a.id - b.id);
  const out: Step[] = [];
  let maxSeen = -Infinity;
  let lastW = -Infinity;
  let clock = 0;
  for (const { r, id } of arrival) {
    out.push({ kind: 'record', ev: { id, k: r.k, v: r.v, side: r.side }, t: r.ts * scale });
    maxSeen = Math.max(maxSeen, r.ts);
    const w = (maxSeen - sc.bound - 1) * scale;
    if (r.wm && w > lastW) {
      out.push({ kind: 'watermark', w });
      lastW = w;
    }
    if (r.clock > 0) {
      clock += r.clock;
      out.push({ kind: 'clock', t: clock });
    }
  }
  return out;
}

export interface Seen {
  out: string[];
  late: string[];
  dead: string[];
}

export function drive(h: Harness<Ev, unknown>, ss: readonly Step[]): number {
  let w = -Infinity;
  for (const s of ss) {
    if (s.kind === 'record') h.addElement(s.ev, s.t);
    else if (s.kind === 'watermark') {
      h.advanceWatermarkTo(s.w);
      w = Math.max(w, s.w);
    } else h.advanceProcessingTimeTo(s.t);
  }
  return w;
}

export function take(h: Harness<Ev, unknown>, into: Seen): void {
  into.out.push(...h.takeOutputWithTimestamps().map(canonical));
  into.late.push(...h.takeLate().map(canonical));
  into.dead.push(...h.takeDeadLetters().map(canonical));
}

/** A harness fed a fixed input with state in every operator, not finished. */
export function loaded(build: Build, scale = 1): Harness<Ev, unknown> {
  const h = harness(build);
  const keys: Ev['k'][] = ['a', 1, 1n, ['a', 1]];
  for (let i = 0; i < 12; i++) {
    h.addElement({ id: i, k: keys[i % 4] as Ev['k'], v: i % 10, side: (['L', 'R', 'B'] as const)[i % 3] as Ev['side'] }, (20 + i * 3) * scale);
    if (i === 6) h.advanceWatermarkTo(22 * scale);
  }
  return h;
}

/** The factory of every operator of `build`'s pipeline, by operator name (as in a harness of it). */
export function factoriesOf(build: Build): Map<string, OperatorFactory> {
  const p = new Pipeline();
  build(p.source(fromArray<Ev>([]), { name: 'input', timestamp: () => 0 }));
  const out = new Map<string, OperatorFactory>();
  for (const node of p.plan.nodes) if (node.factory !== undefined) out.set(node.name, node.factory);
  return out;
}
