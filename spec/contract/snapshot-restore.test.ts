/**
 * The checkpoint contract, applied to every stateful operator: for a seeded random, disordered
 * input (late records included), a snapshot taken at any cut, encoded and decoded with msgpackr as
 * the runtime does, restores an operator that — once its watermark and processing time are back
 * where they were — continues exactly as the uninterrupted run: the output before the cut plus the
 * restored run's output equals the uninterrupted output (values, timestamps and order), late
 * records, side outputs and dead letters included. Also: a corrupt or incompatible resumed value
 * is refused with an error naming the operator, and every stateful factory states its signature.
 *
 * The harness restores operator state but not the node's watermarks: the test re-delivers the
 * watermark, and the restored operator runs `onWatermark(W)` again. Work registered behind `W`
 * since the last advance (a continuous early-firing timer set by a late record, say) then fires at
 * the restore rather than at the next advance — a harness artefact: the runtime restores node
 * watermarks, and runtime-restore.test.ts shows a real pipeline restored at any record continues
 * exactly. So with crowded timestamps, where such work is common, the harness cuts just after a
 * watermark advance (nothing registered behind it since); the usual scenarios cut anywhere.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Pipeline, count, fromArray, globalWindow, session, sliding, sum, tumbling } from 'tidemark';
import { canonical, harness } from 'tidemark/testing';
import { type Build, type Ev, type Seen, type Step, cases, drive, keyOf, lefts, loaded, processFn, rights, roundTrip, scenarios, scenariosUpTo, steps, take } from './stateful-cases.js';

function uninterrupted(build: Build, ss: readonly Step[]): Seen {
  const seen: Seen = { out: [], late: [], dead: [] };
  const h = harness(build);
  drive(h, ss);
  h.finish();
  take(h, seen);
  return seen;
}

function interrupted(build: Build, ss: readonly Step[], cut: number): Seen {
  const seen: Seen = { out: [], late: [], dead: [] };
  const first = harness(build);
  const w = drive(first, ss.slice(0, cut));
  take(first, seen);
  const restore = roundTrip(first.snapshot());
  const second = harness(build, { restore, processingTime: first.clock.now() });
  if (w > -Infinity) second.advanceWatermarkTo(w);
  drive(second, ss.slice(cut));
  second.finish();
  take(second, seen);
  return seen;
}

describe.each(Object.entries(cases))('snapshot/restore: %s', (_name, c) => {
  it('a restore at any cut continues exactly as the uninterrupted run', () => {
    fc.assert(
      fc.property(scenarios, (sc) => {
        const ss = steps(sc, c.scale ?? 1);
        const whole = uninterrupted(c.build, ss);
        const parts = interrupted(c.build, ss, Math.round((sc.cut / 1000) * ss.length));
        expect(parts.out).toEqual(whole.out);
        expect(parts.late).toEqual(whole.late);
        expect(parts.dead).toEqual(whole.dead);
      }),
      { numRuns: 40, seed: 20261130 },
    );
  });

  it('a restore right after a watermark advance continues exactly, with timestamps crowded onto 0–12', () => {
    fc.assert(
      fc.property(scenariosUpTo(12), (sc) => {
        const ss = steps(sc, c.scale ?? 1);
        let cut = Math.round((sc.cut / 1000) * ss.length);
        while (cut > 0 && ss[cut - 1]?.kind !== 'watermark') cut--;
        const whole = uninterrupted(c.build, ss);
        const parts = interrupted(c.build, ss, cut);
        expect(parts).toEqual(whole);
      }),
      { numRuns: 40, seed: 20261130 },
    );
  });
});

describe('restoring state that does not fit', () => {
  it.each(Object.entries(cases))('%s: a corrupt resumed value is refused, naming the operator', (_name, c) => {
    const snap = roundTrip(loaded(c.build, c.scale).snapshot());
    const names = Object.keys(snap);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      for (const bad of [42, 'state', null, [], { keys: 'x', windows: 'x', panes: 'x', pending: 'x', waiting: 'x' }]) {
        expect(() => harness(c.build, { restore: { ...snap, [name]: bad } }), `${name} ← ${canonical(bad)}`).toThrow(new RegExp(`${name.replace(/[.*+?^${}()|[\]\\#]/g, '\\$&')}: cannot restore`));
      }
    }
  });

  it('names what is wrong: a key of the wrong type, a missing field, a wrong accumulator', () => {
    const build = cases['session reduce, discarding (empty accumulators)']?.build as Build;
    const snap = roundTrip(loaded(build).snapshot()) as { op: { seq: number; keys: unknown[][] } };
    const badKey = { ...snap, op: { ...snap.op, keys: [[{ id: 1 }, []]] } };
    expect(() => harness(build, { restore: badKey })).toThrow(/op: cannot restore session window state: keys\[0\] key: key must be a string, number, bigint, boolean or an array of those; got object/);
    expect(() => harness(build, { restore: { op: { keys: [] } } })).toThrow('op: cannot restore session window state: seq must be a non-negative integer, got undefined');
    const session = (snap.op.keys[0] as unknown[])[1] as unknown[][];
    const first = (session[0] as unknown[]).slice();
    first[3] = 'not an accumulator';
    const badAcc = { op: { ...snap.op, keys: [[(snap.op.keys[0] as unknown[])[0], [first]]] } };
    expect(() => harness(build, { restore: badAcc })).toThrow(/op: cannot restore session window state: sessions of .* accumulator: reduce restoreAcc\(\) threw: a reduce accumulator must be \[\] or \[value\]/);
  });

  it('keeps key types exactly: 1, "1", 1n and ["a", 1] stay four keys', () => {
    const build: Build = (s) => s.keyBy(keyOf).window(globalWindow()).aggregate(count(), { name: 'op' });
    const h = harness(build);
    for (const k of [1, '1', 1n, ['a', 1], 1, 1n] as Ev['k'][]) h.addElement({ id: 0, k, v: 0, side: 'L' }, 0);
    const restored = harness(build, { restore: roundTrip(h.snapshot()) });
    restored.finish();
    expect(restored.takeOutput().map((r: { key: unknown; value: number }) => [r.key, r.value])).toEqual([[1, 2], ['1', 1], [1n, 2], [['a', 1], 1]]);
  });
});

describe('state signatures', () => {
  it.each(Object.entries(cases))('%s: every operator with state states a version and a signature', (_name, c) => {
    const h = loaded(c.build, c.scale);
    const names = Object.keys(h.snapshot());
    const p = new Pipeline();
    c.build(p.source(fromArray<Ev>([]), { name: 'input', timestamp: () => 0 }));
    for (const name of names) {
      const factory = p.plan.nodes.find((n) => n.name === name)?.factory;
      expect(factory?.stateVersion, name).toBe(1);
      expect(factory?.stateSignature, name).toMatch(/^\S.{3,}/);
    }
  });

  it('says what determines the layout', () => {
    const sig = (build: Build): string | undefined => {
      const p = new Pipeline();
      build(p.source(fromArray<Ev>([]), { name: 'input', timestamp: () => 0 }));
      return p.plan.nodes.find((n) => n.name === 'op')?.factory?.stateSignature;
    };
    expect(sig((s) => lefts(s).window(tumbling(10)).aggregate(count(), { name: 'op' }))).toBe('window tumbling(10) count accumulating');
    expect(sig((s) => lefts(s).window(sliding(10, 4, { offset: 1 }), { accumulation: 'retracting', trigger: { early: { everyRecords: 2 } } }).aggregate(sum((e) => e.v), { name: 'op' })))
      .toBe('window sliding(10, 4, offset 1) sum retracting per-window (early every 2 records)');
    expect(sig((s) => lefts(s).window(session(6)).aggregate({ create: () => 0, add: (a: number) => a + 1, merge: (a: number, b: number) => a + b, result: (a: number) => a }, { name: 'op' })))
      .toBe('window session(6) custom accumulating');
    expect(sig((s) => lefts(s).window(tumbling(8)).process(() => [], { name: 'op' }))).toBe('window tumbling(8) process accumulating');
    expect(sig((s) => lefts(s).process(processFn, { name: 'op' }))).toBe('process state(n: value, seen: list, byV: map)');
    expect(sig((s) => lefts(s).windowJoin(rights(s), sliding(10, 5), { type: 'left' }).pairs({ name: 'op' }))).toBe('join:window sliding(10, 5) left pairs');
    expect(sig((s) => lefts(s).windowJoin(rights(s), session(5)).apply(() => [], { name: 'op' }))).toBe('join:window session(5) inner apply');
    expect(sig((s) => lefts(s).intervalJoin(rights(s), { lower: -5, upper: 3, upperInclusive: false, type: 'full', name: 'op' }))).toBe('join:interval [-5, 2] full');
    expect(sig((s) => lefts(s).sortByEventTime({ name: 'op' }))).toBe('sortByEventTime');
  });
});
