/**
 * Key groups, applied to every stateful operator of the checkpoint contract (spec/contract): for a
 * seeded random, disordered input, the state at a cut
 * (a) split by key group into n ∈ {2, 3, 4} parts (`filterOperatorSnapshot`), each restored on its
 *     own worker and fed the rest of the input for its keys (broadcast input, watermarks and
 *     processing time to all): each worker emits, in order, what a run on its keys alone emits,
 *     and together they emit what one instance restored at the cut emits (as multisets: the order
 *     across workers is not defined);
 * (b) merged back from those parts (`mergeOperatorSnapshots`) restores one instance that emits the
 *     same;
 * (c) split for m workers that run on to a second cut, merged from their snapshots and split again
 *     for m' (`splitOperatorSnapshot`; rescales 2 → 3, 4 → 2 and 3 → 1): each worker emits its
 *     keys' results, each key's in order, and together — or the merged state on one worker — what
 *     one instance restored at both cuts emits.
 * Results and late records are compared exactly: whether an emission is late, and when
 * self-renewing timers end, depend only on its key. Operators that declare `'not-keyed'`
 * (`Case.singleWorker`) are checked to refuse a split instead.
 * The reference restores at the same cuts because a restore delivers the watermark again (see
 * `World.run`); the checkpoint contract ties a restored run to the uninterrupted one. Every
 * snapshot goes through the msgpack round trip the runtime applies.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CheckpointError, type DeadLetter, type Key, type LateRecord, type OperatorFactory, type StateLayout, filterOperatorSnapshot, isKeyGroupSplittable, keyGroupOf, mergeOperatorSnapshots, splitOperatorSnapshot,
} from 'tidemark';
import { type Harness, canonical, harness } from 'tidemark/testing';
import { type Case, type Ev, type Scenario, type Step, cases, drive, factoriesOf, loaded, roundTrip, scenarios, scenariosUpTo, steps } from '../contract/stateful-cases.js';

type Snapshot = Record<string, unknown>;

interface Emitted {
  out: { value: unknown; timestamp: number }[];
  late: LateRecord<unknown, unknown>[];
  dead: DeadLetter[];
}

interface Seen {
  out: string[];
  late: string[];
  dead: string[];
}

const none = (): Emitted => ({ out: [], late: [], dead: [] });
const joined = (...es: Emitted[]): Emitted => ({ out: es.flatMap((e) => e.out), late: es.flatMap((e) => e.late), dead: es.flatMap((e) => e.dead) });
const all = (): boolean => true;
const crowded = scenariosUpTo(12);

function collect(h: Harness<Ev, unknown>): Emitted {
  return { out: h.takeOutputWithTimestamps(), late: h.takeLate(), dead: h.takeDeadLetters() };
}

function multiset(e: Emitted): Seen {
  return { out: e.out.map(canonical).sort(), late: e.late.map(canonical).sort(), dead: e.dead.map(canonical).sort() };
}

function inOrder(e: Emitted): Seen {
  return { out: e.out.map(canonical), late: e.late.map(canonical), dead: e.dead.map(canonical) };
}

/**
 * The union of what the workers of one phase emitted (`emissions`): what the broadcast input
 * causes (`everyWorker`) must be the same on every worker and counts once.
 */
function union(c: Case, workers: readonly Emitted[]): Emitted {
  const caused = (x: { value: unknown }): boolean => c.everyWorker?.(x.value) === true;
  const shared = (e: Emitted): string[][] => [e.out.filter(caused).map(canonical), e.late.filter(caused).map(canonical)];
  workers.forEach((e, i) => expect(shared(e), `worker ${i}'s broadcast-caused output and late records`).toEqual(shared(workers[0] as Emitted)));
  return joined(...workers.map((e, i) => (i === 0 ? e : { ...e, out: e.out.filter((x) => !caused(x)), late: e.late.filter((x) => !caused(x)) })));
}

const sameKey = (a: Key | undefined, b: Key): boolean => a !== undefined && canonical(a) === canonical(b);

/** `layout` with every `'max'` rule turned into `'min'` and back: wrong merge rules for counters. */
function flipped(layout: StateLayout): StateLayout {
  if (layout === 'max') return 'min';
  if (layout === 'min') return 'max';
  if (typeof layout === 'string' || !('fields' in layout)) return layout;
  return { fields: Object.fromEntries(Object.entries(layout.fields).map(([f, l]) => [f, flipped(l)])) };
}

