/**
 * The harness: the test drives the watermark and processing time by hand, takes what came out
 * since the last take, and may await every call.
 */
import { describe, expect, it } from 'vitest';
import { collect, count, session, sum, tumbling, type LateRecord, type Stream, type WindowResult } from 'tidemark';
import { harness } from 'tidemark/testing';

type Ev = { k: string; v: number };
const perKeySum = (input: Stream<Ev>) => input.keyBy((r) => r.k).window(tumbling(3_000), { name: 'w' }).aggregate(sum((r) => r.v));

describe('harness', () => {
  it('the example from the issue', () => {
    const h = harness(perKeySum);
    h.addElement({ k: 'a', v: 2 }, 1_000);
    h.advanceWatermarkTo(2_999);
    expect(h.takeOutput()).toEqual([{ key: 'a', window: { start: 0, end: 3_000 }, value: 2, pane: { timing: 'on-time', index: 0, final: true } }]);
  });

  it('takeOutput returns what was emitted since the last take, and empties', () => {
    const h = harness(perKeySum);
    h.addElement({ k: 'a', v: 1 }, 0);
    h.addElement({ k: 'b', v: 5 }, 10);
    expect(h.takeOutput()).toEqual([]);
    h.advanceWatermarkTo(2_998);
    expect(h.takeOutput()).toEqual([]);
    h.advanceWatermarkTo(2_999);
    const first = h.takeOutput();
    expect(first.map((r) => [r.key, r.value])).toEqual(expect.arrayContaining([['a', 1], ['b', 5]]));
    expect(first).toHaveLength(2);
    expect(h.takeOutput()).toEqual([]);
    h.addElement({ k: 'a', v: 7 }, 3_000);
    h.finish();
    expect(h.takeOutput().map((r) => [r.key, r.window.start, r.value])).toEqual([['a', 3_000, 7]]);
    expect(h.takeOutput()).toEqual([]);
  });

  it('takeOutputWithTimestamps: a window result carries timestamp end − 1', () => {
    const h = harness((input: Stream<Ev>) => input.keyBy((r) => r.k).window(session(100)).aggregate(count()));
    h.addElement({ k: 'a', v: 0 }, -500);
    h.addElement({ k: 'a', v: 0 }, -450);
    h.addElement({ k: 'b', v: 0 }, 1_000);
    h.finish();
    const out = h.takeOutputWithTimestamps();
    expect(out).toHaveLength(2);
    for (const { value, timestamp } of out) expect(timestamp).toBe(value.window.end - 1);
    expect(out.map((o) => o.timestamp).sort((a, b) => a - b)).toEqual([-351, 1_099]);
    expect(h.takeOutputWithTimestamps()).toEqual([]);
  });

  it('non-window outputs keep the record timestamps', () => {
    const h = harness((input: Stream<Ev>) => input.map((r) => r.v * 2));
    h.addElement({ k: 'a', v: 1 }, 42);
    h.addElements({ value: { k: 'a', v: 2 }, timestamp: 7 }, { value: { k: 'a', v: 3 }, timestamp: 8 });
    expect(h.takeOutputWithTimestamps()).toEqual([
      { value: 2, timestamp: 42 },
      { value: 4, timestamp: 7 },
      { value: 6, timestamp: 8 },
    ]);
  });

  it('processing time starts at 0, or at the processingTime option; advanceProcessingTimeTo is absolute', () => {
    expect(harness(perKeySum).clock.now()).toBe(0);
    const h = harness(perKeySum, { processingTime: 1_700_000_000_000 });
    expect(h.clock.now()).toBe(1_700_000_000_000);
    h.advanceProcessingTimeTo(1_700_000_060_000);
    expect(h.clock.now()).toBe(1_700_000_060_000);
    h.advanceProcessingTimeTo(1_700_000_060_000);
    expect(h.clock.now()).toBe(1_700_000_060_000);
  });

  it('processing time does not move the watermark (no generator runs)', () => {
    const h = harness(perKeySum);
    h.addElement({ k: 'a', v: 1 }, 0);
    h.addElement({ k: 'a', v: 1 }, 1_000_000);
    h.advanceProcessingTimeTo(10_000_000);
    expect(h.takeOutput()).toEqual([]);
    expect(h.summary().sources['input']?.watermark).toBe(-Infinity);
  });

  it('awaiting every call works', async () => {
    const h = harness(perKeySum, { processingTime: 5 });
    await h.addElement({ k: 'a', v: 1 }, 100);
    await h.addElement({ k: 'a', v: 2 }, 200);
    await h.advanceProcessingTimeTo(60_000);
    await h.advanceWatermarkTo(2_999);
    expect(await h.takeOutput()).toEqual([{ key: 'a', window: { start: 0, end: 3_000 }, value: 3, pane: { timing: 'on-time', index: 0, final: true } }]);
    await h.addElement({ k: 'a', v: 9 }, 50); // too late
    await h.finish();
    expect(await h.takeOutput()).toEqual([]);
    const late: LateRecord<unknown, unknown>[] = await h.takeLate();
    expect(late).toEqual([{ value: { k: 'a', v: 9 }, timestamp: 50, key: 'a', missedWindows: [{ start: 0, end: 3_000 }] }]);
    expect(await h.takeDeadLetters()).toEqual([]);
    expect((await h.summary()).operators['w']).toMatchObject({ in: 3, accepted: 2, tooLate: 1 });
  });

  it('takeLate empties; late records carry key and missed windows', () => {
    const h = harness(perKeySum);
    h.advanceWatermarkTo(10_000);
    h.addElement({ k: 'x', v: 1 }, 5);
    expect(h.takeLate()).toHaveLength(1);
    expect(h.takeLate()).toEqual([]);
  });

  it('output within one step comes in the same order every time', () => {
    const run = () => {
      const h = harness(perKeySum);
      for (let i = 0; i < 50; i++) h.addElement({ k: `k${(i * 7) % 13}`, v: i }, (i * 997) % 9_000);
      h.finish();
      return h.takeOutput();
    };
    const a = run();
    expect(a.length).toBeGreaterThan(13);
    expect(run()).toEqual(a);
  });

  it('summary conservation in the harness', () => {
    const h = harness(perKeySum);
    h.addElement({ k: 'a', v: 1 }, 10);
    h.advanceWatermarkTo(5_000);
    h.addElement({ k: 'a', v: 1 }, 20);
    h.addElement({ k: 'a', v: 1 }, 5_001);
    h.finish();
    const s = h.summary();
    expect(s.sources['input']).toMatchObject({ read: 3, emitted: 3, deadLettered: 0 });
    const w = s.operators['w'] as Record<string, number>;
    expect(w['in']).toBe((w['accepted'] ?? NaN) + (w['tooLate'] ?? NaN) + (w['deadLettered'] ?? NaN));
    expect(s.lateRecords).toBe(1);
  });

  it('build must return a stream of the input pipeline', () => {
    expect(() => harness(() => 42 as never)).toThrow(TypeError);
  });

  it('the harness output can be combined with sinks inside build', () => {
    const side: WindowResult<string, number>[] = [];
    const h = harness((input: Stream<Ev>) => perKeySum(input).sink(collect(side)));
    h.addElement({ k: 'a', v: 3 }, 0);
    h.finish();
    expect(h.takeOutput()).toEqual(side);
    expect(side).toHaveLength(1);
  });
});
