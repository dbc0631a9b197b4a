/**
 * Merging and splitting operator state by its declared layout, case by case: how shared parts
 * merge (counters by max, output watermarks by min, watermarks that must agree, broadcast state
 * taken once), how keyed rows and groups of rows split and merge, the `CheckpointError`s that name
 * the operator and the place in its state, operators that are not organised by key, stateless
 * ones, the key-group count a restored run keeps (`restoredKeyGroups`), and that every operator
 * factory declares its layout.
 */
import { describe, expect, it } from 'vitest';
import {
  CheckpointError, type Key, type OperatorFactory, type StateLayout, type Stream, Pipeline, count, filterOperatorSnapshot, fromArray, isKeyGroupSplittable,
  keyGroupOf, mergeOperatorSnapshots, restoredKeyGroups, splitOperatorSnapshot, sum, tumbling, valueState,
} from 'tidemark';
import { canonical, harness } from 'tidemark/testing';

const layout: StateLayout = { fields: { seq: 'max', seqs: 'max', outWm: 'min', prevW: 'same', rules: 'broadcast', keys: 'keyed', windows: { groups: 2 } } };
const op: OperatorFactory = { kind: 'test-op', keyedState: layout, build: () => ({ onBatch() {} }) };

const a = {
  seq: 3, seqs: [1, 5], outWm: 10, prevW: 7, rules: [['r', 1]],
  keys: [['a', 1], ['a', 2]],
  windows: [[10, 20, [['a', 'x']]], [0, 10, [['a', 'y']]]],
};
const b = {
  seq: 5, seqs: [4, 2], outWm: 8, prevW: 7, rules: [['r', 9]],
  keys: [[1n, 3]],
  windows: [[0, 10, [[1n, 'z']]]],
};
const merged = {
  seq: 5, seqs: [4, 5], outWm: 8, prevW: 7, rules: [['r', 1]],
  keys: [['a', 1], ['a', 2], [1n, 3]],
  windows: [[0, 10, [['a', 'y'], [1n, 'z']]], [10, 20, [['a', 'x']]]],
};

/** The factory of the operator named `name` in `build`'s pipeline. */
function factoryOf(build: (s: Stream<{ k: string; v: number }>) => unknown, name = 'op'): OperatorFactory {
  const p = new Pipeline();
  build(p.source(fromArray<{ k: string; v: number }>([]), { name: 'input', timestamp: () => 0 }));
  const f = p.plan.nodes.find((n) => n.name === name)?.factory;
  if (f === undefined) throw new Error(`no operator '${name}'`);
  return f;
}

