/**
 * Golden cases written straight from the time-semantics contract
 * (/work/shared/design/semantics.md) for keyed tumbling, sliding, session and global windows
 * with allowed lateness and accumulating / discarding panes.
 *
 * Every expectation is derived by hand from the contract; the comment on each case names the
 * rule it pins down. Where emission order is not the point, results are compared in a
 * canonical order (see ./helpers.ts).
 */
import { describe, it, expect } from 'vitest';
import { harness } from 'tidemark/testing';
import { tumbling, sliding, session, globalWindow, count, sum, toList } from 'tidemark';
import type { Stream } from 'tidemark';
import { wr, sortRes, sortTs, sortLate } from './helpers.js';

type Rec = { k: string; v: number };
const r = (k: string, v = 1): Rec => ({ k, v });

describe('firing boundaries', () => {
  // semantics.md "Firing and lateness": w = [s, e) fires its on-time pane when W ≥ e − 1.
  it('tumbling: W = e − 2 does not fire, W = e − 1 fires (final, since L = 0)', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(tumbling(1000), { allowedLateness: 0 }).aggregate(sum((x: Rec) => x.v)),
    );
    h.addElement(r('a', 5), 500);
    h.advanceWatermarkTo(998);
    expect(h.takeOutput()).toEqual([]);
    h.advanceWatermarkTo(999);
    expect(h.takeOutput()).toEqual([wr('a', 0, 1000, 5, 'on-time', 0, true)]);
  });

  it('session: [0, 1000) does not fire at W = 998 and fires at W = 999', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(session(1000), { allowedLateness: 0 }).aggregate(count()),
    );
    h.addElement(r('a'), 0);
    h.advanceWatermarkTo(998);
    expect(h.takeOutput()).toEqual([]);
    h.advanceWatermarkTo(999);
    expect(h.takeOutput()).toEqual([wr('a', 0, 1000, 1, 'on-time', 0, true)]);
  });

  it('a record at e − 1 belongs to [s, e); a record at e to the next window', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(tumbling(1000), { allowedLateness: 0 }).aggregate(count()),
    );
    h.addElement(r('a'), 999);
    h.addElement(r('a'), 1000);
    h.advanceWatermarkTo(999);
    expect(h.takeOutput()).toEqual([wr('a', 0, 1000, 1, 'on-time', 0, true)]);
    h.advanceWatermarkTo(1999);
    expect(h.takeOutput()).toEqual([wr('a', 1000, 2000, 1, 'on-time', 0, true)]);
  });
});