/** Whether `layout` has a `'max'` or `'min'` rule. */
const hasCounters = (layout: StateLayout): boolean =>
  layout === 'max' || layout === 'min' || (typeof layout === 'object' && 'fields' in layout && Object.values(layout.fields).some(hasCounters));

/** One case with `keyGroups` key groups: splitting, merging, running workers and references. */
class World {
  readonly factories: Map<string, OperatorFactory>;

  /** `flip`: merge with the counters' rules flipped (to show that the tests catch a wrong rule). */
  constructor(readonly c: Case, readonly keyGroups: number, readonly flip = false) {
    this.factories = factoriesOf(c.build);
  }

  /** Worker `i` of `n` owns the key groups `g` with `g mod n = i`. */
  owns(i: number, n: number): (key: Key) => boolean {
    const stateKey = this.c.stateKey ?? ((k: Key) => k);
    return (key) => keyGroupOf(stateKey(key), this.keyGroups) % n === i;
  }

  /** The steps worker `i` of `n` sees: records of its keys and of the broadcast input, every watermark and clock step. */
  share(i: number, n: number): (s: Step) => boolean {
    return (s) => {
      if (s.kind !== 'record') return true;
      const key = this.routeKey(s.ev);
      return key === undefined || keyGroupOf(key, this.keyGroups) % n === i;
    };
  }

  /** The key a record is routed by (`undefined`: every worker). */
  routeKey(e: Ev): Key | undefined {
    return this.c.route === undefined ? e.k : this.c.route(e);
  }

  factory(name: string): OperatorFactory {
    const f = this.factories.get(name);
    if (f === undefined) throw new Error(`no operator '${name}'`);
    return f;
  }

  /** `state` split for `n` workers: by `filterOperatorSnapshot` per worker, or in one pass (`splitOperatorSnapshot`). */
  split(state: Snapshot, n: number, onePass = false): Snapshot[] {
    const stateKey = this.c.stateKey ?? ((k: Key) => k);
    const parts: Record<string, unknown>[] = Array.from({ length: n }, () => ({}));
    for (const [name, s] of Object.entries(state)) {
      const cut = onePass
        ? splitOperatorSnapshot(this.factory(name), name, s, n, (key) => keyGroupOf(stateKey(key), this.keyGroups) % n)
        : parts.map((_, i) => filterOperatorSnapshot(this.factory(name), name, s, this.owns(i, n)));
      cut.forEach((x, i) => ((parts[i] as Record<string, unknown>)[name] = x));
    }
    return parts.map(roundTrip);
  }

  merge(parts: readonly Snapshot[]): Snapshot {
    const names = [...new Set(parts.flatMap((p) => Object.keys(p)))];
    const factory = (name: string): OperatorFactory => {
      const f = this.factory(name);
      const d = f.keyedState;
      return this.flip && d !== undefined && d !== 'stateless' && d !== 'not-keyed' ? { ...f, keyedState: flipped(d) } : f;
    };
    return roundTrip(Object.fromEntries(names.map((name) => [name, mergeOperatorSnapshots(factory(name), name, parts.map((p) => p[name]))])));
  }

  /**
   * A harness restored from (a copy of: restored operators may keep its arrays) `state` at
   * processing time `now` and watermark `w`, fed the steps of `ss` that `which` accepts.
   */
  resume(state: Snapshot, now: number, w: number, ss: readonly Step[], which: (s: Step) => boolean): { h: Harness<Ev, unknown>; w: number } {
    const h = harness(this.c.build, { restore: roundTrip(state), processingTime: now });
    if (w > -Infinity) h.advanceWatermarkTo(w);
    return { h, w: Math.max(w, drive(h, ss.filter(which))) };
  }

