/**
 * Watermarks across a union (the minimum of the inputs), idleness driven by the injected clock,
 * sources without a watermark strategy, and periodic generators on a ManualClock.
 */
import { describe, expect, it } from 'vitest';
import {
  ManualClock,
  Pipeline,
  boundedOutOfOrderness,
  collect,
  count,
  fromArray,
  fromAsyncIterable,
  tumbling,
  watermarkStrategy,
  type LateRecord,
  type WindowResult,
} from 'tidemark';
import { TestStream } from 'tidemark/testing';
import { type ProbeEvent, deferred, tap, waitFor, watermarksOf } from './helpers.js';

type Ev = { src: string; ts: number };

/**
 * Checks that union watermarks (tag U) are exactly the successive minima of the inputs'
 * watermarks (each input's watermarks taken one at a time, in the order its probe saw them), and
 * never ahead of the minimum of what the inputs have reached.
 */
function expectUnionIsMin(log: readonly ProbeEvent[], inputs: readonly string[]): void {
  const latest = new Map<string, number>(inputs.map((t) => [t, -Infinity]));
  const expected: number[] = [];
  let min = -Infinity;
  const seen: number[] = [];
  for (const e of log) {
    if (e.kind !== 'watermark') continue;
    if (latest.has(e.tag)) {
      latest.set(e.tag, e.w);
      const m = Math.min(...latest.values());
      if (m > min) {
        min = m;
        expected.push(m);
      }
    } else if (e.tag === 'U') {
      expect(e.w, 'union watermark must not pass the minimum of its inputs').toBeLessThanOrEqual(Math.min(...latest.values()));
      seen.push(e.w);
    }
  }
  expect(seen).toEqual(expected);
}

describe('union: the output watermark is the minimum of the inputs', () => {
  it('two scripted inputs', async () => {
    const p = new Pipeline({ clock: new ManualClock() });
    const log: ProbeEvent[] = [];
    const a = p.source(TestStream.create<Ev>().advanceWatermarkTo(5_000).advanceWatermarkTo(6_000).advanceWatermarkTo(9_000), { name: 'A' });
    const b = p.source(TestStream.create<Ev>().advanceWatermarkTo(2_000).advanceWatermarkTo(3_000).advanceWatermarkTo(7_000).advanceWatermarkTo(7_500), { name: 'B' });
    tap(a, 'A', log);
    tap(b, 'B', log);
    tap(a.union(b), 'U', log).sink(collect([]));
    await p.run();
    expectUnionIsMin(log, ['A', 'B']);
    const u = watermarksOf(log, 'U');
    expect(u.at(-1)).toBe(Infinity);
    expect(u).not.toContain(5_000); // never the larger input
    expect(u).not.toContain(9_000);
  });

  it('three inputs from generated records', async () => {
    const p = new Pipeline({ clock: new ManualClock(), batchSize: 3 });
    const log: ProbeEvent[] = [];
    const mk = (name: string, step: number) =>
      p.source(fromArray(Array.from({ length: 30 }, (_, i) => ({ src: name, ts: i * step }))), { timestamp: (e) => e.ts, watermark: boundedOutOfOrderness(5), name });
    const [a, b, c] = [mk('A', 10), mk('B', 37), mk('C', 3)];
    tap(a, 'A', log);
    tap(b, 'B', log);
    tap(c, 'C', log);
    tap(a.union(b, c), 'U', log).sink(collect([]));
    await p.run();
    expectUnionIsMin(log, ['A', 'B', 'C']);
  });

  it('observed through windows: a slow input keeps the fast input from making its records late', async () => {
    const p = new Pipeline({ clock: new ManualClock() });
    const out: WindowResult<string, number>[] = [];
    const late: LateRecord<Ev, string>[] = [];
    const fast = TestStream.create<Ev>()
      .addElements({ value: { src: 'fast', ts: 1_500 }, timestamp: 1_500 })
      .advanceWatermarkTo(10_000)
      .addElements({ value: { src: 'fast', ts: 10_500 }, timestamp: 10_500 });
    const slow = TestStream.create<Ev>()
      .advanceWatermarkTo(999)
      .advanceWatermarkTo(1_000)
      .addElements({ value: { src: 'slow', ts: 1_200 }, timestamp: 1_200 }, { value: { src: 'slow', ts: 1_999 }, timestamp: 1_999 })
      .advanceWatermarkTo(3_000);
    const w = p.source(fast, { name: 'fast' }).union(p.source(slow, { name: 'slow' }))
      .keyBy(() => 'k').window(tumbling(1_000), { name: 'w' }).aggregate(count());
    w.sink(collect(out));
    w.late().sink(collect(late));
    const summary = await p.run();
    expect(late).toEqual([]);
    expect(out.map((r) => [r.window.start, r.value, r.pane.timing])).toEqual([
      [1_000, 3, 'on-time'],
      [10_000, 1, 'on-time'],
    ]);
    expect(summary.operators['w']).toMatchObject({ in: 4, accepted: 4, tooLate: 0 });
  });
});