describe('window assignment', () => {
  // semantics.md "Session(gap)": proto-windows [t, t + gap) merge only when they strictly
  // overlap, so records exactly `gap` apart are separate sessions; `gap − 1` apart merge.
  it('sessions exactly gap apart stay separate; gap − 1 apart merge', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(session(1000), { allowedLateness: 0 }).aggregate(count()),
    );
    h.addElement(r('a'), 0);
    h.addElement(r('a'), 1000); // exactly gap apart: [0,1000) and [1000,2000) only touch
    h.addElement(r('b'), 0);
    h.addElement(r('b'), 999); // gap − 1 apart: [0,1000) and [999,1999) overlap
    h.addElement(r('c'), 1000); // out of order, still exactly gap apart
    h.addElement(r('c'), 0);
    h.finish();
    expect(sortRes(h.takeOutput())).toEqual(
      sortRes([
        wr('a', 0, 1000, 1, 'on-time', 0, true),
        wr('a', 1000, 2000, 1, 'on-time', 0, true),
        wr('b', 0, 1999, 2, 'on-time', 0, true),
        wr('c', 0, 1000, 1, 'on-time', 0, true),
        wr('c', 1000, 2000, 1, 'on-time', 0, true),
      ]),
    );
  });

  it('sessions merge transitively when a record bridges two of them', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(session(1000), { allowedLateness: 0 }).aggregate(count()),
    );
    h.addElement(r('a'), 0); // [0,1000)
    h.addElement(r('a'), 1500); // [1500,2500)
    h.addElement(r('a'), 800); // [800,1800) overlaps both → [0,2500)
    h.finish();
    expect(h.takeOutput()).toEqual([wr('a', 0, 2500, 3, 'on-time', 0, true)]);
  });

  // semantics.md "Tumbling": r = (t − offset) % size; start = r < 0 ? t − (r + size) : t − r.
  it('negative timestamps: tumbling start for t = −1 with size 1000 is −1000', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(tumbling(1000), { allowedLateness: 0 }).aggregate(count()),
    );
    h.addElement(r('a'), -1);
    h.addElement(r('a'), -1000);
    h.addElement(r('b'), -1001);
    h.addElement(r('c'), 0);
    h.finish();
    expect(sortTs(h.takeOutputWithTimestamps())).toEqual([
      { value: wr('b', -2000, -1000, 1, 'on-time', 0, true), timestamp: -1001 },
      { value: wr('a', -1000, 0, 2, 'on-time', 0, true), timestamp: -1 },
      { value: wr('c', 0, 1000, 1, 'on-time', 0, true), timestamp: 999 },
    ]);
  });

  it('negative timestamps: sliding and session windows', () => {
    const hs = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(sliding(5000, 2000), { allowedLateness: 0 }).aggregate(count()),
    );
    // s ≡ 0 (mod 2000) and −1 − 5000 < s ≤ −1 → s ∈ {−4000, −2000}
    hs.addElement(r('a'), -1);
    hs.finish();
    expect(sortRes(hs.takeOutput())).toEqual(
      sortRes([wr('a', -4000, 1000, 1, 'on-time', 0, true), wr('a', -2000, 3000, 1, 'on-time', 0, true)]),
    );

    const hg = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(session(100), { allowedLateness: 0 }).aggregate(count()),
    );
    hg.addElement(r('a'), -500);
    hg.addElement(r('a'), -401); // [−401, −301) overlaps [−500, −400)
    hg.finish();
    expect(hg.takeOutputWithTimestamps()).toEqual([
      { value: wr('a', -500, -301, 2, 'on-time', 0, true), timestamp: -302 },
    ]);
  });

  it('offsets: tumbling(1000, { offset: 200 }) → [200, 1200)', () => {
    const h = harness((input: Stream<Rec>) =>
      input
        .keyBy((x) => x.k)
        .window(tumbling(1000, { offset: 200 }), { allowedLateness: 0 })
        .aggregate(toList()),
    );
    for (const t of [200, 1199, 199, 1200, -1, -801]) h.addElement(r(String(t), t), t);
    h.finish();
    const windows = Object.fromEntries(h.takeOutput().map((x) => [x.key, x.window]));
    expect(windows).toEqual({
      '200': { start: 200, end: 1200 },
      '1199': { start: 200, end: 1200 },
      '199': { start: -800, end: 200 },
      '1200': { start: 1200, end: 2200 },
      '-1': { start: -800, end: 200 },
      '-801': { start: -1800, end: -800 },
    });
  });

  it('offsets: sliding(5000, 2000, { offset: 500 }) windows start at s ≡ 500 (mod 2000)', () => {
    const h = harness((input: Stream<Rec>) =>
      input
        .keyBy((x) => x.k)
        .window(sliding(5000, 2000, { offset: 500 }), { allowedLateness: 0 })
        .aggregate(count()),
    );
    h.addElement(r('a'), 0); // s ∈ (−5000, 0] with s ≡ 500 → −3500, −1500
    h.addElement(r('b'), 4500); // s ∈ (−500, 4500] → 500, 2500, 4500
    h.finish();
    expect(sortRes(h.takeOutput())).toEqual(
      sortRes([
        wr('a', -3500, 1500, 1, 'on-time', 0, true),
        wr('a', -1500, 3500, 1, 'on-time', 0, true),
        wr('b', 500, 5500, 1, 'on-time', 0, true),
        wr('b', 2500, 7500, 1, 'on-time', 0, true),
        wr('b', 4500, 9500, 1, 'on-time', 0, true),
      ]),
    );
  });

  // semantics.md "Sliding": every [s, s + size) with s ≡ offset (mod slide) and t − size < s ≤ t;
  // slide need not divide size.
  it('sliding windows whose slide does not divide the size (5000 / 2000)', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(sliding(5000, 2000), { allowedLateness: 0 }).aggregate(sum((x: Rec) => x.v)),
    );
    h.addElement(r('a', 1), 1000); // [−2000,3000) [0,5000)
    h.addElement(r('a', 10), 4500); // [0,5000) [2000,7000) [4000,9000)
    h.addElement(r('a', 100), 5500); // [2000,7000) [4000,9000)
    h.advanceWatermarkTo(2999);
    expect(h.takeOutput()).toEqual([wr('a', -2000, 3000, 1, 'on-time', 0, true)]);
    h.advanceWatermarkTo(4999);
    expect(h.takeOutput()).toEqual([wr('a', 0, 5000, 11, 'on-time', 0, true)]);
    h.advanceWatermarkTo(6999);
    expect(h.takeOutput()).toEqual([wr('a', 2000, 7000, 110, 'on-time', 0, true)]);
    h.advanceWatermarkTo(8998);
    expect(h.takeOutput()).toEqual([]);
    h.advanceWatermarkTo(8999);
    expect(h.takeOutput()).toEqual([wr('a', 4000, 9000, 110, 'on-time', 0, true)]);
  });

  // semantics.md "Session(gap)": a gap may also be a function of the record (dynamic gap).
  it('dynamic session gap taken from the record', () => {
    type G = { k: string; gap: number };
    const h = harness((input: Stream<G>) =>
      input
        .keyBy((x) => x.k)
        .window(session((x: G) => x.gap), { allowedLateness: 0 })
        .aggregate(count()),
    );
    h.addElement({ k: 'a', gap: 100 }, 0); // [0,100)
    h.addElement({ k: 'a', gap: 100 }, 150); // [150,250): separate
    h.addElement({ k: 'b', gap: 200 }, 0); // [0,200)
    h.addElement({ k: 'b', gap: 100 }, 150); // [150,250): overlaps → [0,250)
    h.finish();
    expect(sortRes(h.takeOutput())).toEqual(
      sortRes([
        wr('a', 0, 100, 1, 'on-time', 0, true),
        wr('a', 150, 250, 1, 'on-time', 0, true),
        wr('b', 0, 250, 2, 'on-time', 0, true),
      ]),
    );
  });

  // semantics.md "Time": durations also accept ISO-8601 strings, converted once at plan build.
  it('ISO-8601 durations behave like the same number of milliseconds', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(tumbling('PT1S'), { allowedLateness: 'PT0.5S' }).aggregate(count()),
    );
    h.addElement(r('a'), 100);
    h.advanceWatermarkTo(999);
    expect(h.takeOutput()).toEqual([wr('a', 0, 1000, 1, 'on-time', 0, false)]);
    h.advanceWatermarkTo(1498);
    h.addElement(r('a'), 200); // still admitted: 1498 < 999 + 500
    expect(h.takeOutput()).toEqual([wr('a', 0, 1000, 2, 'late', 1, false)]);
    h.advanceWatermarkTo(1499);
    h.addElement(r('a'), 300); // too late
    expect(h.takeOutput()).toEqual([]);
    expect(h.takeLate()).toHaveLength(1);
  });
});

