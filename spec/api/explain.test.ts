/**
 * explain() and whyNotFired(): the plan with live watermarks, and for a key and window the state
 * held and the input or source partition holding the watermark back (and since when).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock, Pipeline, type Source, type SourceChunk, type Stream, collect, count, monotonic, tumbling } from 'tidemark';
import { harness } from 'tidemark/testing';

describe('explain', () => {
  it('shows the plan before a run and watermarks and counters during one', () => {
    const h = harness((input: Stream<{ k: string }>) => input.keyBy((r) => r.k, { name: 'byK' }).window(tumbling(10), { name: 'counts' }).aggregate(count()));
    h.addElement({ k: 'a' }, 3);
    h.advanceWatermarkTo(5);
    const text = h.explain();
    expect(text).toMatch(/source 'input' — watermark 5/);
    expect(text).toMatch(/window:tumbling 'counts' ← byK — in watermark 5, out 5; records in 1, out 0; accepted 1/);
    const p = new Pipeline({ clock: new ManualClock() });
    p.source({ kind: 'x', providesTimestamps: true, providesWatermarks: true, open: () => ({ next: () => null }) }, { name: 'src' }).sink(collect([]));
    expect(p.explain()).toBe("Pipeline plan (not started):\n  source 'src'\n  sink 'sink#1' ← src");
  });

  it('says which partition holds a window back, and since when', async () => {
    const clock = new ManualClock(1_000);
    let release: (() => void) | undefined;
    const source: Source<{ k: string; ts: number }> = {
      kind: 'two-partitions',
      providesTimestamps: false,
      providesWatermarks: false,
      open() {
        let step = 0;
        return {
          partitions: [0, 1],
          async next(): Promise<SourceChunk<{ k: string; ts: number }> | null> {
            step++;
            if (step === 1) return { kind: 'records', values: [{ k: 'a', ts: 50 }], partition: 0 };
            if (step === 2) return { kind: 'records', values: [{ k: 'a', ts: 4 }], partition: 1 };
            if (step === 3) await new Promise<void>((r) => (release = r));
            return null;
          },
        };
      },
    };
    const p = new Pipeline({ clock });
    p.source(source, { timestamp: (r) => r.ts, watermark: monotonic(), name: 'events' })
      .keyBy((r) => r.k).window(tumbling(10), { name: 'counts' }).aggregate(count()).sink(collect([]));
    const done = p.run();
    for (let i = 0; i < 100 && release === undefined; i++) await new Promise((r) => setImmediate(r));
    const why = p.whyNotFired('a', { start: 0, end: 10 });
    expect(why).toMatch(/'counts': holds state for it in 1 pane\(s\) of 10 ms; it fires when the watermark reaches 9; the input watermark is 3, held back by source 'events' partition 1 at watermark 3 since processing time 1000/);
    expect(p.whyNotFired('b', { start: 0, end: 10 })).toMatch(/no state for key "b"/);
    release?.();
    await done;
  });
});
