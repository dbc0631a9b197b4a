/**
 * Ordering is a declared contract: scan needs per-key (or total) order, building a plan that
 * cannot provide it is an OrderingError saying where the order was lost; sortByEventTime
 * restores per-key order once the watermark passes.
 */
import { describe, expect, it } from 'vitest';
import {
  ManualClock,
  OrderingError,
  Pipeline,
  PlanError,
  boundedOutOfOrderness,
  collect,
  count,
  fromArray,
  tumbling,
  type LateRecord,
  type Ordering,
} from 'tidemark';
import { TestStream, harness } from 'tidemark/testing';
import type { Stream } from 'tidemark';

type Rec = { k: string; v: number; ts: number };
const R = (k: string, v: number, ts: number): Rec => ({ k, v, ts });

function pipeline() {
  return new Pipeline({ clock: new ManualClock() });
}

function expectOrderingError(fn: () => unknown, ...patterns: RegExp[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an OrderingError').toBeInstanceOf(OrderingError);
  expect(caught).toBeInstanceOf(PlanError);
  const msg = (caught as Error).message;
  expect(msg).toMatch(/scan/);
  for (const p of patterns) expect(msg).toMatch(p);
}

const fold = (acc: number, r: Rec): number => acc + r.v;

describe('scan refuses inputs without per-key order, saying where the order was lost', () => {
  it('a source with the default ordering', () => {
    const p = pipeline();
    const s = p.source(fromArray<Rec>([]), { timestamp: (r) => r.ts, name: 'clicks' });
    expectOrderingError(() => s.keyBy((r) => r.k).scan(fold, 0), /'clicks'/, /none/, /default/);
  });

  it("a source declaring 'none' explicitly (through map and filter)", () => {
    const p = pipeline();
    const s = p.source(fromArray<Rec>([]), { timestamp: (r) => r.ts, name: 'events', ordering: 'none' });
    expectOrderingError(() => s.map((r) => r).filter(() => true).keyBy((r) => r.k).scan(fold, 0), /'events'/, /'none'/);
  });

  it('a union, even of totally ordered sources', () => {
    const p = pipeline();
    const a = p.source(fromArray<Rec>([]), { timestamp: (r) => r.ts, name: 'a', ordering: 'total' });
    const b = p.source(fromArray<Rec>([]), { timestamp: (r) => r.ts, name: 'b', ordering: 'total' });
    expectOrderingError(() => a.union(b).keyBy((r) => r.k).scan(fold, 0), /union/);
  });

  it("keyBy of a 'per-partition' source", () => {
    const p = pipeline();
    const s = p.source(fromArray<Rec>([]), { timestamp: (r) => r.ts, name: 'topic', ordering: 'per-partition' });
    expectOrderingError(() => s.keyBy((r) => r.k).scan(fold, 0), /per-partition/, /keyBy|partition/);
  });

  it('window results', () => {
    const p = pipeline();
    const s = p.source(fromArray<Rec>([]), { timestamp: (r) => r.ts, name: 'src', ordering: 'total' });
    const w = s.keyBy((r) => r.k).window(tumbling(10), { name: 'perKey' }).aggregate(count());
    expectOrderingError(() => w.keyBy((r) => r.key).scan((a, r) => a + r.value, 0), /window/);
  });

  it('late records and dead letters of a window', () => {
    const p = pipeline();
    const s = p.source(fromArray<Rec>([]), { timestamp: (r) => r.ts, name: 'src', ordering: 'total' });
    const w = s.keyBy((r) => r.k).window(tumbling(10), { name: 'perKey' }).aggregate(count());
    expectOrderingError(() => w.late().keyBy((l) => l.key).scan((a) => a + 1, 0), /late/);
    expectOrderingError(() => s.deadLetters().keyBy((d) => d.reason).scan((a) => a + 1, 0), /dead/);
  });

  it('a custom operator declares no order', () => {
    const p = pipeline();
    const s = p.source(fromArray<Rec>([]), { timestamp: (r) => r.ts, name: 'src', ordering: 'total' });
    const t = s.transform<Rec>({ kind: 'myOp', build: (ctx) => ({ onBatch: (b) => b.values.forEach((v, i) => ctx.out.emit(v, b.times[i] as number)) }) });
    expectOrderingError(() => t.keyBy((r) => r.k).scan(fold, 0), /myOp/);
  });

  it('the message says how to fix it', () => {
    const p = pipeline();
    const s = p.source(fromArray<Rec>([]), { timestamp: (r) => r.ts, name: 'clicks' });
    expectOrderingError(() => s.keyBy((r) => r.k).scan(fold, 0), /sortByEventTime|ordering/);
  });
});

describe('scan: a running fold per key in arrival order', () => {
  // Arrival order deliberately not in timestamp order: scan folds in arrival order.
  const input: Rec[] = [R('a', 1, 50), R('b', 10, 10), R('a', 2, 20), R('b', 20, 5), R('a', 4, 60), R('c', 100, 1)];
  const expected = [1, 10, 3, 30, 7, 100];

  it.each<[Ordering, number]>([
    ['total', 1],
    ['total', 1024],
    ['per-key', 1],
    ['per-key', 2],
  ])("over a '%s' source (batchSize %d)", async (ordering, batchSize) => {
    const p = new Pipeline({ clock: new ManualClock(), batchSize });
    const out: number[] = [];
    const times: number[] = [];
    p.source(fromArray(input), { timestamp: (r) => r.ts, ordering, name: 'trades' })
      .map((r) => r)
      .filter(() => true)
      .keyBy((r) => r.k)
      .scan(fold, 0, { name: 'position' })
      .sink({ kind: 'capture', write: (vs, ts) => vs.forEach((v, i) => (out.push(v), times.push(ts[i] as number))) });
    const summary = await p.run();
    expect(out).toEqual(expected);
    expect(times).toEqual(input.map((r) => r.ts)); // each state carries its record's timestamp
    expect(summary.operators['position']).toMatchObject({ in: 6, out: 6 });
  });

  it('keys are compared by value (array keys)', async () => {
    const p = pipeline();
    const out: number[] = [];
    p.source(fromArray([R('a', 1, 1), R('a', 2, 2), R('b', 3, 3), R('a', 4, 4)]), { timestamp: (r) => r.ts, ordering: 'total' })
      .keyBy((r) => [r.k, r.v % 2 === 0])
      .scan(fold, 0)
      .sink(collect(out));
    await p.run();
    // keys: [a,false] [a,true] [b,false] [a,true]
    expect(out).toEqual([1, 2, 3, 6]);
  });

  it('init is not shared mutably between keys when fn returns a new state', async () => {
    const p = pipeline();
    const out: string[][] = [];
    p.source(fromArray([R('a', 1, 1), R('b', 2, 2), R('a', 3, 3)]), { timestamp: (r) => r.ts, ordering: 'per-key' })
      .keyBy((r) => r.k)
      .scan((acc: string[], r) => [...acc, `${r.k}${r.v}`], [])
      .sink(collect(out));
    await p.run();
    expect(out).toEqual([['a1'], ['b2'], ['a1', 'a3']]);
  });

  it('works after sortByEventTime on an unordered source, folding in timestamp order', async () => {
    const p = pipeline();
    const out: { k: string; sum: number; ts: number }[] = [];
    const records = [R('a', 1, 50), R('b', 10, 10), R('a', 2, 20), R('b', 20, 5), R('a', 4, 60), R('a', 8, 45)];
    p.source(fromArray(records), { timestamp: (r) => r.ts, watermark: boundedOutOfOrderness(100), name: 'clicks' })
      .keyBy((r) => r.k)
      .sortByEventTime()
      .scan((acc: { k: string; sum: number; ts: number }, r) => ({ k: r.k, sum: acc.sum + r.v, ts: r.ts }), { k: '', sum: 0, ts: 0 })
      .sink(collect(out));
    await p.run();
    const byKey = (k: string) => out.filter((o) => o.k === k).map((o) => [o.ts, o.sum]);
    expect(byKey('a')).toEqual([[20, 2], [45, 10], [50, 11], [60, 15]]);
    expect(byKey('b')).toEqual([[5, 20], [10, 30]]);
  });

  it('sortByEventTime output keeps its order through map/filter and a second keyBy with the same key', () => {
    const p = pipeline();
    const s = p.source(fromArray<Rec>([]), { timestamp: (r) => r.ts, name: 'clicks' });
    expect(() => s.keyBy((r) => r.k).sortByEventTime().map((r) => r).filter(() => true).keyBy((r) => r.k).scan(fold, 0)).not.toThrow();
  });
});

describe('sortByEventTime', () => {
  const build = (input: Stream<Rec>) => input.keyBy((r) => r.k).sortByEventTime({ name: 'sort' });

  it('emits nothing until the watermark passes, then per-key timestamp order (ties in arrival order)', () => {
    const h = harness(build);
    h.addElement(R('a', 1, 30), 30);
    h.addElement(R('a', 2, 10), 10);
    h.addElement(R('b', 3, 20), 20);
    h.addElement(R('a', 4, 10), 10);
    h.addElement(R('a', 5, 25), 25);
    expect(h.takeOutput()).toEqual([]);
    h.advanceWatermarkTo(9);
    expect(h.takeOutput()).toEqual([]);
    h.advanceWatermarkTo(10); // W ≥ t releases t
    expect(h.takeOutputWithTimestamps()).toEqual([
      { value: R('a', 2, 10), timestamp: 10 },
      { value: R('a', 4, 10), timestamp: 10 },
    ]);
    h.advanceWatermarkTo(26);
    expect(h.takeOutput().map((r) => r.v)).toEqual([3, 5]);
    h.finish();
    expect(h.takeOutput().map((r) => r.v)).toEqual([1]);
    expect(h.takeLate()).toEqual([]);
  });

  it('sends records at or behind the watermark to late(), with their key and no missed windows', () => {
    const h = harness(build);
    h.addElement(R('a', 1, 100), 100);
    h.advanceWatermarkTo(50);
    h.addElement(R('a', 2, 50), 50); // t ≤ W: late
    h.addElement(R('b', 3, 49), 49); // late
    h.addElement(R('a', 4, 51), 51); // on time
    h.finish();
    expect(h.takeOutput().map((r) => r.v)).toEqual([4, 1]);
    expect(h.takeLate()).toEqual([
      { value: R('a', 2, 50), timestamp: 50, key: 'a', missedWindows: [] },
      { value: R('b', 3, 49), timestamp: 49, key: 'b', missedWindows: [] },
    ]);
    expect(h.summary().operators['sort']).toMatchObject({ in: 4, out: 2, accepted: 2, tooLate: 2 });
  });

  it('in a pipeline: late() of a sorted stream is routable, and output is in timestamp order', async () => {
    const p = pipeline();
    const sorted: number[] = [];
    const late: LateRecord<Rec, string>[] = [];
    const script = TestStream.create<Rec>()
      .addElements({ value: R('a', 1, 5), timestamp: 5 }, { value: R('a', 2, 3), timestamp: 3 }, { value: R('a', 3, 4), timestamp: 4 })
      .advanceWatermarkTo(4)
      .addElements({ value: R('a', 4, 2), timestamp: 2 }, { value: R('a', 5, 7), timestamp: 7 }, { value: R('a', 6, 6), timestamp: 6 })
      .advanceWatermarkToInfinity();
    const s = p.source(script, { name: 'script' }).keyBy((r) => r.k).sortByEventTime({ name: 'sort' });
    s.map((r) => r.ts).sink(collect(sorted));
    s.late().sink(collect(late));
    const summary = await p.run();
    expect(sorted).toEqual([3, 4, 5, 6, 7]);
    expect(late.map((l) => l.timestamp)).toEqual([2]);
    expect(summary.operators['sort']).toMatchObject({ in: 6, out: 5, accepted: 5, tooLate: 1 });
  });
});