describe('mergeOperatorSnapshots', () => {
  it('merges shared parts as declared and concatenates keyed rows, groups by id', () => {
    expect(mergeOperatorSnapshots(op, 'op', [a, b])).toEqual(merged);
  });

  it('skips workers without state; one part is read back as it is; none is undefined', () => {
    expect(mergeOperatorSnapshots(op, 'op', [undefined, a, undefined])).toEqual({ ...a, windows: [a.windows[1], a.windows[0]] });
    expect(mergeOperatorSnapshots(op, 'op', [])).toBeUndefined();
    expect(mergeOperatorSnapshots(op, 'op', [undefined])).toBeUndefined();
  });

  it('refuses parts that are not from one consistent cut, naming the operator and the place', () => {
    expect(() => mergeOperatorSnapshots(op, 'perUser', [a, { ...b, prevW: 8 }])).toThrow(CheckpointError);
    expect(() => mergeOperatorSnapshots(op, 'perUser', [a, { ...b, prevW: 8 }]))
      .toThrow("perUser: cannot merge the test-op state of 2 workers: prevW differs between workers (7 in part 0 and 8 in part 1); the snapshots must be taken at one consistent cut");
    // parts are named by their index as given, workers without state included
    expect(() => mergeOperatorSnapshots(op, 'perUser', [undefined, a, undefined, { ...b, prevW: 8 }])).toThrow('prevW differs between workers (7 in part 1 and 8 in part 3)');
    expect(() => mergeOperatorSnapshots(op, 'op', [undefined, a, { ...b, keys: [['a', 9]] }])).toThrow('(parts 1 and 2;');
    expect(() => mergeOperatorSnapshots(op, 'perUser', [a, { ...b, windows: [[0, 11, [[1n, 'z']]]] }]))
      .toThrow("perUser: cannot merge the test-op state of 2 workers: windows[0] (group 0 of part 1) differs from an earlier part's at element 1 (10 and 11)");
  });

  it('refuses a key that two workers hold, but not a key with several rows in one part', () => {
    expect(() => mergeOperatorSnapshots(op, 'op', [a, { ...b, keys: [['a', 9]] }])).toThrow("op: cannot merge the test-op state of 2 workers: keys holds key 'a' in the state of two workers (parts 0 and 1; workers must own disjoint key groups)");
    expect(() => mergeOperatorSnapshots(op, 'op', [a, { ...b, windows: [[0, 10, [['a', 'q']]]] }])).toThrow(/windows group 0 holds key 'a' in the state of two workers/);
  });

  it('refuses a key that two workers hold anywhere: in different groups or different fields', () => {
    // 'a' is in group 10 of part 0 and group 30 of part 1
    expect(() => mergeOperatorSnapshots(op, 'op', [a, { ...b, windows: [[30, 40, [['a', 'q']]]] }])).toThrow("windows group 30 holds key 'a' in the state of two workers (parts 0 and 1;");
    // 1n is in part 1's keys and in part 0's windows
    expect(() => mergeOperatorSnapshots(op, 'op', [{ ...a, windows: [[50, 60, [[1n, 'q']]]] }, b])).toThrow(/windows group 50 holds key 1n in the state of two workers \(parts 1 and 0;/);
    // one part may hold a key in several places
    expect(() => mergeOperatorSnapshots(op, 'op', [{ ...a, windows: [[50, 60, [['a', 'q']]]] }, b])).not.toThrow();
  });

  it('returns data that shares nothing with the parts', () => {
    const m = mergeOperatorSnapshots(op, 'op', [a, b]) as typeof merged;
    (m.keys[0] as unknown[]).push('changed');
    (m.rules[0] as unknown[]).push('changed');
    ((m.windows[0] as unknown[])[2] as unknown[]).push(['z', 0]);
    expect(a.keys[0]).toEqual(['a', 1]);
    expect(a.rules[0]).toEqual(['r', 1]);
    expect((a.windows[1] as unknown[])[2]).toEqual([['a', 'y']]);
  });

  it('refuses state that does not fit the layout', () => {
    const bad = (over: Record<string, unknown>): (() => unknown) => () => mergeOperatorSnapshots(op, 'op', [a, { ...b, ...over }]);
    expect(bad({ extra: 1 })).toThrow("op: cannot merge the test-op state of 2 workers: extra is not declared in the operator's keyed layout (OperatorFactory.keyedState)");
    expect(bad({ seqs: [1, 2, 3] })).toThrow('seqs must be an array of 2 numbers on every worker, got [1, 2, 3]');
    expect(bad({ seq: 'x' })).toThrow("seq must be a number, got 'x'");
    expect(bad({ seq: Number.NaN })).toThrow('seq must be a number, got NaN');
    expect(bad({ keys: 'x' })).toThrow("keys must be a list of [key, …] rows, got 'x'");
    expect(bad({ keys: [[{ id: 1 }, 2]] })).toThrow(/keys\[0\] has an invalid key: key must be a string, number, bigint, boolean or an array of those/);
    expect(bad({ keys: [[]] })).toThrow('keys[0] must be a [key, …] row, got []');
    expect(bad({ windows: [[0, 10]] })).toThrow('windows[0] must be a group of at least 3 elements, got [0, 10]');
    expect(() => mergeOperatorSnapshots(op, 'op', [a, 42])).toThrow('op: cannot merge the test-op state of 2 workers: the state must be an object, got 42');
  });

  it('merges nested layouts (a process core inside a broadcast process)', () => {
    const nested: OperatorFactory = { kind: 'nested', keyedState: { fields: { core: { fields: { seq: 'max', keys: 'keyed' } }, broadcast: 'broadcast' } }, build: op.build };
    const x = { core: { seq: 2, keys: [['a', 1]] }, broadcast: [['limit', 5]] };
    const y = { core: { seq: 7, keys: [['b', 2]] }, broadcast: [['limit', 5]] };
    expect(mergeOperatorSnapshots(nested, 'op', [x, y])).toEqual({ core: { seq: 7, keys: [['a', 1], ['b', 2]] }, broadcast: [['limit', 5]] });
    expect(() => mergeOperatorSnapshots(nested, 'op', [x, { ...y, core: { ...y.core, keys: 1 } }])).toThrow('op: cannot merge the nested state of 2 workers: core.keys must be a list of [key, …] rows, got 1');
  });
});

describe('filterOperatorSnapshot', () => {
  it('keeps the owned keys’ rows, drops groups left empty, keeps shared parts', () => {
    expect(filterOperatorSnapshot(op, 'op', merged, (k) => k === 'a')).toEqual({ ...merged, keys: [['a', 1], ['a', 2]], windows: [[0, 10, [['a', 'y']]], [10, 20, [['a', 'x']]]] });
    expect(filterOperatorSnapshot(op, 'op', merged, (k) => k === 1n)).toEqual({ ...merged, keys: [[1n, 3]], windows: [[0, 10, [[1n, 'z']]]] });
    expect(filterOperatorSnapshot(op, 'op', merged, () => false)).toEqual({ ...merged, keys: [], windows: [] });
  });

  it('splits into parts that merge back to the whole (rows of one key stay together)', () => {
    for (const n of [2, 3, 4]) {
      const parts = Array.from({ length: n }, (_, i) => filterOperatorSnapshot(op, 'op', merged, (k: Key) => keyGroupOf(k, 8) % n === i));
      const back = mergeOperatorSnapshots(op, 'op', parts) as typeof merged;
      expect(back.keys.map(canonical).sort()).toEqual(merged.keys.map(canonical).sort());
      expect(back.windows.map((w) => [w[0], w[1], (w[2] as unknown[]).map(canonical).sort()])).toEqual(merged.windows.map((w) => [w[0], w[1], (w[2] as unknown[]).map(canonical).sort()]));
      expect({ ...back, keys: [], windows: [] }).toEqual({ ...merged, keys: [], windows: [] });
    }
  });

  it('refuses state that does not fit the layout, naming the operator', () => {
    expect(() => filterOperatorSnapshot(op, 'op', { ...merged, keys: [[null]] }, () => true)).toThrow(/^op: cannot split the test-op state by key group: keys\[0\] has an invalid key/);
    expect(() => filterOperatorSnapshot(op, 'op', { ...merged, other: 1 }, () => true)).toThrow("op: cannot split the test-op state by key group: other is not declared in the operator's keyed layout");
    expect(() => filterOperatorSnapshot(op, 'op', [], () => true)).toThrow('op: cannot split the test-op state by key group: the state must be an object, got []');
    // counters are checked too
    expect(() => filterOperatorSnapshot(op, 'op', { ...merged, seq: 'x' }, () => true)).toThrow("op: cannot split the test-op state by key group: seq must be a number or an array of numbers, got 'x'");
    expect(() => filterOperatorSnapshot(op, 'op', { ...merged, seqs: [1, null] }, () => true)).toThrow('seqs[1] must be a number, got null');
  });
});

describe('splitOperatorSnapshot', () => {
  it('cuts a snapshot for n workers in one pass, as filterOperatorSnapshot per worker does', () => {
    for (const n of [1, 2, 3, 4]) {
      const partOf = (k: Key): number => keyGroupOf(k, 8) % n;
      const parts = splitOperatorSnapshot(op, 'op', merged, n, partOf);
      expect(parts).toHaveLength(n);
      parts.forEach((p, i) => expect(p, `part ${i} of ${n}`).toEqual(filterOperatorSnapshot(op, 'op', merged, (k) => partOf(k) === i)));
    }
  });

  it('gives parts that share nothing with the state or with each other', () => {
    const [p0, p1] = splitOperatorSnapshot(op, 'op', merged, 2, (k) => (k === 'a' ? 0 : 1)) as [typeof merged, typeof merged];
    (p0.rules[0] as unknown[]).push('changed');
    (p0.keys[0] as unknown[]).push('changed');
    expect(p1.rules[0]).toEqual(['r', 1]);
    expect(merged.rules[0]).toEqual(['r', 1]);
    expect(merged.keys[0]).toEqual(['a', 1]);
  });

  it('refuses a bad part count or a partOf result out of range, and splits undefined state into undefined parts', () => {
    expect(() => splitOperatorSnapshot(op, 'op', merged, 0, () => 0)).toThrow('tidemark.splitOperatorSnapshot: parts must be a positive integer, got 0');
    expect(() => splitOperatorSnapshot(op, 'op', merged, 2.5, () => 0)).toThrow(RangeError);
    expect(() => splitOperatorSnapshot(op, 'op', merged, 2, () => 2)).toThrow("op: cannot split the test-op state by key group: partOf returned 2 for key 'a'; it must be an integer from 0 to 1");
    expect(() => splitOperatorSnapshot(op, 'op', merged, 2, () => -1)).toThrow(CheckpointError);
    expect(splitOperatorSnapshot(op, 'op', undefined, 3, () => 0)).toEqual([undefined, undefined, undefined]);
  });
});

describe('operators that are not organised by key, and stateless ones', () => {
  const asyncMap = factoryOf((s) => s.asyncMap(async (x) => x, { name: 'op' }));
  const custom: OperatorFactory = { kind: 'custom', build: op.build };

  it('run on a single worker: merging several parts or splitting is a CheckpointError', () => {
    expect(isKeyGroupSplittable(asyncMap)).toBe(false);
    expect(isKeyGroupSplittable(custom)).toBe(false);
    const pending = { pending: [{ value: 1, t: 0 }] };
    expect(mergeOperatorSnapshots(asyncMap, 'enrich', [undefined, pending])).toEqual(pending);
    expect(mergeOperatorSnapshots(asyncMap, 'enrich', [undefined, pending])).not.toBe(pending);
    expect(filterOperatorSnapshot(asyncMap, 'enrich', undefined, () => true)).toBeUndefined();
    expect(() => mergeOperatorSnapshots(asyncMap, 'enrich', [pending, pending])).toThrow(CheckpointError);
    expect(() => mergeOperatorSnapshots(asyncMap, 'enrich', [pending, pending]))
      .toThrow("enrich: cannot merge the asyncMap state of 2 workers: its state is not organised by key (the operator declares 'not-keyed'), so it runs on a single worker");
    expect(() => mergeOperatorSnapshots(custom, 'tap', [{}, {}])).toThrow('tap: cannot merge the custom state of 2 workers: its state is not organised by key (the operator declares no keyed layout), so it runs on a single worker');
    expect(() => filterOperatorSnapshot(asyncMap, 'enrich', pending, () => true)).toThrow("enrich: cannot split the asyncMap state by key group: its state is not organised by key (the operator declares 'not-keyed'); restore it whole on a single worker");
  });

  it('stateless operators run anywhere and have nothing to merge', () => {
    const map = factoryOf((s) => s.map((x) => x, { name: 'op' }));
    expect(isKeyGroupSplittable(map)).toBe(true);
    expect(mergeOperatorSnapshots(map, 'op', [undefined, undefined])).toBeUndefined();
    expect(filterOperatorSnapshot(map, 'op', undefined, () => true)).toBeUndefined();
    expect(() => mergeOperatorSnapshots(map, 'op', [{}])).toThrow('op: cannot merge the map state of 1 worker: the operator declares itself stateless, yet a worker saved state for it');
  });

  it('every operator factory declares whether its state is keyed', () => {
    const p = new Pipeline();
    const s = p.source(fromArray<{ k: string; v: number }>([]), { name: 'input', timestamp: () => 0 });
    const keyed = s.map((x) => x).filter(() => true).flatMap((x) => [x]).keyBy((e) => e.k);
    const rules = s.filter((e) => e.v < 0).broadcast();
    const sink = { kind: 'none', write(): void {} };
    keyed.union(keyed).asyncMap(async (x) => x).keyBy((e) => e.k).window(tumbling(10)).aggregate(count()).sink(sink);
    keyed.window(tumbling(10), { trigger: { early: { everyRecords: 2 } } }).aggregate(sum((e) => e.v)).sink(sink);
    keyed.sortByEventTime().scan((n: number) => n + 1, 0).sink(sink);
    keyed.process({ state: { n: valueState<number>() }, onRecord() {} }).sink(sink);
    keyed.connect(rules).process({ onBroadcast() {}, onRecord() {} }).sink(sink);
    keyed.temporalJoin(keyed, { grace: 1 }).sink(sink);
    keyed.intervalJoin(keyed, { lower: -1, upper: 1 }).sink(sink);
    keyed.windowJoin(keyed, tumbling(10)).pairs().sink(sink);
    const factories = p.plan.nodes.flatMap((n) => (n.factory === undefined ? [] : [n.factory]));
    expect(factories.length).toBeGreaterThan(15);
    for (const f of factories) expect(f.keyedState, f.kind).toBeDefined();
    expect(factories.filter((f) => !isKeyGroupSplittable(f)).map((f) => f.kind)).toEqual(['asyncMap', 'sortByEventTime']);
  });
});

describe('merged state of real operators', () => {
  /** Two keys whose key groups (of 2) differ. */
  const [k0, k1] = ((): [string, string] => {
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    return [keys.find((k) => keyGroupOf(k, 2) === 0) as string, keys.find((k) => keyGroupOf(k, 2) === 1) as string];
  })();

  it('sequence counters merge by max: a key’s records tied on a timestamp stay in arrival order', () => {
    // a broadcast process holds keyed records until the watermark passes them, ordered by (time, seq)
    const build = (s: Stream<{ k: string; v: number }>): Stream<[unknown, number]> => s.filter((e) => e.v >= 0).keyBy((e) => e.k)
      .connect(s.filter((e) => e.v < 0).broadcast()).process<[unknown, number]>({ onBroadcast() {}, onRecord(e: { v: number }, ctx) { ctx.emit([ctx.key, e.v]); } }, { name: 'op' });
    const factory = factoryOf(build);
    const w0 = harness(build);
    for (let v = 0; v < 5; v++) w0.addElement({ k: k0, v }, 100);
    const w1 = harness(build);
    w1.addElement({ k: k1, v: 0 }, 100);
    const state = mergeOperatorSnapshots(factory, 'op', [w0.snapshot()['op'], w1.snapshot()['op']]) as { seq: number };
    expect(state.seq).toBe(5);
    const one = harness(build, { restore: { op: state } });
    one.addElement({ k: k0, v: 5 }, 100);
    one.finish();
    expect(one.takeOutput().filter(([k]) => k === k0).map(([, v]) => v)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('a window operator’s state split by key group fires each key’s windows on its worker only', () => {
    const build = (s: Stream<{ k: string; v: number }>): Stream<unknown> => s.keyBy((e) => e.k).window(tumbling(10)).aggregate(sum((e) => e.v), { name: 'op' });
    const factory = factoryOf(build);
    const h = harness(build);
    h.addElement({ k: k0, v: 1 }, 1);
    h.addElement({ k: k1, v: 2 }, 2);
    const state = h.snapshot()['op'];
    const results = [0, 1].map((i) => {
      const w = harness(build, { restore: { op: filterOperatorSnapshot(factory, 'op', state, (k) => keyGroupOf(k, 2) === i) } });
      w.finish();
      return w.takeOutput().map((r) => [(r as { key: string }).key, (r as { value: number }).value]);
    });
    expect(results).toEqual([[[k0, 1]], [[k1, 2]]]);
  });
});

describe('restoredKeyGroups', () => {
  const where = 'tidemark.runParallel';

  it('keeps the count a pipeline was first started with', () => {
    expect(restoredKeyGroups(undefined, undefined, where)).toBe(128);
    expect(restoredKeyGroups(undefined, 64, where)).toBe(64);
    expect(restoredKeyGroups({}, 32, where)).toBe(32);
    expect(restoredKeyGroups({ keyGroups: 64 }, undefined, where)).toBe(64);
    expect(restoredKeyGroups({ keyGroups: 64 }, 64, where)).toBe(64);
  });

  it('refuses a different explicit count, an invalid count, and an invalid recorded count', () => {
    expect(() => restoredKeyGroups({ keyGroups: 64 }, 128, where)).toThrow(CheckpointError);
    expect(() => restoredKeyGroups({ keyGroups: 64 }, 128, where)).toThrow(
      'tidemark.runParallel: keyGroups is 128, but the checkpoint was written by a pipeline first started with 64 key groups; the key-group count is fixed when a pipeline first starts (only the number of workers may change) — omit keyGroups or pass 64',
    );
    expect(() => restoredKeyGroups(undefined, 100, where)).toThrow(RangeError);
    expect(() => restoredKeyGroups(undefined, 100, where)).toThrow('tidemark.runParallel: keyGroups must be a power of two from 1 to 32768, got 100');
    expect(() => restoredKeyGroups({ keyGroups: 48 }, undefined, where)).toThrow(/^tidemark.runParallel: the checkpoint records an invalid key-group count \(RangeError: .*got 48\)$/);
  });
});