  /**
   * One instance fed the steps `share` accepts, restored from its own snapshot at each of `cuts`
   * (as the workers are); what it emitted before the last restore, and from it on. (A restore
   * delivers the watermark again, which fires timers and early panes registered behind it earlier
   * than an uninterrupted run would: the reference must restore where the workers do.)
   */
  run(ss: readonly Step[], cuts: readonly number[], share: (s: Step) => boolean): { before: Emitted; after: Emitted } {
    let h = harness(this.c.build);
    let w = -Infinity;
    let from = 0;
    const before: Emitted[] = [];
    for (const cut of cuts) {
      w = Math.max(w, drive(h, ss.slice(from, cut).filter(share)));
      before.push(collect(h));
      ({ h } = this.resume(h.snapshot(), h.clock.now(), w, [], all));
      from = cut;
    }
    drive(h, ss.slice(from).filter(share));
    h.finish();
    return { before: joined(...before), after: collect(h) };
  }

  /**
   * Restores `parts` on one worker each, feeds each its share of the steps after the last of
   * `cuts` and finishes; returns the union. Each worker must emit what one instance fed its share
   * (restored at `cuts`) emits: in the same order when its state was cut from one instance
   * (`sameOrder`); else — state merged from several workers lists keys in another order — the
   * same multiset, each key's results in order.
   */
  finishOn(parts: readonly Snapshot[], now: number, w: number, ss: readonly Step[], cuts: readonly number[], sameOrder: boolean): Emitted {
    return union(this.c, parts.map((p, i) => {
      const share = this.share(i, parts.length);
      const { h } = this.resume(p, now, w, ss.slice(cuts.at(-1)), share);
      h.finish();
      const got = collect(h);
      const want = this.run(ss, cuts, share).after;
      const what = `worker ${i} of ${parts.length}`;
      if (sameOrder) expect(inOrder(got), `${what}, in order`).toEqual(inOrder(want));
      else {
        expect(multiset(got), what).toEqual(multiset(want));
        this.perKeyOrder(got, ss, cuts, share, what);
      }
      return got;
    }));
  }

  /** Each key's results in `got` come in the order of a run on that key (and the broadcast input) alone (checked on results only that key's run emits). */
  perKeyOrder(got: Emitted, ss: readonly Step[], cuts: readonly number[], share: (s: Step) => boolean, what: string): void {
    const keys = new Map<string, Key>();
    for (const s of ss) {
      const key = s.kind === 'record' && share(s) ? this.routeKey(s.ev) : undefined;
      if (key !== undefined) keys.set(canonical(key), key);
    }
    // each key's run gets the broadcast input too (route key undefined)
    const runs = [...keys.values()].map((k) => this.run(ss, cuts, (s) => {
      if (s.kind !== 'record') return true;
      const key = this.routeKey(s.ev);
      return share(s) && (key === undefined || sameKey(key, k));
    }).after);
    const count = new Map<string, number>();
    for (const r of runs) for (const x of [...r.out, ...r.late]) count.set(canonical(x), (count.get(canonical(x)) ?? 0) + 1);
    runs.forEach((r, j) => {
      for (const channel of ['out', 'late'] as const) {
        const own = new Set(r[channel].map(canonical).filter((x) => count.get(x) === 1));
        const mine = (list: readonly unknown[]): string[] => list.map(canonical).filter((x) => own.has(x));
        expect(mine(got[channel]), `${what}, key ${j}, ${channel}`).toEqual(mine(r[channel]));
      }
    });
  }
}

/**
 * One scenario on `n` workers with `keyGroups` key groups: (a) split, (b) merged back, (c) rescaled
 * `from` → `to` at a second cut `at2` (in 1/1000 of the steps after the first).
 */