describe('allowed lateness and panes', () => {
  // semantics.md "Firing and lateness" + "Panes and accumulation": a record for w arriving
  // when e − 1 ≤ W < e − 1 + L fires a late pane at once (index 1, 2, …); the on-time pane is
  // final only when L = 0; at W ≥ e − 1 + L the state is purged and, with nothing pending, no
  // pane is emitted; records after that are too late.
  it('accumulating: late panes re-fire with the running value, final stays false', () => {
    const h = harness((input: Stream<Rec>) =>
      input
        .keyBy((x) => x.k)
        .window(tumbling(1000), { allowedLateness: 500, accumulation: 'accumulating' })
        .aggregate(sum((x: Rec) => x.v)),
    );
    h.addElement(r('a', 1), 100);
    h.advanceWatermarkTo(999);
    expect(h.takeOutput()).toEqual([wr('a', 0, 1000, 1, 'on-time', 0, false)]);
    h.addElement(r('a', 2), 200);
    expect(h.takeOutput()).toEqual([wr('a', 0, 1000, 3, 'late', 1, false)]);
    h.addElement(r('a', 4), 300);
    expect(h.takeOutput()).toEqual([wr('a', 0, 1000, 7, 'late', 2, false)]);
    h.advanceWatermarkTo(1498); // e − 1 + L − 1: still open
    expect(h.takeOutput()).toEqual([]);
    h.addElement(r('a', 8), 400);
    expect(h.takeOutputWithTimestamps()).toEqual([{ value: wr('a', 0, 1000, 15, 'late', 3, false), timestamp: 999 }]);
    h.advanceWatermarkTo(1499); // e − 1 + L: purged, nothing pending → no pane
    expect(h.takeOutput()).toEqual([]);
    h.addElement(r('a', 16), 500);
    expect(h.takeOutput()).toEqual([]);
    expect(h.takeLate()).toEqual([
      { value: r('a', 16), timestamp: 500, key: 'a', missedWindows: [{ start: 0, end: 1000 }] },
    ]);
    h.finish();
    expect(h.takeOutput()).toEqual([]);
  });

  it('discarding: each pane holds only what arrived since the previous pane', () => {
    const h = harness((input: Stream<Rec>) =>
      input
        .keyBy((x) => x.k)
        .window(tumbling(1000), { allowedLateness: 500, accumulation: 'discarding' })
        .aggregate(sum((x: Rec) => x.v)),
    );
    h.addElement(r('a', 1), 100);
    h.addElement(r('a', 2), 900);
    h.advanceWatermarkTo(999);
    expect(h.takeOutput()).toEqual([wr('a', 0, 1000, 3, 'on-time', 0, false)]);
    h.addElement(r('a', 4), 300);
    expect(h.takeOutput()).toEqual([wr('a', 0, 1000, 4, 'late', 1, false)]);
    h.addElement(r('a', 8), 400);
    expect(h.takeOutput()).toEqual([wr('a', 0, 1000, 8, 'late', 2, false)]);
    h.advanceWatermarkTo(1499);
    expect(h.takeOutput()).toEqual([]);
    h.finish();
    expect(h.takeOutput()).toEqual([]);
  });

  it('discarding vs accumulating with toList over the same input', () => {
    const build = (accumulation: 'accumulating' | 'discarding') =>
      harness((input: Stream<Rec>) =>
        input.keyBy((x) => x.k).window(tumbling(10), { allowedLateness: 100, accumulation }).aggregate(toList()),
      );
    const values = (xs: readonly { value: readonly Rec[] }[]) => xs.map((x) => x.value.map((y) => y.v).sort((a, b) => a - b));
    for (const mode of ['accumulating', 'discarding'] as const) {
      const h = build(mode);
      h.addElement(r('a', 1), 1);
      h.addElement(r('a', 2), 2);
      h.advanceWatermarkTo(9);
      h.addElement(r('a', 3), 3);
      h.addElement(r('a', 4), 4);
      const out = h.takeOutput();
      expect(out.map((x) => x.pane)).toEqual([
        { timing: 'on-time', index: 0, final: false },
        { timing: 'late', index: 1, final: false },
        { timing: 'late', index: 2, final: false },
      ]);
      expect(values(out)).toEqual(mode === 'accumulating' ? [[1, 2], [1, 2, 3], [1, 2, 3, 4]] : [[1, 2], [3], [4]]);
    }
  });

  // semantics.md: "Lateness is judged per (record, window): with sliding windows a record can be
  // too late for its oldest windows and on time for newer ones ... the record goes to the late
  // output as soon as it was too late for at least one window, with the windows it missed."
  it('sliding: a record too late for its oldest windows is still accepted by newer ones', async () => {
    const h = harness((input: Stream<Rec>) =>
      input
        .keyBy((x) => x.k)
        .window(sliding(3000, 1000), { allowedLateness: 0, name: 'win' })
        .aggregate(count()),
    );
    h.advanceWatermarkTo(2999);
    h.addElement(r('a'), 2500); // [0,3000) too late; [1000,4000) and [2000,5000) accept it
    expect(h.takeOutput()).toEqual([]);
    h.addElement(r('a'), 500); // [−2000,1000) [−1000,2000) [0,3000): all too late
    expect(sortLate(h.takeLate())).toEqual([
      {
        value: r('a'),
        timestamp: 500,
        key: 'a',
        missedWindows: [
          { start: -2000, end: 1000 },
          { start: -1000, end: 2000 },
          { start: 0, end: 3000 },
        ],
      },
      { value: r('a'), timestamp: 2500, key: 'a', missedWindows: [{ start: 0, end: 3000 }] },
    ]);
    h.finish();
    expect(sortRes(h.takeOutput())).toEqual(
      sortRes([wr('a', 1000, 4000, 1, 'on-time', 0, true), wr('a', 2000, 5000, 1, 'on-time', 0, true)]),
    );
    const s = await h.summary();
    expect(s.operators['win']).toMatchObject({ in: 2, accepted: 1, tooLate: 1, tooLatePairs: 4 });
  });

  // semantics.md: lateness per (record, window); a late record fires a late pane at once in
  // every admitting window whose on-time point is behind the watermark; a window born behind
  // the watermark starts with a late pane of index 0; newer windows simply accept the record.
  it('sliding with lateness: one record gives a late pane, a born-late pane and an on-time update', async () => {
    const h = harness((input: Stream<Rec>) =>
      input
        .keyBy((x) => x.k)
        .window(sliding(3000, 1000), { allowedLateness: 5000, name: 'win' })
        .aggregate(count()),
    );
    h.addElement(r('a'), 500); // [−2000,1000) [−1000,2000) [0,3000)
    h.advanceWatermarkTo(3999);
    expect(sortRes(h.takeOutput())).toEqual(
      sortRes([
        wr('a', -2000, 1000, 1, 'on-time', 0, false),
        wr('a', -1000, 2000, 1, 'on-time', 0, false),
        wr('a', 0, 3000, 1, 'on-time', 0, false),
      ]),
    );
    h.addElement(r('a'), 2500); // [0,3000) late; [1000,4000) born late; [2000,5000) on time
    expect(sortRes(h.takeOutput())).toEqual(
      sortRes([wr('a', 0, 3000, 2, 'late', 1, false), wr('a', 1000, 4000, 1, 'late', 0, false)]),
    );
    h.advanceWatermarkTo(4999);
    expect(h.takeOutput()).toEqual([wr('a', 2000, 5000, 1, 'on-time', 0, false)]);
    h.advanceWatermarkTo(5999); // purges [−2000,1000) (999 + 5000)
    expect(h.takeOutput()).toEqual([]);
    h.addElement(r('a'), 100); // [−2000,1000) too late; [−1000,2000) and [0,3000) admit it
    expect(sortRes(h.takeOutput())).toEqual(
      sortRes([wr('a', -1000, 2000, 2, 'late', 1, false), wr('a', 0, 3000, 3, 'late', 2, false)]),
    );
    expect(h.takeLate()).toEqual([
      { value: r('a'), timestamp: 100, key: 'a', missedWindows: [{ start: -2000, end: 1000 }] },
    ]);
    const s = await h.summary();
    expect(s.operators['win']).toMatchObject({ in: 3, accepted: 3, tooLate: 0, tooLatePairs: 1 });
  });

  it('session, discarding: a late record inside a fired session gives a pane with just that record', () => {
    const h = harness((input: Stream<Rec>) =>
      input
        .keyBy((x) => x.k)
        .window(session(1000), { allowedLateness: 5000, accumulation: 'discarding' })
        .aggregate(sum((x: Rec) => x.v)),
    );
    h.addElement(r('a', 1), 0);
    h.addElement(r('a', 2), 500); // [0,1500)
    h.advanceWatermarkTo(1499);
    expect(h.takeOutput()).toEqual([wr('a', 0, 1500, 3, 'on-time', 0, false)]);
    h.addElement(r('a', 4), 100); // inside [0,1500): same window
    expect(h.takeOutput()).toEqual([wr('a', 0, 1500, 4, 'late', 1, false)]);
  });

  // semantics.md: "Sessions: a record is judged against the session it would join — its
  // proto-window merged with the key's live sessions ... A late record can therefore still
  // extend (or bridge) a live session and re-fire it." and "A window born of a merge is a new
  // window: its pane index starts at 0"; "A window that comes into being behind the watermark
  // ... emits a late pane, never an on-time one."
  it('session: a late record within lateness bridges two fired sessions', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(session(1000), { allowedLateness: 2000 }).aggregate(count()),
    );
    h.addElement(r('a'), 0); // [0,1000)
    h.addElement(r('a'), 1500); // [1500,2500)
    h.advanceWatermarkTo(2499);
    expect(sortRes(h.takeOutput())).toEqual(
      sortRes([wr('a', 0, 1000, 1, 'on-time', 0, false), wr('a', 1500, 2500, 1, 'on-time', 0, false)]),
    );
    h.addElement(r('a'), 800); // [800,1800) bridges → [0,2500), born behind the watermark
    expect(h.takeOutputWithTimestamps()).toEqual([{ value: wr('a', 0, 2500, 3, 'late', 0, false), timestamp: 2499 }]);
    expect(h.takeLate()).toEqual([]);
    h.advanceWatermarkTo(4499); // 2499 + L: purged, nothing pending
    expect(h.takeOutput()).toEqual([]);
    h.addElement(r('a'), 900); // no live session left: judged on [900,1900) alone → too late
    expect(h.takeOutput()).toEqual([]);
    expect(h.takeLate()).toEqual([
      { value: r('a'), timestamp: 900, key: 'a', missedWindows: [{ start: 900, end: 1900 }] },
    ]);
  });

  it('session: a late record that extends a fired session makes a new window (late, index 0)', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(session(1000), { allowedLateness: 2000 }).aggregate(count()),
    );
    h.addElement(r('a'), 0); // [0,1000)
    h.advanceWatermarkTo(2499);
    expect(h.takeOutput()).toEqual([wr('a', 0, 1000, 1, 'on-time', 0, false)]);
    h.addElement(r('a'), 999); // [999,1999) → [0,1999)
    expect(h.takeOutput()).toEqual([wr('a', 0, 1999, 2, 'late', 0, false)]);
  });

  it('session: a late record inside a fired session keeps its bounds → same window, next index', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(session(1000), { allowedLateness: 2000 }).aggregate(count()),
    );
    h.addElement(r('a'), 0);
    h.addElement(r('a'), 500); // [0,1500)
    h.advanceWatermarkTo(1499);
    expect(h.takeOutput()).toEqual([wr('a', 0, 1500, 2, 'on-time', 0, false)]);
    h.addElement(r('a'), 100); // [100,1100) ⊂ [0,1500): the cover is the same window
    expect(h.takeOutput()).toEqual([wr('a', 0, 1500, 3, 'late', 1, false)]);
  });

  it('a tumbling window born behind the watermark emits a late pane with index 0', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(tumbling(1000), { allowedLateness: 5000 }).aggregate(count()),
    );
    h.advanceWatermarkTo(2999);
    h.addElement(r('a'), 500);
    expect(h.takeOutputWithTimestamps()).toEqual([{ value: wr('a', 0, 1000, 1, 'late', 0, false), timestamp: 999 }]);
    h.addElement(r('a'), 600);
    expect(h.takeOutput()).toEqual([wr('a', 0, 1000, 2, 'late', 1, false)]);
    h.advanceWatermarkTo(5999); // 999 + 5000: purged, nothing pending
    h.finish();
    expect(h.takeOutput()).toEqual([]);
  });

  it('a session born behind the watermark emits a late pane with index 0', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(session(1000), { allowedLateness: 5000 }).aggregate(count()),
    );
    h.advanceWatermarkTo(2999);
    h.addElement(r('b'), 100);
    expect(h.takeOutput()).toEqual([wr('b', 100, 1100, 1, 'late', 0, false)]);
  });

  // semantics.md: streams end at +∞ (end of input flushes every window); a pane emitted as the
  // window is purged is final; a window with nothing pending emits nothing at purge.
  it('end of input fires every pending window with final = true and nothing for fired ones', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(tumbling(1000), { allowedLateness: 10_000 }).aggregate(count()),
    );
    h.addElement(r('a'), 100);
    h.addElement(r('b'), 2500);
    h.advanceWatermarkTo(1999);
    expect(h.takeOutput()).toEqual([wr('a', 0, 1000, 1, 'on-time', 0, false)]);
    h.finish();
    expect(h.takeOutput()).toEqual([wr('b', 2000, 3000, 1, 'on-time', 0, true)]);
  });

  it('end of input fires sliding and session windows, all final', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(sliding(2000, 1000), { allowedLateness: 0 }).aggregate(count()),
    );
    h.addElement(r('a'), 1500);
    h.finish();
    expect(sortRes(h.takeOutput())).toEqual(
      sortRes([wr('a', 0, 2000, 1, 'on-time', 0, true), wr('a', 1000, 3000, 1, 'on-time', 0, true)]),
    );
    const hs = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(session(1000), { allowedLateness: 60_000 }).aggregate(count()),
    );
    hs.addElement(r('a'), 1500);
    hs.finish();
    expect(hs.takeOutput()).toEqual([wr('a', 1500, 2500, 1, 'on-time', 0, true)]);
  });
});