describe('idleness (processing time from the injected clock)', () => {
  it('a stalled input with idleTimeout stops holding back the union once the clock passes the timeout', async () => {
    const clock = new ManualClock(0);
    const p = new Pipeline({ clock });
    const gateA = deferred();
    const gateB = deferred();
    let aDone = false;
    async function* genA(): AsyncGenerator<Ev> {
      yield { src: 'A', ts: 1_000 };
      await gateA.promise;
      yield { src: 'A', ts: 2_500 }; // behind the union watermark by now: late
      yield { src: 'A', ts: 5_000 };
      aDone = true;
    }
    async function* genB(): AsyncGenerator<Ev> {
      for (const ts of [500, 1_500, 2_600, 3_500]) yield { src: 'B', ts };
      await gateB.promise;
    }
    const log: ProbeEvent[] = [];
    const a = tap(p.source(fromAsyncIterable(genA()), { timestamp: (e) => e.ts, watermark: boundedOutOfOrderness(0, { idleTimeout: 1_000 }), name: 'A' }), 'A', log);
    const b = tap(p.source(fromAsyncIterable(genB()), { timestamp: (e) => e.ts, watermark: boundedOutOfOrderness(0), name: 'B' }), 'B', log);
    const out: WindowResult<string, number>[] = [];
    const late: LateRecord<Ev, string>[] = [];
    const w = tap(a.union(b), 'U', log).keyBy(() => 'k').window(tumbling(1_000), { name: 'w' }).aggregate(count());
    w.sink(collect(out));
    w.late().sink(collect(late));
    const run = p.run();

    await waitFor(() => watermarksOf(log, 'A').includes(999) && watermarksOf(log, 'B').includes(3_499), 'both sources reading');
    const fired = () => out.map((r) => [r.window.start, r.value]);
    // A holds the union back at 999: only [0, 1000) has fired.
    const before = watermarksOf(log, 'U');
    expect(before.at(-1)).toBe(999);
    expect(fired()).toEqual([[0, 1]]);

    clock.advanceTo(999); // not yet idle
    expect(watermarksOf(log, 'U')).toEqual(before);
    expect(fired()).toEqual([[0, 1]]);

    clock.advanceTo(1_000); // A idle for its timeout: B alone drives the union
    expect(watermarksOf(log, 'U')).toEqual([...before, 3_499]);
    expect(fired()).toEqual([[0, 1], [1_000, 2], [2_000, 1]]);

    gateA.resolve();
    await waitFor(() => aDone && log.some((e) => e.tag === 'A' && e.kind === 'record' && e.t === 5_000), 'A resumed');
    // A resumed behind the output: its 2500 is late; the union watermark did not go back
    expect(late.map((l) => [l.value.src, l.timestamp, l.missedWindows])).toEqual([['A', 2_500, [{ start: 2_000, end: 3_000 }]]]);
    const u = watermarksOf(log, 'U');
    expect(u.every((x, i) => i === 0 || x > (u[i - 1] as number))).toBe(true);

    gateB.resolve();
    const summary = await run;
    expect(fired()).toEqual([[0, 1], [1_000, 2], [2_000, 1], [3_000, 1], [5_000, 1]]);
    expect(summary.operators['w']).toMatchObject({ in: 7, accepted: 6, tooLate: 1 });
  });

  it('without an idleTimeout a stalled input holds the union back however far the clock moves', async () => {
    const clock = new ManualClock(0);
    const p = new Pipeline({ clock });
    const gate = deferred();
    async function* stalled(): AsyncGenerator<Ev> {
      yield { src: 'A', ts: 1_000 };
      await gate.promise;
    }
    const log: ProbeEvent[] = [];
    const a = tap(p.source(fromAsyncIterable(stalled()), { timestamp: (e) => e.ts, watermark: boundedOutOfOrderness(0), name: 'A' }), 'A', log);
    const b = tap(p.source(fromArray([{ src: 'B', ts: 9_000 }]), { timestamp: (e) => e.ts, watermark: boundedOutOfOrderness(0), name: 'B' }), 'B', log);
    tap(a.union(b), 'U', log).sink(collect([]));
    const run = p.run();
    await waitFor(() => watermarksOf(log, 'A').includes(999) && watermarksOf(log, 'B').includes(Infinity), 'both sources read');
    clock.advanceTo(10_000_000);
    expect(watermarksOf(log, 'U')).toEqual([999]);
    gate.resolve();
    await run;
    expect(watermarksOf(log, 'U')).toEqual([999, Infinity]);
  });
});