function rescales(c: Case, sc: Scenario, n: number, keyGroups: number, at2: number, [from, to]: readonly [number, number], flip = false): void {
  const world = new World(c, keyGroups, flip);
  const ss = steps(sc, c.scale ?? 1);
  const cut = Math.round((sc.cut / 1000) * ss.length);
  const first = harness(c.build);
  const w = drive(first, ss.slice(0, cut));
  const before = collect(first);
  const snap = roundTrip(first.snapshot());
  const now = first.clock.now();
  const rest = ss.slice(cut);
  const restoredAt = (cuts: number[]): Emitted => {
    const r = world.run(ss, cuts, all);
    return joined(r.before, r.after);
  };

  // (a) n workers, each with its key groups' state
  const once = restoredAt([cut]);
  const parts = world.split(snap, n);
  expect(multiset(joined(before, world.finishOn(parts, now, w, ss, [cut], true))), '(a) split').toEqual(multiset(once));

  // (b) the parts merged back, on one worker: the same, late records included
  const { h: one } = world.resume(world.merge(parts), now, w, rest, all);
  one.finish();
  expect(multiset(joined(before, collect(one))), '(b) merged').toEqual(multiset(once));

  // (c) `from` workers run on to a second cut; their snapshots merged, then split for `to` in one pass
  const cut2 = cut + Math.round((at2 / 1000) * rest.length);
  const twice = restoredAt([cut, cut2]);
  const first2 = world.split(snap, from, true).map((p, i) => world.resume(p, now, w, ss.slice(cut, cut2), world.share(i, from)));
  const during = union(c, first2.map(({ h }) => collect(h)));
  const w2 = Math.max(...first2.map((x) => x.w));
  const now2 = (first2[0] as { h: Harness<Ev, unknown> }).h.clock.now();
  const merged = world.merge(first2.map(({ h }) => roundTrip(h.snapshot())));
  const then = world.finishOn(world.split(merged, to, true), now2, w2, ss, [cut, cut2], false);
  expect(multiset(joined(before, during, then)), `(c) rescaled ${from} → ${to}`).toEqual(multiset(twice));
  const { h: single } = world.resume(merged, now2, w2, ss.slice(cut2), all);
  single.finish();
  expect(multiset(joined(before, during, collect(single))), `(c) merged from ${from} workers, on one`).toEqual(multiset(twice));
}

const rescalings = [[2, 3], [4, 2], [3, 1]] as const;

describe.each(Object.entries(cases))('key groups: %s', (_name, c) => {
  it(c.singleWorker === undefined ? 'declares a keyed layout for every operator with state' : 'declares the single-worker operators not keyed; they refuse a split', () => {
    const world = new World(c, 128);
    const snap = roundTrip(loaded(c.build, c.scale).snapshot());
    for (const name of Object.keys(snap)) {
      const single = c.singleWorker?.includes(name) === true;
      expect(isKeyGroupSplittable(world.factory(name)), name).toBe(!single);
      if (!single) continue;
      expect(() => splitOperatorSnapshot(world.factory(name), name, snap[name], 2, () => 0)).toThrow(CheckpointError);
      expect(() => filterOperatorSnapshot(world.factory(name), name, snap[name], all)).toThrow(/restore it whole on a single worker/);
      expect(filterOperatorSnapshot(world.factory(name), name, undefined, all)).toBeUndefined();
      expect(mergeOperatorSnapshots(world.factory(name), name, [undefined, snap[name]])).toEqual(snap[name]);
    }
  });

  if (c.singleWorker !== undefined) return;
  for (const [what, arb] of [['timestamps 0–70', scenarios], ['crowded: timestamps 0–12', crowded]] as const) {
    it(`split by key group, merged, and rescaled 2 → 3, 4 → 2, 3 → 1: state continues as on one instance (${what})`, () => {
      fc.assert(
        fc.property(arb, fc.integer({ min: 2, max: 4 }), fc.constantFrom(2, 8, 128), fc.integer({ min: 0, max: 1000 }), fc.constantFrom(...rescalings), (sc, n, keyGroups, at2, r) => rescales(c, sc, n, keyGroups, at2, r)),
        { numRuns: 24, seed: 20261207 },
      );
    });
  }

  const layouts = [...new World(c, 128).factories.values()].map((f) => f.keyedState).filter((d): d is StateLayout => d !== undefined && d !== 'stateless' && d !== 'not-keyed');
  if (c.countersOrderKeys === true) {
    it('declares merge rules for its counters', () => expect(layouts.some(hasCounters)).toBe(true));
    it('would catch a wrong merge rule: with max and min flipped, the rescale property fails', () => {
      const run = fc.check(
        fc.property(crowded, fc.integer({ min: 2, max: 4 }), fc.constantFrom(2, 8), fc.integer({ min: 0, max: 1000 }), fc.constantFrom(...rescalings), (sc, n, keyGroups, at2, r) => rescales(c, sc, n, keyGroups, at2, r, true)),
        { numRuns: 300, seed: 20261207, endOnFailure: true },
      );
      expect(run.failed).toBe(true);
    });
  }
});