describe('global window', () => {
  // semantics.md "Global": one window per key, fired only by its trigger or at end of input
  // (the default trigger never fires before the end). Its end is +∞, so nothing is ever late.
  it('fires only at finish, one pane per key, never late', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(globalWindow(), { allowedLateness: 0 }).aggregate(count()),
    );
    h.addElement(r('a'), -5000);
    h.addElement(r('a'), 0);
    h.addElement(r('b'), 7);
    h.addElement(r('a'), 1e12);
    h.advanceWatermarkTo(2e12);
    expect(h.takeOutput()).toEqual([]);
    h.addElement(r('a'), 0); // behind the watermark, but the global window never closes
    expect(h.takeOutput()).toEqual([]);
    expect(h.takeLate()).toEqual([]);
    h.finish();
    const out = h.takeOutput();
    expect(
      out.map((x) => ({ key: x.key, value: x.value, pane: x.pane })).sort((a, b) => (a.key < b.key ? -1 : 1)),
    ).toEqual([
      { key: 'a', value: 4, pane: { timing: 'on-time', index: 0, final: true } },
      { key: 'b', value: 1, pane: { timing: 'on-time', index: 0, final: true } },
    ]);
    // The global window is the same window for every key.
    expect(out[0]?.window).toEqual(out[1]?.window);
  });
});

