/**
 * Capped sessions (`session(gap, { maxSessionLength })`): no session crosses a multiple of it, so
 * a key that is never quiet still has its sessions fired and its state freed. (The property tests
 * in spec/properties cover capped sessions against the reference model under reordering.)
 */
import { describe, expect, it } from 'vitest';
import { PlanError, count, session } from 'tidemark';
import { harness } from 'tidemark/testing';
import { Stream } from 'tidemark';

describe('session maxSessionLength', () => {
  it('cuts continuous activity into sessions at multiples of maxLength, firing each as the watermark passes', () => {
    const h = harness((s: Stream<{ k: string }>) => s.keyBy((r) => r.k).window(session(10, { maxSessionLength: 100 }), { name: 'w' }).aggregate(count()));
    // one record every 5 ms from 0 to 245: never quiet for 10 ms
    for (let t = 0; t < 250; t += 5) h.addElement({ k: 'a' }, t);
    h.advanceWatermarkTo(199);
    const fired = h.takeOutput().map((r) => [r.window.start, r.window.end, r.value]);
    expect(fired).toEqual([[0, 100, 20], [100, 200, 20]]);
    expect(h.summary().operators['w']?.['openWindows']).toBe(1);
    h.finish();
    expect(h.takeOutput().map((r) => [r.window.start, r.window.end, r.value])).toEqual([[200, 255, 10]]);
  });

  it('is validated when the pipeline is built', () => {
    expect(() => session(10, { maxSessionLength: 10 })).toThrow(PlanError);
    expect(() => session(10, { maxSessionLength: 10 })).toThrow(/tidemark.session: maxSessionLength \(10 ms\) must be larger than the gap \(10 ms\)/);
    expect(() => session(10, { maxSessionLength: -1 })).toThrow(/maxSessionLength must be positive/);
  });
});