describe('a source without a watermark option', () => {
  it('emits no watermark until its end: windows fire only at end of input, all on time', async () => {
    const p = new Pipeline({ clock: new ManualClock() });
    const gate = deferred();
    async function* gen(): AsyncGenerator<Ev> {
      for (let i = 0; i < 5; i++) yield { src: 's', ts: i * 1_000 + 10 };
      await gate.promise;
      yield { src: 's', ts: 500 }; // far behind the others, yet not late: no watermark passed it
    }
    const log: ProbeEvent[] = [];
    const out: WindowResult<string, number>[] = [];
    const late: unknown[] = [];
    const w = tap(p.source(fromAsyncIterable(gen()), { timestamp: (e) => e.ts, name: 's' }), 's', log)
      .keyBy(() => 'k').window(tumbling(1_000)).aggregate(count());
    w.sink(collect(out));
    w.late().sink(collect(late));
    const run = p.run();
    await waitFor(() => log.filter((e) => e.kind === 'record').length === 5, 'five records read');
    expect(watermarksOf(log, 's')).toEqual([]);
    expect(out).toEqual([]);
    gate.resolve();
    const summary = await run;
    expect(watermarksOf(log, 's')).toEqual([Infinity]);
    expect(late).toEqual([]);
    expect(out.map((r) => [r.window.start, r.value, r.pane.timing])).toEqual([
      [0, 2, 'on-time'],
      [1_000, 1, 'on-time'],
      [2_000, 1, 'on-time'],
      [3_000, 1, 'on-time'],
      [4_000, 1, 'on-time'],
    ]);
    expect(summary.sources['s']?.watermark).toBe(Infinity);
  });
});

describe('a periodic watermark generator runs on the injected clock', () => {
  it('onPeriodic is called every period of processing time', async () => {
    const clock = new ManualClock(0);
    const p = new Pipeline({ clock });
    const gate = deferred();
    async function* gen(): AsyncGenerator<Ev> {
      yield { src: 's', ts: 0 };
      await gate.promise;
    }
    const calls: number[] = [];
    const log: ProbeEvent[] = [];
    tap(p.source(fromAsyncIterable(gen()), {
      timestamp: (e) => e.ts,
      watermark: watermarkStrategy<Ev>(() => ({
        onRecord: () => -Infinity,
        onPeriodic: (now) => {
          calls.push(now);
          return now * 10;
        },
      }), { period: 'PT0.1S' }),
      name: 's',
    }), 's', log).sink(collect([]));
    const run = p.run();
    await waitFor(() => log.some((e) => e.kind === 'record'), 'record read');
    expect(calls).toEqual([]);
    clock.advanceTo(350);
    expect(calls).toEqual([100, 200, 300]);
    expect(watermarksOf(log, 's')).toEqual([1_000, 2_000, 3_000]);
    gate.resolve();
    await run;
    expect(watermarksOf(log, 's').at(-1)).toBe(Infinity);
  });
});
