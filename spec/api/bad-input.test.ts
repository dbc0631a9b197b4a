/**
 * Bad input never stops a run and is never dropped silently: bad timestamps and invalid keys go
 * to dead letters with the reason; timestamps far ahead of the real-time clock are processed but
 * do not advance the watermark.
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_TIMESTAMP,
  ManualClock,
  Pipeline,
  boundedOutOfOrderness,
  collect,
  count,
  fromArray,
  isValidTimestamp,
  tumbling,
  type Cancel,
  type Clock,
  type DeadLetter,
  type Duration,
  type LateRecord,
  type Stream,
  type WindowResult,
} from 'tidemark';
import { harness } from 'tidemark/testing';
import { type ProbeEvent, tap, watermarksOf } from './helpers.js';

type Rec = { id: string; k: string; ts: unknown; boom?: true };

const good = (id: string, ts: number): Rec => ({ id, k: 'a', ts });

describe('invalid timestamps go to the source dead letters', () => {
  const bad: [Rec, RegExp][] = [
    [{ id: 'nan', k: 'a', ts: NaN }, /NaN.*finite|finite.*NaN/],
    [{ id: 'inf', k: 'a', ts: Infinity }, /Infinity.*not finite/],
    [{ id: 'ninf', k: 'a', ts: -Infinity }, /not finite/],
    [{ id: 'frac', k: 'a', ts: 1.5 }, /1\.5.*integer/],
    [{ id: 'str', k: 'a', ts: '5' }, /string/],
    [{ id: 'null', k: 'a', ts: null }, /null/],
    [{ id: 'undef', k: 'a', ts: undefined }, /undefined/],
    [{ id: 'big', k: 'a', ts: 9e15 }, /9000000000000000.*8\.64e15/],
    [{ id: 'small', k: 'a', ts: -9e15 }, /8\.64e15/],
    [{ id: 'bigint', k: 'a', ts: 5n }, /bigint/],
    [{ id: 'throws', k: 'a', ts: 0, boom: true }, /extractor threw.*bad device clock/],
  ];
  // the extremes of the valid range: the smallest first (a watermark of 0 would make it late later)
  const records: Rec[] = [good('min', -MAX_TIMESTAMP), good('g1', 1000), ...bad.map(([r]) => r), good('g2', 2000), good('max', MAX_TIMESTAMP)];
  const timestamp = (r: Rec): number => {
    if (r.boom === true) throw new Error('bad device clock');
    return r.ts as number;
  };

  it.each([1, 3, 1024])('records the reason, keeps running, and read = emitted + deadLettered (batchSize %d)', async (batchSize) => {
    const p = new Pipeline({ clock: new ManualClock(), batchSize });
    const dead: DeadLetter[] = [];
    const all: DeadLetter[] = [];
    const results: WindowResult<string, number>[] = [];
    const clicks = p.source(fromArray(records), { timestamp, watermark: boundedOutOfOrderness(0), name: 'clicks' });
    clicks.deadLetters().sink(collect(dead));
    p.deadLetters().sink(collect(all));
    clicks.keyBy((r) => r.k).window(tumbling(1000), { name: 'w' }).aggregate(count()).sink(collect(results));
    const summary = await p.run();

    expect(dead.map((d) => (d.value as Rec).id)).toEqual(bad.map(([r]) => r.id));
    dead.forEach((d, i) => {
      expect(d.operator).toBe('clicks');
      expect(d.reason).toMatch((bad[i] as [Rec, RegExp])[1]);
      expect(d.value).toBe((bad[i] as [Rec, RegExp])[0]); // the record itself, not a copy
    });
    expect(all).toEqual(dead);
    expect(summary.sources['clicks']).toMatchObject({ read: records.length, emitted: 4, deadLettered: bad.length, watermark: Infinity });
    const src = summary.sources['clicks'];
    expect(src?.read).toBe((src?.emitted ?? NaN) + (src?.deadLettered ?? NaN));
    expect(summary.deadLetters).toBe(bad.length);
    // the good records still made it through, including both extremes of the valid range
    expect(results.map((r) => r.window.start).sort((a, b) => a - b)).toEqual([-MAX_TIMESTAMP, 1000, 2000, MAX_TIMESTAMP]);
    expect(summary.operators['w']).toMatchObject({ in: 4, accepted: 4, tooLate: 0 });
  });

  it('isValidTimestamp agrees on the boundaries', () => {
    expect(isValidTimestamp(MAX_TIMESTAMP)).toBe(true);
    expect(isValidTimestamp(-MAX_TIMESTAMP)).toBe(true);
    expect(isValidTimestamp(MAX_TIMESTAMP + 1)).toBe(false);
    expect(isValidTimestamp(-0)).toBe(true);
    expect(isValidTimestamp(1.5)).toBe(false);
    expect(isValidTimestamp('5')).toBe(false);
  });

  it('a bad timestamp does not disturb the watermark', async () => {
    const p = new Pipeline({ clock: new ManualClock() });
    const log: ProbeEvent[] = [];
    tap(p.source(fromArray<Rec>([good('a', 100), { id: 'x', k: 'a', ts: 9e15 }, { id: 'y', k: 'a', ts: NaN }, good('b', 200)]), {
      timestamp: (r) => r.ts as number,
      watermark: boundedOutOfOrderness(10),
    }), 'src', log);
    await p.run();
    expect(watermarksOf(log, 'src')).toEqual([89, 189, Infinity]);
  });
});

describe('invalid keys go to the keyBy dead letters', () => {
  it('objects, undefined, null, functions and arrays of non-primitives are rejected with a reason', async () => {
    type K = { id: number; key: unknown };
    const recs: K[] = [
      { id: 1, key: 'ok' },
      { id: 2, key: { user: 'u' } },
      { id: 3, key: undefined },
      { id: 4, key: null },
      { id: 5, key: ['u', { page: 1 }] },
      { id: 6, key: ['u', 3] },
      { id: 7, key: 7n },
      { id: 8, key: true },
      { id: 9, key: Symbol('s') },
    ];
    const p = new Pipeline({ clock: new ManualClock() });
    const keyedDead: DeadLetter[] = [];
    const all: DeadLetter[] = [];
    const out: WindowResult<unknown, number>[] = [];
    const keyed = p.source(fromArray(recs), { timestamp: (r) => r.id, name: 'src' }).keyBy((r) => r.key as string, { name: 'byKey' });
    keyed.deadLetters().sink(collect(keyedDead));
    p.deadLetters().sink(collect(all));
    keyed.window(tumbling(100)).aggregate(count()).sink(collect(out));
    const summary = await p.run();
    expect(keyedDead.map((d) => (d.value as K).id)).toEqual([2, 3, 4, 5, 9]);
    for (const d of keyedDead) {
      expect(d.operator).toBe('byKey');
      expect(d.reason).toMatch(/key/);
      expect(d.timestamp).toBe((d.value as K).id);
    }
    expect(keyedDead[0]?.reason).toMatch(/object/);
    expect(keyedDead[1]?.reason).toMatch(/undefined/);
    expect(keyedDead[2]?.reason).toMatch(/null/);
    expect(keyedDead[3]?.reason).toMatch(/element 1/);
    expect(all).toEqual(keyedDead);
    expect(out.map((r) => r.key)).toEqual(expect.arrayContaining(['ok', ['u', 3], 7n, true]));
    expect(out).toHaveLength(4);
    expect(summary.operators['byKey']).toMatchObject({ in: 9, out: 4, deadLettered: 5 });
  });
});

describe('p.deadLetters() collects from every node', () => {
  it('source, keyBy, map with onError dead-letter and a window — each tagged with its operator', async () => {
    type E = { ts: unknown; key?: unknown; v: number };
    const p = new Pipeline({ clock: new ManualClock() });
    const all: DeadLetter[] = [];
    p.deadLetters().sink(collect(all));
    const a = p.source(fromArray<E>([{ ts: 'x', v: 0 }, { ts: 1, v: 1 }, { ts: 2, v: -1 }, { ts: 3, key: {}, v: 3 }, { ts: 4, v: 9 }]), {
      timestamp: (e) => e.ts as number,
      name: 'a',
    });
    const b = p.source(fromArray<E>([{ ts: null, v: 0 }, { ts: 5, v: 5 }]), { timestamp: (e) => e.ts as number, name: 'b' });
    a.union(b)
      .map((e) => {
        if (e.v < 0) throw new Error('negative');
        return e;
      }, { name: 'check', onError: 'dead-letter' })
      .keyBy((e) => (e.key ?? 'k') as string, { name: 'key' })
      .window(tumbling(10), { name: 'win', onError: 'dead-letter' })
      .aggregate({
        create: () => 0,
        add: (acc: number, e: E) => {
          if (e.v === 9) throw new Error('nine');
          return acc + e.v;
        },
        merge: (x: number, y: number) => x + y,
        result: (x: number) => x,
      })
      .sink(collect([]));
    const summary = await p.run();
    const byOp = (op: string) => all.filter((d) => d.operator === op).map((d) => d.value as E);
    expect(byOp('a').map((e) => e.ts)).toEqual(['x']);
    expect(byOp('b').map((e) => e.ts)).toEqual([null]);
    expect(byOp('check').map((e) => e.ts)).toEqual([2]);
    expect(byOp('key').map((e) => e.ts)).toEqual([3]);
    expect(byOp('win').map((e) => e.ts)).toEqual([4]);
    expect(all).toHaveLength(5);
    expect(summary.deadLetters).toBe(5);
    expect(all.find((d) => d.operator === 'check')?.reason).toMatch(/negative/);
    expect(all.find((d) => d.operator === 'win')?.reason).toMatch(/nine/);
    expect(summary.operators['win']).toMatchObject({ in: 3, accepted: 2, tooLate: 0, deadLettered: 1 });
  });

  it('the harness takes dead letters too', () => {
    const h = harness((input: Stream<{ k: unknown }>) => input.keyBy((r) => r.k as string));
    h.addElement({ k: 'a' }, 1);
    h.addElement({ k: [{}] }, 2);
    expect(h.takeOutput()).toEqual([{ k: 'a' }]);
    const dl = h.takeDeadLetters();
    expect(dl).toHaveLength(1);
    expect(dl[0]).toMatchObject({ value: { k: [{}] }, timestamp: 2 });
    expect(dl[0]?.reason).toMatch(/key/);
    expect(h.takeDeadLetters()).toEqual([]);
  });
});

/** A clock that claims to follow real time but stands still; timers never fire. */
class FrozenRealClock implements Clock {
  readonly realTime = true;
  constructor(private readonly t: number) {}
  now(): number {
    return this.t;
  }
  schedule(_at: number, _callback: () => void): Cancel {
    return () => undefined;
  }
}