describe('keys', () => {
  // 0001-public-api.md: keys may be readonly arrays of primitives; records group by key value.
  it('composite array keys ([user, page]) group by value, not by identity or join string', () => {
    type Click = { user: string; page: string };
    const h = harness((input: Stream<Click>) =>
      input
        .keyBy((c) => [c.user, c.page])
        .window(tumbling(1000), { allowedLateness: 0 })
        .aggregate(count()),
    );
    h.addElement({ user: 'u1', page: 'p1' }, 100);
    h.addElement({ user: 'u1', page: 'p1' }, 200);
    h.addElement({ user: 'u1', page: 'p2' }, 300);
    h.addElement({ user: 'u2', page: 'p1' }, 400);
    h.addElement({ user: 'a,b', page: 'c' }, 500);
    h.addElement({ user: 'a', page: 'b,c' }, 600);
    h.finish();
    expect(sortRes(h.takeOutput())).toEqual(
      sortRes([
        wr(['u1', 'p1'], 0, 1000, 2, 'on-time', 0, true),
        wr(['u1', 'p2'], 0, 1000, 1, 'on-time', 0, true),
        wr(['u2', 'p1'], 0, 1000, 1, 'on-time', 0, true),
        wr(['a,b', 'c'], 0, 1000, 1, 'on-time', 0, true),
        wr(['a', 'b,c'], 0, 1000, 1, 'on-time', 0, true),
      ]),
    );
  });

  it('keys of different types are different keys (1 vs "1")', () => {
    type X = { k: string | number };
    const h = harness((input: Stream<X>) =>
      input.keyBy((x) => x.k).window(tumbling(1000), { allowedLateness: 0 }).aggregate(count()),
    );
    h.addElement({ k: 1 }, 0);
    h.addElement({ k: '1' }, 0);
    h.addElement({ k: 1 }, 1);
    h.finish();
    const out = h.takeOutput();
    expect(out).toHaveLength(2);
    expect(out).toEqual(
      expect.arrayContaining([wr(1, 0, 1000, 2, 'on-time', 0, true), wr('1', 0, 1000, 1, 'on-time', 0, true)]),
    );
  });
});

describe('result timestamps and ordering', () => {
  // semantics.md: "A window result carries the timestamp e − 1".
  it('every result (on-time and late) carries timestamp end − 1', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(session(100), { allowedLateness: 1000 }).aggregate(count()),
    );
    h.addElement(r('a'), 10); // [10,110)
    h.addElement(r('a'), 50); // → [10,150)
    h.advanceWatermarkTo(149);
    h.addElement(r('a'), 20); // same bounds → late pane of [10,150)
    expect(h.takeOutputWithTimestamps()).toEqual([
      { value: wr('a', 10, 150, 2, 'on-time', 0, false), timestamp: 149 },
      { value: wr('a', 10, 150, 3, 'late', 1, false), timestamp: 149 },
    ]);
  });

  // Engine contract (task brief), the unambiguous parts: by window end, then start; within one
  // tumbling window, keys in the order they first arrived.
  it('one key, several windows firing in one step: by end, then start', () => {
    const ht = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(tumbling(1000), { allowedLateness: 0 }).aggregate(count()),
    );
    ht.addElement(r('a'), 2500);
    ht.addElement(r('a'), 500);
    ht.addElement(r('a'), 1500);
    ht.advanceWatermarkTo(5000);
    expect(ht.takeOutput().map((x) => x.window)).toEqual([
      { start: 0, end: 1000 },
      { start: 1000, end: 2000 },
      { start: 2000, end: 3000 },
    ]);
    const hs = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(session(100), { allowedLateness: 0 }).aggregate(count()),
    );
    hs.addElement(r('a'), 3000);
    hs.addElement(r('b'), 50);
    hs.addElement(r('a'), 0);
    hs.advanceWatermarkTo(5000);
    expect(hs.takeOutput().map((x) => [x.key, x.window.start, x.window.end])).toEqual([
      ['a', 0, 100],
      ['b', 50, 150],
      ['a', 3000, 3100],
    ]);
  });

  it('one tumbling window, several keys: keys in first-arrival order', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(tumbling(1000), { allowedLateness: 0 }).aggregate(count()),
    );
    h.addElement(r('b'), 10);
    h.addElement(r('a'), 20);
    h.addElement(r('c'), 5);
    h.addElement(r('a'), 30);
    h.advanceWatermarkTo(999);
    expect(h.takeOutput().map((x) => x.key)).toEqual(['b', 'a', 'c']);
  });

  // Engine contract (docs/semantics.md, "Output order"): windows firing in one step are emitted
  // by window end, then start; within a sliding window, keys come in the order of the first pane
  // (gcd(size, slide) wide slice) that holds them, then by first arrival within that pane.
  it('several windows firing in one step come out by end, then start, then key by pane', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(sliding(2000, 1000), { allowedLateness: 0 }).aggregate(count()),
    );
    h.addElement(r('b'), 1500); // [0,2000) [1000,3000)
    h.addElement(r('a'), 500); // [−1000,1000) [0,2000)
    h.addElement(r('a'), 1600); // [0,2000) [1000,3000)
    h.advanceWatermarkTo(2999);
    expect(h.takeOutput()).toEqual([
      wr('a', -1000, 1000, 1, 'on-time', 0, true),
      wr('a', 0, 2000, 2, 'on-time', 0, true), // a is in the [0,1000) slice, b only in [1000,2000)
      wr('b', 0, 2000, 1, 'on-time', 0, true),
      wr('b', 1000, 3000, 1, 'on-time', 0, true),
      wr('a', 1000, 3000, 1, 'on-time', 0, true),
    ]);
  });
});