describe('maxFutureSkew', () => {
  const NOW = 1_700_000_000_000;
  const MIN = 60_000;
  type T = { id: string; ts: number };
  // `ahead` is 10 minutes ahead of the clock; the others are around NOW, slightly out of order.
  const recs: T[] = [
    { id: 'r1', ts: NOW - 5_000 },
    { id: 'ahead', ts: NOW + 10 * MIN },
    { id: 'r2', ts: NOW - 4_000 },
    { id: 'r3', ts: NOW - 4_500 },
    { id: 'r4', ts: NOW - 1_000 },
  ];

  async function run(clock: Clock, pipelineSkew?: Duration | false, sourceSkew?: Duration | false) {
    const p = new Pipeline(pipelineSkew === undefined ? { clock } : { clock, maxFutureSkew: pipelineSkew });
    const out: WindowResult<string, number>[] = [];
    const late: LateRecord<T, string>[] = [];
    const log: ProbeEvent[] = [];
    const src = p.source(fromArray(recs), {
      timestamp: (r) => r.ts,
      watermark: boundedOutOfOrderness(1_000),
      name: 'devices',
      ...(sourceSkew === undefined ? {} : { maxFutureSkew: sourceSkew }),
    });
    const w = tap(src, 'src', log).keyBy(() => 'all').window(tumbling(1_000), { name: 'w' }).aggregate(count());
    w.sink(collect(out));
    w.late().sink(collect(late));
    const summary = await p.run();
    return { out, late, summary, watermarks: watermarksOf(log, 'src') };
  }

  it('with a real-time clock, a record 10 minutes ahead is processed but does not advance the watermark', async () => {
    const { out, late, summary, watermarks } = await run(new FrozenRealClock(NOW));
    expect(late).toEqual([]); // r3 would be late had `ahead` moved the watermark
    expect(summary.sources['devices']).toMatchObject({ read: 5, emitted: 5, deadLettered: 0, futureSkewed: 1 });
    expect(summary.operators['w']).toMatchObject({ in: 5, accepted: 5, tooLate: 0 });
    // processed: its window exists, with its count
    expect(out.find((r) => r.window.start === NOW + 10 * MIN)?.value).toBe(1);
    expect(out.reduce((n, r) => n + r.value, 0)).toBe(5);
    // the watermark followed the other records only
    expect(watermarks.filter((w) => w !== Infinity).every((w) => w <= NOW - 1_000 - 1_001)).toBe(true);
    expect(watermarks).toContain(NOW - 1_000 - 1_001);
  });

  it('the default limit is 5 minutes: 4 minutes ahead still advances the watermark', async () => {
    const p = new Pipeline({ clock: new FrozenRealClock(NOW) });
    const late: unknown[] = [];
    const w = p.source(fromArray([{ ts: NOW + 4 * MIN }, { ts: NOW }]), { timestamp: (r) => r.ts, watermark: boundedOutOfOrderness(0), name: 's' })
      .keyBy(() => 1).window(tumbling(1000)).aggregate(count());
    w.late().sink(collect(late));
    const summary = await p.run();
    expect(summary.sources['s']?.futureSkewed).toBe(0);
    expect(late).toHaveLength(1);
  });

  it('is configurable per pipeline and per source, and can be turned off', async () => {
    expect((await run(new FrozenRealClock(NOW), 'PT11M')).summary.sources['devices']?.futureSkewed).toBe(0);
    expect((await run(new FrozenRealClock(NOW), 'PT11M', 'PT1M')).summary.sources['devices']?.futureSkewed).toBe(1);
    const off = await run(new FrozenRealClock(NOW), false);
    expect(off.summary.sources['devices']?.futureSkewed).toBe(0);
    expect(off.late.map((l) => l.value.id)).toEqual(['r2', 'r3', 'r4']);
  });

  it('with a ManualClock the guard is off by default: the record ahead advances the watermark', async () => {
    const { late, summary } = await run(new ManualClock(NOW));
    expect(summary.sources['devices']?.futureSkewed).toBe(0);
    expect(late.map((l) => l.value.id)).toEqual(['r2', 'r3', 'r4']);
    expect(summary.operators['w']).toMatchObject({ in: 5, accepted: 2, tooLate: 3 });
  });

  it('with a ManualClock the guard applies when configured explicitly (the issue: "off unless configured")', async () => {
    const pipelineLevel = await run(new ManualClock(NOW), 'PT5M');
    expect(pipelineLevel.summary.sources['devices']?.futureSkewed).toBe(1);
    expect(pipelineLevel.late).toEqual([]);
    const sourceLevel = await run(new ManualClock(NOW), undefined, 'PT5M');
    expect(sourceLevel.summary.sources['devices']?.futureSkewed).toBe(1);
    expect(sourceLevel.late).toEqual([]);
  });
});