describe('conservation and dead letters', () => {
  // 0001-public-api.md "Run summary": window operators: in = accepted + tooLate + deadLettered;
  // sources: read = emitted + deadLettered. Bad timestamps (not a finite integer within
  // ±8.64e15) are dead letters, never silently lost.
  it('summary numbers add up (window operator and sources)', async () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(tumbling(1000), { allowedLateness: 0, name: 'win' }).aggregate(count()),
    );
    h.addElement(r('a'), 100);
    h.addElement(r('b'), 200);
    h.addElement(r('a'), 1500);
    h.advanceWatermarkTo(999);
    h.addElement(r('a'), 300); // too late
    h.addElement(r('bad'), Number.NaN);
    h.addElement(r('bad'), 1.5);
    h.addElement(r('bad'), 9e15);
    h.finish();
    expect(h.takeOutput()).toHaveLength(3);
    expect(h.takeLate()).toHaveLength(1);
    expect(h.takeDeadLetters()).toHaveLength(3);
    const s = await h.summary();
    const op = s.operators['win'];
    expect(op).toBeDefined();
    expect(op).toMatchObject({ accepted: 3, tooLate: 1, tooLatePairs: 1 });
    expect(op?.in).toBe(Number(op?.accepted) + Number(op?.tooLate) + Number(op?.deadLettered));
    for (const src of Object.values(s.sources)) expect(src.read).toBe(src.emitted + src.deadLettered);
    expect(s.deadLetters).toBe(3);
    expect(s.lateRecords).toBe(1);
  });

  it('records with bad timestamps (NaN, 1.5, 9e15) become dead letters', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(tumbling(1000), { allowedLateness: 0 }).aggregate(count()),
    );
    const bad = [r('nan', 1), r('frac', 2), r('huge', 3)];
    h.addElement(bad[0]!, Number.NaN);
    h.addElement(bad[1]!, 1.5);
    h.addElement(bad[2]!, 9e15);
    h.addElement(r('ok'), 5);
    h.finish();
    const dls = h.takeDeadLetters();
    expect(dls).toHaveLength(3);
    expect(dls.map((d) => d.value)).toEqual(expect.arrayContaining(bad));
    for (const d of dls) {
      expect(typeof d.reason).toBe('string');
      expect(d.reason.length).toBeGreaterThan(0);
      expect(typeof d.operator).toBe('string');
    }
    expect(h.takeOutput()).toEqual([wr('ok', 0, 1000, 1, 'on-time', 0, true)]);
    expect(h.takeLate()).toEqual([]);
  });

  it('timestamps at ±8.64e15 are valid event times', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(tumbling(1000), { allowedLateness: 0 }).aggregate(count()),
    );
    h.addElement(r('max'), 8.64e15);
    h.addElement(r('min'), -8.64e15);
    h.finish();
    expect(h.takeDeadLetters()).toEqual([]);
    expect(sortRes(h.takeOutput())).toEqual(
      sortRes([
        wr('min', -8.64e15, -8.64e15 + 1000, 1, 'on-time', 0, true),
        wr('max', 8.64e15, 8.64e15 + 1000, 1, 'on-time', 0, true),
      ]),
    );
  });
});
