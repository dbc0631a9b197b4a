/**
 * Golden cases translated from the public test suites of Apache Flink, Apache Beam and Kafka
 * Streams, per "Translating other engines' cases" in /work/shared/design/semantics.md:
 *
 * - Flink: watermarks mean the same as Tidemark's (a window fires at W ≥ maxTimestamp = e − 1),
 *   so watermarks are copied as they are. Flink's session windows merge when they *touch*
 *   (`TimeWindow.intersects` is `start ≤ other.end && end ≥ other.start`); Tidemark's merge only
 *   when they strictly overlap — where an input has touching sessions the case says how it is
 *   adjusted. `PurgingTrigger.of(EventTimeTrigger)` is Tidemark's 'discarding' accumulation;
 *   `EventTimeTrigger` is 'accumulating'. Snapshot/restore steps are left out.
 * - Beam: Beam's watermark W is Tidemark's W − 1 (`beamWm`). Beam's `PaneInfo(isFirst, isLast,
 *   timing, index, onTimeIndex)` maps to `{ timing, index, final: isLast }`.
 * - Kafka Streams: stream time S with grace G is a Tidemark watermark S − G − 1 with allowed
 *   lateness 0 (`kafkaDriver`). Kafka sessions `[first, last]` merging when |Δ| ≤ gap are
 *   Tidemark sessions with gap + 1, reported as `[first, last + gap + 1)`. Kafka's hopping
 *   windows never start before 0 (`TimeWindows.windowsFor` clamps at 0); Tidemark's sliding
 *   windows do, so translated cases also expect the `[−5, 5)` windows Kafka leaves out. Kafka's
 *   "emit on window close" result is Tidemark's on-time pane; Kafka's update stream's last value
 *   per window is Tidemark's pane at end of input.
 *
 * Cases that depend on features outside the public API (custom / count / processing-time
 * triggers, evictors, processing-time windows, joins, state snapshots) are not translated.
 */
import { describe, it, expect } from 'vitest';
import { harness } from 'tidemark/testing';
import { tumbling, sliding, session, globalWindow, count, sum, toList } from 'tidemark';
import type { Stream } from 'tidemark';
import { wr, sortRes, sortTs, sortLate, withSortedList, beamWm, kafkaDriver } from './helpers.js';

type KV = { k: string; v: number };
const kv = (k: string, v = 1): KV => ({ k, v });
type KS = { k: string; s: string };
const ks = (k: string, s: string): KS => ({ k, s });

// ---------------------------------------------------------------------------------------------
// Apache Flink
// ---------------------------------------------------------------------------------------------

describe('Flink', () => {
  /** The out-of-order input shared by Flink's testTumbling/SlidingEventTimeWindows helpers. */
  function flinkInput(h: { addElement(v: KV, t: number): void }): void {
    h.addElement(kv('key2'), 3999);
    h.addElement(kv('key2'), 3000);
    h.addElement(kv('key1'), 20);
    h.addElement(kv('key1'), 0);
    h.addElement(kv('key1'), 999);
    h.addElement(kv('key2'), 1998);
    h.addElement(kv('key2'), 1999);
    h.addElement(kv('key2'), 1000);
  }

  // Source: Flink, flink-streaming-java .../windowing/WindowOperatorTest.java,
  // testTumblingEventTimeWindowsReduce / testTumblingEventTimeWindowsApply (tumbling 3 s,
  // SumReducer, allowed lateness 0). Translation: none (snapshot/restore step dropped).
  it('WindowOperatorTest.testTumblingEventTimeWindowsReduce', () => {
    const h = harness((input: Stream<KV>) =>
      input.keyBy((x) => x.k).window(tumbling(3000), { allowedLateness: 0 }).aggregate(sum((x: KV) => x.v)),
    );
    flinkInput(h);
    h.advanceWatermarkTo(999);
    expect(h.takeOutput()).toEqual([]);
    h.advanceWatermarkTo(1999);
    expect(h.takeOutput()).toEqual([]);
    h.advanceWatermarkTo(2999);
    expect(sortTs(h.takeOutputWithTimestamps())).toEqual(
      sortTs([
        { value: wr('key1', 0, 3000, 3, 'on-time', 0, true), timestamp: 2999 },
        { value: wr('key2', 0, 3000, 3, 'on-time', 0, true), timestamp: 2999 },
      ]),
    );
    h.advanceWatermarkTo(3999);
    h.advanceWatermarkTo(4999);
    expect(h.takeOutput()).toEqual([]);
    h.advanceWatermarkTo(5999);
    expect(h.takeOutputWithTimestamps()).toEqual([
      { value: wr('key2', 3000, 6000, 2, 'on-time', 0, true), timestamp: 5999 },
    ]);
    h.advanceWatermarkTo(6999);
    h.advanceWatermarkTo(7999);
    expect(h.takeOutput()).toEqual([]);
  });

  // Source: Flink, WindowOperatorTest.java, testSlidingEventTimeWindowsReduce /
  // testSlidingEventTimeWindowsApply (sliding 3 s every 1 s, lateness 0). Translation: none.
  it('WindowOperatorTest.testSlidingEventTimeWindowsReduce', () => {
    const h = harness((input: Stream<KV>) =>
      input
        .keyBy((x) => x.k)
        .window(sliding(3000, 1000), { allowedLateness: 0 })
        .aggregate(sum((x: KV) => x.v)),
    );
    flinkInput(h);
    const step = (w: number) => {
      h.advanceWatermarkTo(w);
      return sortRes(h.takeOutput());
    };
    expect(step(999)).toEqual([wr('key1', -2000, 1000, 3, 'on-time', 0, true)]);
    expect(step(1999)).toEqual(
      sortRes([wr('key1', -1000, 2000, 3, 'on-time', 0, true), wr('key2', -1000, 2000, 3, 'on-time', 0, true)]),
    );
    expect(step(2999)).toEqual(
      sortRes([wr('key1', 0, 3000, 3, 'on-time', 0, true), wr('key2', 0, 3000, 3, 'on-time', 0, true)]),
    );
    expect(step(3999)).toEqual([wr('key2', 1000, 4000, 5, 'on-time', 0, true)]);
    expect(step(4999)).toEqual([wr('key2', 2000, 5000, 2, 'on-time', 0, true)]);
    expect(step(5999)).toEqual([wr('key2', 3000, 6000, 2, 'on-time', 0, true)]);
    expect(step(6999)).toEqual([]);
    expect(step(7999)).toEqual([]);
  });

  // Source: Flink, WindowOperatorTest.java, testSessionWindows / testReduceSessionWindows
  // (EventTimeSessionWindows.withGap(3 s)). Flink's window function emits "key-sum" with the
  // session's start and end; here the sum is the value and the session is the window.
  // Translation: no two sessions in this input touch ([0,5500) vs [5501,…)), so Flink's
  // touching-merge rule changes nothing.
  it('WindowOperatorTest.testSessionWindows', () => {
    const h = harness((input: Stream<KV>) =>
      input.keyBy((x) => x.k).window(session(3000), { allowedLateness: 0 }).aggregate(sum((x: KV) => x.v)),
    );
    h.addElement(kv('key2', 1), 0);
    h.addElement(kv('key2', 2), 1000);
    h.addElement(kv('key2', 3), 2500);
    h.addElement(kv('key1', 1), 10);
    h.addElement(kv('key1', 2), 1000);
    h.addElement(kv('key1', 3), 2500);
    h.addElement(kv('key2', 4), 5501);
    h.addElement(kv('key2', 5), 6000);
    h.addElement(kv('key2', 5), 6000);
    h.addElement(kv('key2', 6), 6050);
    h.advanceWatermarkTo(12000);
    expect(sortTs(h.takeOutputWithTimestamps())).toEqual(
      sortTs([
        { value: wr('key1', 10, 5500, 6, 'on-time', 0, true), timestamp: 5499 },
        { value: wr('key2', 0, 5500, 6, 'on-time', 0, true), timestamp: 5499 },
        { value: wr('key2', 5501, 9050, 20, 'on-time', 0, true), timestamp: 9049 },
      ]),
    );
    h.addElement(kv('key2', 10), 15000);
    h.addElement(kv('key2', 20), 15000);
    h.advanceWatermarkTo(17999);
    expect(h.takeOutputWithTimestamps()).toEqual([
      { value: wr('key2', 15000, 18000, 30, 'on-time', 0, true), timestamp: 17999 },
    ]);
  });

  // Source: Flink, WindowOperatorTest.java, testLateness (tumbling 2 s, allowed lateness 500,
  // PurgingTrigger.of(EventTimeTrigger)). Translation: the purging trigger is 'discarding'
  // accumulation; Flink's EventTimeTrigger fires a late element's window at once, as Tidemark's
  // default late trigger does.
  it('WindowOperatorTest.testLateness', () => {
    const h = harness((input: Stream<KV>) =>
      input
        .keyBy((x) => x.k)
        .window(tumbling(2000), { allowedLateness: 500, accumulation: 'discarding' })
        .aggregate(sum((x: KV) => x.v)),
    );
    h.addElement(kv('key2'), 500);
    h.advanceWatermarkTo(1500);
    expect(h.takeOutput()).toEqual([]);
    h.addElement(kv('key2'), 1300);
    h.advanceWatermarkTo(2300);
    expect(h.takeOutputWithTimestamps()).toEqual([
      { value: wr('key2', 0, 2000, 2, 'on-time', 0, false), timestamp: 1999 },
    ]);
    // not dropped: maxTimestamp 1999 + lateness 500 > watermark 2300; "1 and not 3" (purging)
    h.addElement(kv('key2'), 1997);
    expect(h.takeOutputWithTimestamps()).toEqual([{ value: wr('key2', 0, 2000, 1, 'late', 1, false), timestamp: 1999 }]);
    h.advanceWatermarkTo(6000);
    expect(h.takeOutput()).toEqual([]);
    // dropped: 1999 + 500 < 6000
    h.addElement(kv('key2'), 1998);
    h.advanceWatermarkTo(7000);
    expect(h.takeOutput()).toEqual([]);
    expect(h.takeLate()).toEqual([
      { value: kv('key2'), timestamp: 1998, key: 'key2', missedWindows: [{ start: 0, end: 2000 }] },
    ]);
  });

  // Source: Flink, WindowOperatorTest.java, testDropDueToLatenessTumbling (tumbling 2 s,
  // lateness 0). Translation: none; Flink drops the late element, Tidemark routes it to late().
  it('WindowOperatorTest.testDropDueToLatenessTumbling', async () => {
    const h = harness((input: Stream<KV>) =>
      input
        .keyBy((x) => x.k)
        .window(tumbling(2000), { allowedLateness: 0, name: 'win' })
        .aggregate(sum((x: KV) => x.v)),
    );
    h.addElement(kv('key2'), 1000);
    h.advanceWatermarkTo(1985);
    expect(h.takeOutput()).toEqual([]);
    h.addElement(kv('key2'), 1980); // not dropped: 1999 + 0 > 1985
    h.advanceWatermarkTo(1999);
    expect(h.takeOutput()).toEqual([wr('key2', 0, 2000, 2, 'on-time', 0, true)]);
    h.addElement(kv('key2'), 1998); // dropped as late
    h.addElement(kv('key2'), 2001);
    h.advanceWatermarkTo(2999);
    expect(h.takeOutput()).toEqual([]);
    h.advanceWatermarkTo(3999);
    expect(h.takeOutputWithTimestamps()).toEqual([
      { value: wr('key2', 2000, 4000, 1, 'on-time', 0, true), timestamp: 3999 },
    ]);
    expect(h.takeLate()).toEqual([
      { value: kv('key2'), timestamp: 1998, key: 'key2', missedWindows: [{ start: 0, end: 2000 }] },
    ]);
    const s = await h.summary();
    expect(s.operators['win']).toMatchObject({ in: 4, accepted: 3, tooLate: 1, tooLatePairs: 1 });
  });

  // Source: Flink, WindowOperatorTest.java, testDropDueToLatenessSliding (sliding 3 s every
  // 1 s, lateness 0): the two key2@2400 records miss [0,3000) but are kept by [1000,4000) and
  // [2000,5000); the last key1@3001 misses all three of its windows. Translation: none.
  it('WindowOperatorTest.testDropDueToLatenessSliding', async () => {
    const h = harness((input: Stream<KV>) =>
      input
        .keyBy((x) => x.k)
        .window(sliding(3000, 1000), { allowedLateness: 0, name: 'win' })
        .aggregate(sum((x: KV) => x.v)),
    );
    h.addElement(kv('key2'), 1000);
    h.advanceWatermarkTo(1999);
    expect(h.takeOutputWithTimestamps()).toEqual([
      { value: wr('key2', -1000, 2000, 1, 'on-time', 0, true), timestamp: 1999 },
    ]);
    h.addElement(kv('key2'), 2000);
    h.advanceWatermarkTo(3000);
    expect(h.takeOutputWithTimestamps()).toEqual([
      { value: wr('key2', 0, 3000, 2, 'on-time', 0, true), timestamp: 2999 },
    ]);
    h.addElement(kv('key1'), 3001);
    h.addElement(kv('key2'), 2400);
    h.addElement(kv('key2'), 2400);
    h.addElement(kv('key1'), 3001);
    h.addElement(kv('key2'), 3900);
    expect(h.takeOutput()).toEqual([]);
    h.advanceWatermarkTo(6000);
    expect(sortRes(h.takeOutput())).toEqual(
      sortRes([
        wr('key2', 1000, 4000, 5, 'on-time', 0, true),
        wr('key1', 1000, 4000, 2, 'on-time', 0, true),
        wr('key2', 2000, 5000, 4, 'on-time', 0, true),
        wr('key1', 2000, 5000, 2, 'on-time', 0, true),
        wr('key2', 3000, 6000, 1, 'on-time', 0, true),
        wr('key1', 3000, 6000, 2, 'on-time', 0, true),
      ]),
    );
    h.addElement(kv('key1'), 3001); // dropped due to lateness
    h.advanceWatermarkTo(25000);
    expect(h.takeOutput()).toEqual([]);
    expect(sortLate(h.takeLate())).toEqual([
      { value: kv('key2'), timestamp: 2400, key: 'key2', missedWindows: [{ start: 0, end: 3000 }] },
      { value: kv('key2'), timestamp: 2400, key: 'key2', missedWindows: [{ start: 0, end: 3000 }] },
      {
        value: kv('key1'),
        timestamp: 3001,
        key: 'key1',
        missedWindows: [
          { start: 1000, end: 4000 },
          { start: 2000, end: 5000 },
          { start: 3000, end: 6000 },
        ],
      },
    ]);
    const s = await h.summary();
    expect(s.operators['win']).toMatchObject({ in: 8, accepted: 7, tooLate: 1, tooLatePairs: 5 });
  });

  /** Input of Flink's testDropDueToLatenessSession* cases up to the watermark 14600. */
  function flinkSessionLatenessPrefix(h: { addElement(v: KV, t: number): void; advanceWatermarkTo(w: number): void }) {
    h.addElement(kv('key2'), 1000);
    h.advanceWatermarkTo(1999);
    h.addElement(kv('key2'), 2000);
    h.advanceWatermarkTo(4998);
    h.addElement(kv('key2'), 4500); // session maxTimestamp is after the watermark: not dropped
    h.addElement(kv('key2'), 8500); // new session
    h.advanceWatermarkTo(7400);
    h.addElement(kv('key2'), 7000); // merges the two sessions into one
    h.advanceWatermarkTo(11501);
  }

  // Source: Flink, WindowOperatorTest.java, testDropDueToLatenessSessionZeroLateness and
  // testDropDueToLatenessSessionZeroLatenessPurgingTrigger (gap 3 s, lateness 0; the purging
  // variant also checks that two dropped records 10000 and 10100 are not merged with each
  // other). Translation: no touching sessions in this input; the dropped records go to late()
  // with the session they would have joined.
  it('WindowOperatorTest.testDropDueToLatenessSessionZeroLateness', () => {
    const h = harness((input: Stream<KV>) =>
      input.keyBy((x) => x.k).window(session(3000), { allowedLateness: 0 }).aggregate(sum((x: KV) => x.v)),
    );
    flinkSessionLatenessPrefix(h);
    expect(h.takeOutputWithTimestamps()).toEqual([
      { value: wr('key2', 1000, 11500, 5, 'on-time', 0, true), timestamp: 11499 },
    ]);
    h.addElement(kv('key2'), 11600); // new session
    h.advanceWatermarkTo(14600);
    expect(h.takeOutputWithTimestamps()).toEqual([
      { value: wr('key2', 11600, 14600, 1, 'on-time', 0, true), timestamp: 14599 },
    ]);
    h.addElement(kv('key2'), 10000); // dropped as late
    h.addElement(kv('key2'), 10100); // also dropped, not merged with the previous one
    h.addElement(kv('key2'), 14500);
    expect(h.takeOutput()).toEqual([]);
    h.advanceWatermarkTo(20000);
    expect(h.takeOutputWithTimestamps()).toEqual([
      { value: wr('key2', 14500, 17500, 1, 'on-time', 0, true), timestamp: 17499 },
    ]);
    h.advanceWatermarkTo(100000);
    expect(h.takeOutput()).toEqual([]);
    expect(sortLate(h.takeLate())).toEqual([
      { value: kv('key2'), timestamp: 10000, key: 'key2', missedWindows: [{ start: 10000, end: 13000 }] },
      { value: kv('key2'), timestamp: 10100, key: 'key2', missedWindows: [{ start: 10100, end: 13100 }] },
    ]);
  });

  // Source: Flink, WindowOperatorTest.java, testDropDueToLatenessSessionWithLateness (gap 3 s,
  // lateness 10, accumulating EventTimeTrigger): the record at 10000 is merged into the fired,
  // not yet purged session [11600,14600) → [10000,14600), which fires at once; 14500 then
  // extends it to [10000,17500). Translation: Flink's outputs "key2-2 [10000,14600)" and
  // "key2-3 [10000,17500)" are Tidemark panes of new (merged) windows, so each has index 0;
  // the first is born behind the watermark and is therefore 'late'; the second is emitted
  // when W = 20000 ≥ 17499 + 10, so it is also the window's last pane (final).
  it('WindowOperatorTest.testDropDueToLatenessSessionWithLateness', () => {
    const h = harness((input: Stream<KV>) =>
      input.keyBy((x) => x.k).window(session(3000), { allowedLateness: 10 }).aggregate(sum((x: KV) => x.v)),
    );
    flinkSessionLatenessPrefix(h);
    expect(h.takeOutput()).toEqual([wr('key2', 1000, 11500, 5, 'on-time', 0, false)]);
    h.addElement(kv('key2'), 11600);
    h.advanceWatermarkTo(14600);
    expect(h.takeOutput()).toEqual([wr('key2', 11600, 14600, 1, 'on-time', 0, false)]);
    h.addElement(kv('key2'), 10000);
    expect(h.takeOutputWithTimestamps()).toEqual([
      { value: wr('key2', 10000, 14600, 2, 'late', 0, false), timestamp: 14599 },
    ]);
    h.addElement(kv('key2'), 14500);
    expect(h.takeOutput()).toEqual([]);
    h.advanceWatermarkTo(20000);
    expect(h.takeOutputWithTimestamps()).toEqual([
      // W = 20000 is already past 17499 + 10, so this on-time pane is also the purge pane: final
      { value: wr('key2', 10000, 17500, 3, 'on-time', 0, true), timestamp: 17499 },
    ]);
    h.advanceWatermarkTo(100000);
    expect(h.takeOutput()).toEqual([]);
    expect(h.takeLate()).toEqual([]);
  });

  // Source: Flink, WindowOperatorTest.java, testDropDueToLatenessSessionWithHugeLateness (gap
  // 3 s, lateness 10 s, accumulating): the record at 10000 bridges the fired sessions
  // [1000,11500) and [11600,14600) → "key2-7 [1000,14600)" at once, then 14500 extends it to
  // "key2-8 [1000,17500)". Translation: as above (merged windows are new: index 0).
  it('WindowOperatorTest.testDropDueToLatenessSessionWithHugeLateness', () => {
    const h = harness((input: Stream<KV>) =>
      input.keyBy((x) => x.k).window(session(3000), { allowedLateness: 10000 }).aggregate(sum((x: KV) => x.v)),
    );
    flinkSessionLatenessPrefix(h);
    expect(h.takeOutput()).toEqual([wr('key2', 1000, 11500, 5, 'on-time', 0, false)]);
    h.addElement(kv('key2'), 11600);
    h.advanceWatermarkTo(14600);
    expect(h.takeOutput()).toEqual([wr('key2', 11600, 14600, 1, 'on-time', 0, false)]);
    h.addElement(kv('key2'), 10000);
    expect(h.takeOutputWithTimestamps()).toEqual([
      { value: wr('key2', 1000, 14600, 7, 'late', 0, false), timestamp: 14599 },
    ]);
    h.addElement(kv('key2'), 14500);
    h.advanceWatermarkTo(20000);
    expect(h.takeOutputWithTimestamps()).toEqual([
      { value: wr('key2', 1000, 17500, 8, 'on-time', 0, false), timestamp: 17499 },
    ]);
    h.advanceWatermarkTo(100000);
    expect(h.takeOutput()).toEqual([]);
  });

  // Source: Flink, .../windowing/EventTimeSessionWindowsTest.java, testMergeConsecutiveWindows:
  // windows (0,1) (1,2) (2,3) (4,5) (5,6) merge into (0,3) and (4,6) because Flink merges
  // touching windows. Translation: those are the proto-windows of records 0,1,2,4,5 with gap 1.
  // Tidemark does not merge touching windows, so with gap 1 every record is its own session;
  // gap + 1 = 2 reproduces Flink's grouping ({0,1,2} and {4,5}), each session 1 ms longer.
  it('EventTimeSessionWindowsTest.testMergeConsecutiveWindows', () => {
    for (const gap of [1, 2]) {
      const h = harness((input: Stream<KV>) =>
        input.keyBy((x) => x.k).window(session(gap), { allowedLateness: 0 }).aggregate(count()),
      );
      for (const t of [0, 1, 2, 4, 5]) h.addElement(kv('k'), t);
      h.finish();
      const expected =
        gap === 1
          ? [0, 1, 2, 4, 5].map((t) => wr('k', t, t + 1, 1, 'on-time', 0, true))
          : [wr('k', 0, 4, 3, 'on-time', 0, true), wr('k', 4, 7, 2, 'on-time', 0, true)];
      expect(sortRes(h.takeOutput())).toEqual(sortRes(expected));
    }
  });

  // Source: Flink, .../windowing/TumblingEventTimeWindowsTest.java, testWindowAssignment,
  // testWindowAssignmentWithGlobalOffset, testWindowAssignmentWithNegativeGlobalOffset.
  // Translation: assignment is observed through the windows fired at end of input.
  it('TumblingEventTimeWindowsTest.testWindowAssignment(WithGlobalOffset|WithNegativeGlobalOffset)', () => {
    const cases: [number, [number, number, number][]][] = [
      [0, [[0, 0, 5000], [4999, 0, 5000], [5000, 5000, 10000]]],
      [100, [[100, 100, 5100], [5099, 100, 5100], [5100, 5100, 10100]]],
      [-100, [[0, -100, 4900], [4899, -100, 4900], [4900, 4900, 9900]]],
    ];
    for (const [offset, rows] of cases) {
      const h = harness((input: Stream<KV>) =>
        input
          .keyBy((x) => x.k)
          .window(tumbling(5000, { offset }), { allowedLateness: 0 })
          .aggregate(count()),
      );
      for (const [t] of rows) h.addElement(kv(String(t)), t);
      h.finish();
      expect(sortRes(h.takeOutput())).toEqual(
        sortRes(rows.map(([t, s, e]) => wr(String(t), s, e, 1, 'on-time', 0, true))),
      );
    }
  });

  // Source: Flink, .../windowing/SlidingEventTimeWindowsTest.java, testWindowAssignment,
  // testWindowAssignmentWithOffset, testWindowAssignmentWithNegativeOffset (size 5000, slide
  // 1000, offset 0 / 100 / −100). Translation: one key per timestamp; the windows fired at end
  // of input are the assigned windows.
  it('SlidingEventTimeWindowsTest.testWindowAssignment(WithOffset|WithNegativeOffset)', () => {
    const cases: [number, [number, number[]][]][] = [
      [
        0,
        [
          [0, [-4000, -3000, -2000, -1000, 0]],
          [4999, [0, 1000, 2000, 3000, 4000]],
          [5000, [1000, 2000, 3000, 4000, 5000]],
        ],
      ],
      [
        100,
        [
          [100, [-3900, -2900, -1900, -900, 100]],
          [5099, [100, 1100, 2100, 3100, 4100]],
          [5100, [1100, 2100, 3100, 4100, 5100]],
        ],
      ],
      [
        -100,
        [
          [0, [-4100, -3100, -2100, -1100, -100]],
          [4899, [-100, 900, 1900, 2900, 3900]],
          [4900, [900, 1900, 2900, 3900, 4900]],
        ],
      ],
    ];
    for (const [offset, rows] of cases) {
      const h = harness((input: Stream<KV>) =>
        input
          .keyBy((x) => x.k)
          .window(sliding(5000, 1000, { offset }), { allowedLateness: 0 })
          .aggregate(count()),
      );
      for (const [t] of rows) h.addElement(kv(String(t)), t);
      h.finish();
      expect(sortRes(h.takeOutput())).toEqual(
        sortRes(rows.flatMap(([t, starts]) => starts.map((s) => wr(String(t), s, s + 5000, 1, 'on-time', 0, true)))),
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Apache Beam
// ---------------------------------------------------------------------------------------------

describe('Beam', () => {
  /** Runs timestamps through `window` (value = timestamp) and returns window → sorted timestamps. */
  function assign<R extends { window: { start: number; end: number }; value: readonly KV[] }>(
    build: (input: Stream<KV>) => Stream<R>,
    timestamps: number[],
  ): Record<string, number[]> {
    const h = harness(build);
    for (const t of timestamps) h.addElement(kv('k', t), t);
    h.finish();
    const out: Record<string, number[]> = {};
    for (const x of h.takeOutput()) out[`[${x.window.start},${x.window.end})`] = x.value.map((y) => y.v).sort((a, b) => a - b);
    return out;
  }

  // Source: Beam, sdks/java/core/src/test/java/org/apache/beam/sdk/transforms/windowing/
  // FixedWindowsTest.java, testSimpleFixedWindow and testFixedOffsetWindow (WindowFnTestUtils
  // runWindowFn). Translation: window assignment only; observed at end of input.
  it('FixedWindowsTest.testSimpleFixedWindow / testFixedOffsetWindow', () => {
    const ts = [1, 2, 5, 9, 10, 11, 100];
    expect(
      assign((i) => i.keyBy((x) => x.k).window(tumbling(10), { allowedLateness: 0 }).aggregate(toList()), ts),
    ).toEqual({ '[0,10)': [1, 2, 5, 9], '[10,20)': [10, 11], '[100,110)': [100] });
    expect(
      assign(
        (i) => i.keyBy((x) => x.k).window(tumbling(10, { offset: 5 }), { allowedLateness: 0 }).aggregate(toList()),
        ts,
      ),
    ).toEqual({ '[-5,5)': [1, 2], '[5,15)': [5, 9, 10, 11], '[95,105)': [100] });
  });

  // Source: Beam, .../windowing/SlidingWindowsTest.java, testSimple (10 every 5),
  // testSlightlyOverlapping (7 every 5: the slide does not divide the size) and testOffset
  // (10 every 5, offset 2). Translation: none.
  it('SlidingWindowsTest.testSimple / testSlightlyOverlapping / testOffset', () => {
    const ts = [1, 2, 5, 9, 10, 11];
    expect(
      assign((i) => i.keyBy((x) => x.k).window(sliding(10, 5), { allowedLateness: 0 }).aggregate(toList()), ts),
    ).toEqual({ '[-5,5)': [1, 2], '[0,10)': [1, 2, 5, 9], '[5,15)': [5, 9, 10, 11], '[10,20)': [10, 11] });
    expect(
      assign((i) => i.keyBy((x) => x.k).window(sliding(7, 5), { allowedLateness: 0 }).aggregate(toList()), ts),
    ).toEqual({ '[-5,2)': [1], '[0,7)': [1, 2, 5], '[5,12)': [5, 9, 10, 11], '[10,17)': [10, 11] });
    expect(
      assign(
        (i) => i.keyBy((x) => x.k).window(sliding(10, 5, { offset: 2 }), { allowedLateness: 0 }).aggregate(toList()),
        ts,
      ),
    ).toEqual({ '[-8,2)': [1], '[-3,7)': [1, 2, 5], '[2,12)': [2, 5, 9, 10, 11], '[7,17)': [9, 10, 11] });
  });

  // Source: Beam, .../windowing/SlidingWindowsTest.java, testElidings (size 3 every 10: windows
  // that skip time). Translation: semantics.md requires slide ≤ size, so Tidemark rejects it.
  it('SlidingWindowsTest.testElidings is rejected (slide > size)', () => {
    expect(() => {
      const h = harness((i: Stream<KV>) =>
        i.keyBy((x) => x.k).window(sliding(3, 10), { allowedLateness: 0 }).aggregate(count()),
      );
      h.addElement(kv('k'), 1);
      h.finish();
    }).toThrow();
  });

  // Source: Beam, .../windowing/SessionsTest.java, testSimple (0 and 10 with gap 10 are separate
  // sessions — Beam, like Tidemark, does not merge touching windows), testConsecutive,
  // testMerging (out-of-order input) and testTimeUnit. Translation: none.
  it('SessionsTest.testSimple / testConsecutive / testMerging / testTimeUnit', () => {
    const sessions = (gap: number, ts: number[]) =>
      assign((i) => i.keyBy((x) => x.k).window(session(gap), { allowedLateness: 0 }).aggregate(toList()), ts);
    expect(sessions(10, [0, 10, 101])).toEqual({ '[0,10)': [0], '[10,20)': [10], '[101,111)': [101] });
    expect(sessions(10, [1, 2, 5, 9, 100, 101])).toEqual({ '[1,19)': [1, 2, 5, 9], '[100,111)': [100, 101] });
    expect(sessions(10, [1, 15, 30, 100, 101, 95, 22, 10])).toEqual({
      '[1,40)': [1, 10, 15, 22, 30],
      '[95,111)': [95, 100, 101],
    });
    expect(sessions(1000, [1, 2, 1000, 5000, 5001, 10000])).toEqual({
      '[1,2000)': [1, 2, 1000],
      '[5000,6001)': [5000, 5001],
      '[10000,11000)': [10000],
    });
  });

  // Source: Beam, runners/core-java/src/test/java/org/apache/beam/runners/core/
  // ReduceFnRunnerTest.java, testOnlyOneOnTimePane (fixed 10 ms, lateness 100, accumulating,
  // Sum): ON_TIME pane (index 0) with 1, then a LATE pane (index 1) with 1 + 3.
  // Translation: Beam watermarks 0 and 10 are Tidemark −1 and 9.
  it('ReduceFnRunnerTest.testOnlyOneOnTimePane', () => {
    const h = harness((input: Stream<KV>) =>
      input
        .keyBy((x) => x.k)
        .window(tumbling(10), { allowedLateness: 100, accumulation: 'accumulating' })
        .aggregate(sum((x: KV) => x.v)),
    );
    h.advanceWatermarkTo(beamWm(0));
    h.addElement(kv('k', 1), 1);
    h.advanceWatermarkTo(beamWm(10));
    h.addElement(kv('k', 3), 3);
    expect(h.takeOutput()).toEqual([
      wr('k', 0, 10, 1, 'on-time', 0, false),
      wr('k', 0, 10, 4, 'late', 1, false),
    ]);
  });

  // Source: Beam, ReduceFnRunnerTest.java, testFixedWindowsEowAndGcTogether and
  // testSessionEowAndGcTogether (lateness 50, accumulating, ClosingBehavior.FIRE_ALWAYS): when
  // the watermark passes the end of the window and its expiry in one step, a single ON_TIME
  // pane with isLast = true is emitted. Translation: Beam watermarks 0 and 100 → −1 and 99;
  // with the watermark at or past e − 1 + L the on-time pane is also the purge pane → final.
  it('ReduceFnRunnerTest.testFixedWindowsEowAndGcTogether / testSessionEowAndGcTogether', () => {
    const fixed = harness((input: Stream<KV>) =>
      input.keyBy((x) => x.k).window(tumbling(10), { allowedLateness: 50 }).aggregate(toList()),
    );
    fixed.advanceWatermarkTo(beamWm(0));
    fixed.addElement(kv('k', 1), 1);
    fixed.advanceWatermarkTo(beamWm(100));
    expect(fixed.takeOutput()).toEqual([wr('k', 0, 10, [kv('k', 1)], 'on-time', 0, true)]);
    fixed.finish();
    expect(fixed.takeOutput()).toEqual([]);

    const sess = harness((input: Stream<KV>) =>
      input.keyBy((x) => x.k).window(session(10), { allowedLateness: 50 }).aggregate(toList()),
    );
    sess.advanceWatermarkTo(beamWm(0));
    sess.addElement(kv('k', 1), 1);
    sess.advanceWatermarkTo(beamWm(100));
    expect(sess.takeOutput()).toEqual([wr('k', 1, 11, [kv('k', 1)], 'on-time', 0, true)]);
  });

  // Source: Beam, ReduceFnRunnerTest.java, testMergeBeforeFinalizing (sessions gap 10,
  // discarding, lateness 0): 1 and 10 pre-merge into [1,20); one ON_TIME pane, index 0, last.
  // Translation: Beam watermark 100 → 99.
  it('ReduceFnRunnerTest.testMergeBeforeFinalizing', () => {
    const h = harness((input: Stream<KV>) =>
      input
        .keyBy((x) => x.k)
        .window(session(10), { allowedLateness: 0, accumulation: 'discarding' })
        .aggregate(toList()),
    );
    h.addElement(kv('k', 1), 1);
    h.addElement(kv('k', 10), 10);
    h.advanceWatermarkTo(beamWm(100));
    expect(h.takeOutput().map(withSortedList)).toEqual([
      withSortedList(wr('k', 1, 20, [kv('k', 1), kv('k', 10)], 'on-time', 0, true)),
    ]);
  });

  // Source: Beam, ReduceFnRunnerTest.java, testDropDataMultipleWindowsFinishedTrigger (sliding
  // 100 every 30, AfterWatermark.pastEndOfWindow(), lateness 1000; DROPPED_DUE_TO_CLOSED_WINDOW
  // goes 0 → 1 → 4). Translation: Beam closes a window through its finished (non-repeating)
  // trigger; Tidemark's equivalent of "closed at the on-time firing" is allowed lateness 0, and
  // Beam's per-window drop count is Tidemark's tooLatePairs. Beam watermarks 70 and 130 → 69
  // and 129. (The record at 60 is also in [60,160), which Beam's comment leaves out.)
  it('ReduceFnRunnerTest.testDropDataMultipleWindowsFinishedTrigger', async () => {
    const h = harness((input: Stream<KV>) =>
      input
        .keyBy((x) => x.k)
        .window(sliding(100, 30), { allowedLateness: 0, name: 'win' })
        .aggregate(sum((x: KV) => x.v)),
    );
    h.addElement(kv('k', 10), 23); // [-60,40) [-30,70) [0,100)
    h.addElement(kv('k', 12), 40); // [-30,70) [0,100) [30,130)
    expect((await h.summary()).operators['win']).toMatchObject({ tooLatePairs: 0 });
    h.advanceWatermarkTo(beamWm(70));
    expect(sortRes(h.takeOutput())).toEqual(
      sortRes([wr('k', -60, 40, 10, 'on-time', 0, true), wr('k', -30, 70, 22, 'on-time', 0, true)]),
    );
    h.addElement(kv('k', 14), 60); // [-30,70) closed; [0,100) [30,130) [60,160) accept it
    expect((await h.summary()).operators['win']).toMatchObject({ tooLatePairs: 1 });
    h.advanceWatermarkTo(beamWm(130));
    expect(sortRes(h.takeOutput())).toEqual(
      sortRes([wr('k', 0, 100, 36, 'on-time', 0, true), wr('k', 30, 130, 26, 'on-time', 0, true)]),
    );
    h.addElement(kv('k', 16), 40); // all of [-30,70) [0,100) [30,130) closed
    expect((await h.summary()).operators['win']).toMatchObject({ tooLatePairs: 4 });
    h.finish();
    expect(h.takeOutput()).toEqual([wr('k', 60, 160, 14, 'on-time', 0, true)]);
    expect(sortLate(h.takeLate())).toEqual([
      {
        value: kv('k', 16),
        timestamp: 40,
        key: 'k',
        missedWindows: [
          { start: -30, end: 70 },
          { start: 0, end: 100 },
          { start: 30, end: 130 },
        ],
      },
      { value: kv('k', 14), timestamp: 60, key: 'k', missedWindows: [{ start: -30, end: 70 }] },
    ]);
    expect((await h.summary()).operators['win']).toMatchObject({ in: 4, accepted: 3, tooLate: 1, tooLatePairs: 4 });
  });

  // Source: Beam, ReduceFnRunnerTest.java, testPaneInfoSkipToNonSpeculativeAndFinish (fixed 10,
  // lateness 100, discarding): with the input watermark at 15 the first element of [0,10)
  // gives a LATE pane that is the first pane. Translation: Beam watermark 15 → 14. Beam's pane
  // is also isLast only because its mocked trigger finishes; Tidemark's default late trigger
  // does not finish, so final stays false until the purge.
  it('ReduceFnRunnerTest.testPaneInfoSkipToNonSpeculativeAndFinish (window born late)', () => {
    const h = harness((input: Stream<KV>) =>
      input
        .keyBy((x) => x.k)
        .window(tumbling(10), { allowedLateness: 100, accumulation: 'discarding' })
        .aggregate(toList()),
    );
    h.advanceWatermarkTo(beamWm(15));
    h.addElement(kv('k', 1), 1);
    expect(h.takeOutput()).toEqual([wr('k', 0, 10, [kv('k', 1)], 'late', 0, false)]);
  });

  // Source: Beam, sdks/java/core/src/test/java/org/apache/beam/sdk/testing/TestStreamTest.java,
  // testLateDataAccumulating (fixed 5 min, lateness 5 min, accumulating, late firings on every
  // element): on-time pane {1,2,3}; 4 and 5 are late but admitted; −1,−2,−3 arrive after the
  // window expired and are dropped. Translation: Beam watermarks 6 min and 20 min → 359999 and
  // 1199999; early processing-time firings and ClosingBehavior.FIRE_ALWAYS are not used (the
  // window's last pane is the late pane with 1..5, and nothing is pending at the purge).
  it('TestStreamTest.testLateDataAccumulating', () => {
    const min = 60_000;
    const h = harness((input: Stream<KV>) =>
      input
        .keyBy(() => 'all')
        .window(tumbling(5 * min), { allowedLateness: 5 * min, accumulation: 'accumulating' })
        .aggregate(sum((x: KV) => x.v)),
    );
    for (const v of [1, 2, 3]) h.addElement(kv('k', v), 0);
    h.advanceWatermarkTo(beamWm(6 * min));
    expect(h.takeOutput()).toEqual([wr('all', 0, 5 * min, 6, 'on-time', 0, false)]);
    h.addElement(kv('k', 4), 0);
    h.addElement(kv('k', 5), 0);
    expect(h.takeOutput()).toEqual([
      wr('all', 0, 5 * min, 10, 'late', 1, false),
      wr('all', 0, 5 * min, 15, 'late', 2, false),
    ]);
    h.advanceWatermarkTo(beamWm(20 * min));
    expect(h.takeOutput()).toEqual([]);
    for (const v of [-1, -2, -3]) h.addElement(kv('k', v), 0);
    h.finish();
    expect(h.takeOutput()).toEqual([]);
    expect(h.takeLate<{ value: KV }>().map((l) => l.value.v)).toEqual([-1, -2, -3]);
  });

  // Source: Beam, TestStreamTest.java, testDiscardingMode (fixed 1 s, lateness 5 s, discarding):
  // the window's panes together hold the five elements exactly once; the on-time pane holds
  // "onTimePane" and the elements before it; the late elements come after. Translation: Beam
  // watermarks 0 and 1000 → −1 and 999. The early count trigger (elementCountAtLeast(2)) and
  // `withLateFirings(Never.ever())` are not in the API: without them "firstPane",
  // "alsoFirstPane" and "onTimePane" share the on-time pane, and each late element fires its
  // own late pane instead of waiting for the final pane.
  it('TestStreamTest.testDiscardingMode (default triggers)', () => {
    const h = harness((input: Stream<string>) =>
      input
        .keyBy(() => 1)
        .window(tumbling(1000), { allowedLateness: 5000, accumulation: 'discarding' })
        .aggregate(toList()),
    );
    h.advanceWatermarkTo(beamWm(0));
    h.addElement('firstPane', 100);
    h.addElement('alsoFirstPane', 200);
    h.addElement('onTimePane', 500);
    h.advanceWatermarkTo(beamWm(1000));
    h.addElement('finalLatePane', 750);
    h.addElement('alsoFinalLatePane', 250);
    h.finish();
    expect(h.takeOutput().map(withSortedList)).toEqual([
      wr(1, 0, 1000, ['alsoFirstPane', 'firstPane', 'onTimePane'], 'on-time', 0, false),
      wr(1, 0, 1000, ['finalLatePane'], 'late', 1, false),
      wr(1, 0, 1000, ['alsoFinalLatePane'], 'late', 2, false),
    ]);
  });

  // Source: Beam, TestStreamTest.java, testFirstElementLate (fixed 1 s, lateness 5 s): an
  // element at −1,000,000 arriving at watermark 0 is droppably late; its window stays empty,
  // and "onTime" still gets its window. Translation: Beam watermark 0 → −1; Tidemark routes
  // the dropped element to late() instead of discarding it.
  it('TestStreamTest.testFirstElementLate', () => {
    const h = harness((input: Stream<string>) =>
      input
        .keyBy(() => 1)
        .window(tumbling(1000), { allowedLateness: 5000, accumulation: 'discarding' })
        .aggregate(toList()),
    );
    h.advanceWatermarkTo(beamWm(0));
    h.addElement('late', -1_000_000);
    h.addElement('onTime', 100);
    h.finish();
    expect(h.takeOutput()).toEqual([wr(1, 0, 1000, ['onTime'], 'on-time', 0, true)]);
    expect(h.takeLate()).toEqual([
      { value: 'late', timestamp: -1_000_000, key: 1, missedWindows: [{ start: -1_000_000, end: -999_000 }] },
    ]);
  });

  // Source: Beam, ReduceFnRunnerTest.java, fireNonEmptyOnDrainInGlobalWindow (global window,
  // discarding, 20 elements, ON_TIME pane when the watermark reaches the end of time).
  // Translation: the repeated count trigger is not in the API, so there are no early panes and
  // the single pane at end of input holds all 20 elements (on-time, index 0, final).
  it('ReduceFnRunnerTest.fireNonEmptyOnDrainInGlobalWindow (no count trigger)', () => {
    const h = harness((input: Stream<KV>) =>
      input
        .keyBy((x) => x.k)
        .window(globalWindow(), { allowedLateness: 0, accumulation: 'discarding' })
        .aggregate(toList()),
    );
    h.advanceWatermarkTo(beamWm(0));
    for (let i = 0; i < 20; i++) h.addElement(kv('k', i), i);
    h.advanceWatermarkTo(1e15);
    expect(h.takeOutput()).toEqual([]);
    h.finish();
    const out = h.takeOutput();
    expect(out).toHaveLength(1);
    expect(out[0]?.pane).toEqual({ timing: 'on-time', index: 0, final: true });
    expect(out[0]?.value.map((x) => x.v).sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
  });
});

// ---------------------------------------------------------------------------------------------
// Kafka Streams
// ---------------------------------------------------------------------------------------------

describe('Kafka Streams', () => {
  const A = (t: number) => [ks('A', '1'), t] as const;

  // Source: Kafka, streams/src/test/java/org/apache/kafka/streams/kstream/internals/
  // KStreamWindowAggregateTest.java, testAggBasic (hopping 10 advance 5, grace 100; with
  // EmitStrategy.onWindowClose "nothing processed since grace is 100L and no window closes";
  // with onWindowUpdate the last update of each window is its final aggregate).
  // Translation: W = S − 100 − 1 never reaches a window end, so nothing fires before end of
  // input; at end of input each window's pane equals Kafka's last update (string concatenation
  // compared as a sorted list). Tidemark also has the [−5,5) windows Kafka does not create.
  it('KStreamWindowAggregateTest.testAggBasic', () => {
    const h = harness((input: Stream<KS>) =>
      input.keyBy((x) => x.k).window(sliding(10, 5), { allowedLateness: 0 }).aggregate(toList()),
    );
    const pipe = kafkaDriver(h, 100);
    const input: [string, string, number][] = [
      ['A', '1', 0], ['B', '2', 1], ['C', '3', 2], ['D', '4', 3], ['A', '1', 4],
      ['A', '1', 5], ['B', '2', 6], ['D', '4', 7], ['B', '2', 8], ['C', '3', 9],
      ['A', '1', 10], ['B', '2', 11], ['D', '4', 12], ['B', '2', 13], ['C', '3', 14],
      ['B', '1', 3], ['B', '2', 2], ['B', '3', 9],
    ];
    for (const [k, s, t] of input) pipe(ks(k, s), t);
    expect(h.takeOutput()).toEqual([]);
    h.finish();
    const got = sortRes(h.takeOutput().map(withSortedList)).map((x) => ({
      key: x.key,
      window: x.window,
      value: x.value.map((y) => y.s),
      pane: x.pane,
    }));
    const fin = (k: string, s: number, values: string[]) => wr(k, s, s + 10, values, 'on-time', 0, true);
    expect(got).toEqual(
      sortRes([
        fin('A', -5, ['1', '1']),
        fin('A', 0, ['1', '1', '1']), // Kafka "0+1+1+1"
        fin('A', 5, ['1', '1']), // "0+1+1"
        fin('A', 10, ['1']), // "0+1"
        fin('B', -5, ['1', '2', '2']),
        fin('B', 0, ['1', '2', '2', '2', '2', '3']), // "0+2+2+2+1+2+3"
        fin('B', 5, ['2', '2', '2', '2', '3']), // "0+2+2+2+2+3"
        fin('B', 10, ['2', '2']), // "0+2+2"
        fin('C', -5, ['3']),
        fin('C', 0, ['3', '3']), // "0+3+3"
        fin('C', 5, ['3', '3']), // "0+3+3"
        fin('C', 10, ['3']), // "0+3"
        fin('D', -5, ['4']),
        fin('D', 0, ['4', '4']), // "0+4+4"
        fin('D', 5, ['4', '4']), // "0+4+4"
        fin('D', 10, ['4']), // "0+4"
      ]),
    );
  });

  // Source: Kafka, KStreamWindowAggregateTest.java, testJoin → processEmitFinalJoin, the
  // topic1 aggregation only (hopping 10 advance 5, grace 5, EmitStrategy.onWindowClose).
  // Translation: W = S − 5 − 1: A@15 makes W = 9 and closes [0,10) (and Tidemark's [−5,5));
  // A@20 makes W = 14 and closes [5,15). Kafka stamps results with the newest record time,
  // Tidemark with end − 1. The join itself is not translated.
  it('KStreamWindowAggregateTest.testJoin (processEmitFinalJoin, topic1 aggregate)', () => {
    const h = harness((input: Stream<KS>) =>
      input.keyBy((x) => x.k).window(sliding(10, 5), { allowedLateness: 0 }).aggregate(toList()),
    );
    const pipe = kafkaDriver(h, 5);
    type Pane = { timing: string; index: number; final: boolean };
    const strings = (xs: readonly { key: string; window: { start: number; end: number }; value: readonly KS[]; pane: Pane }[]) =>
      sortRes(xs.map((x) => ({ ...x, value: x.value.map((y) => y.s).sort() })));
    pipe(ks('A', '1'), 0);
    pipe(ks('B', '2'), 1);
    pipe(ks('C', '3'), 2);
    pipe(ks('D', '4'), 3);
    pipe(...A(9));
    expect(h.takeOutput()).toEqual([]);
    pipe(...A(15));
    expect(strings(h.takeOutput())).toEqual(
      sortRes([
        wr('A', -5, 5, ['1'], 'on-time', 0, true),
        wr('B', -5, 5, ['2'], 'on-time', 0, true),
        wr('C', -5, 5, ['3'], 'on-time', 0, true),
        wr('D', -5, 5, ['4'], 'on-time', 0, true),
        wr('A', 0, 10, ['1', '1'], 'on-time', 0, true), // Kafka "0+1+1"
        wr('B', 0, 10, ['2'], 'on-time', 0, true),
        wr('C', 0, 10, ['3'], 'on-time', 0, true),
        wr('D', 0, 10, ['4'], 'on-time', 0, true),
      ]),
    );
    pipe(ks('A', '1'), 10);
    pipe(ks('B', '2'), 11);
    pipe(ks('D', '4'), 12);
    pipe(ks('B', '2'), 13);
    pipe(ks('C', '3'), 14);
    expect(h.takeOutput()).toEqual([]);
    pipe(...A(20));
    expect(strings(h.takeOutput())).toEqual(
      sortRes([
        wr('A', 5, 15, ['1', '1'], 'on-time', 0, true), // "0+1+1"
        wr('B', 5, 15, ['2', '2'], 'on-time', 0, true), // "0+2+2"
        wr('C', 5, 15, ['3'], 'on-time', 0, true), // "0+3"
        wr('D', 5, 15, ['4'], 'on-time', 0, true), // "0+4"
      ]),
    );
  });

  // Source: Kafka, KStreamWindowAggregateTest.java, shouldLogAndMeterWhenSkippingExpiredWindow
  // (hopping 10 advance 5, grace 90, emit on window close): after k@100 the records 0..6 are
  // skipped for the expired window [0,10) (7 drops); 5 and 6 still land in [5,15), which is
  // emitted ("+5+6") once k@105 moves stream time to 105. Translation: W = S − 91. Tidemark's
  // sliding windows also include [−5,5), so 0..4 miss two windows each: tooLatePairs is
  // 5·2 + 2 = 12 where Kafka counts 7. All seven records are in late(); 5 and 6 count as
  // accepted. The windows still open when Kafka's test ends are checked at end of input
  // against Kafka's last updates ("+100", "+100+105+106", "+105+106").
  it('KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindow', async () => {
    const h = harness((input: Stream<KS>) =>
      input
        .keyBy((x) => x.k)
        .window(sliding(10, 5), { allowedLateness: 0, name: 'win' })
        .aggregate(toList()),
    );
    const pipe = kafkaDriver(h, 90);
    pipe(ks('k', '100'), 100);
    for (let t = 0; t <= 6; t++) pipe(ks('k', String(t)), t);
    expect(h.takeOutput()).toEqual([]);
    pipe(ks('k', '105'), 105);
    expect(h.takeOutput().map((x) => ({ ...x, value: x.value.map((y) => y.s) }))).toEqual([
      wr('k', 5, 15, ['5', '6'], 'on-time', 0, true),
    ]);
    pipe(ks('k', '106'), 106);
    expect(h.takeOutput()).toEqual([]);
    const late = sortLate(h.takeLate());
    expect(late.map((l) => [l.timestamp, l.missedWindows])).toEqual([
      [0, [{ start: -5, end: 5 }, { start: 0, end: 10 }]],
      [1, [{ start: -5, end: 5 }, { start: 0, end: 10 }]],
      [2, [{ start: -5, end: 5 }, { start: 0, end: 10 }]],
      [3, [{ start: -5, end: 5 }, { start: 0, end: 10 }]],
      [4, [{ start: -5, end: 5 }, { start: 0, end: 10 }]],
      [5, [{ start: 0, end: 10 }]],
      [6, [{ start: 0, end: 10 }]],
    ]);
    h.finish();
    expect(sortRes(h.takeOutput()).map((x) => ({ ...x, value: x.value.map((y) => y.s).sort() }))).toEqual(
      sortRes([
        wr('k', 95, 105, ['100'], 'on-time', 0, true),
        wr('k', 100, 110, ['100', '105', '106'], 'on-time', 0, true),
        wr('k', 105, 115, ['105', '106'], 'on-time', 0, true),
      ]),
    );
    expect((await h.summary()).operators['win']).toMatchObject({ in: 10, accepted: 5, tooLate: 5, tooLatePairs: 12 });
  });

  // Source: Kafka, KStreamWindowAggregateTest.java, shouldLogAndMeterWhenSkippingExpiredWindowByGrace
  // (tumbling 10, grace 90): after k@200, the records at 100..105 (window [100,110), expiration
  // 110 ≤ stream time 200) and at 6 are dropped: 7 drops. Translation: W = S − 91 = 109 =
  // end − 1 of [100,110), so with allowed lateness 0 they are too late. The only result,
  // [200,210) "+100", is checked at end of input.
  it('KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindowByGrace', async () => {
    const h = harness((input: Stream<KS>) =>
      input.keyBy((x) => x.k).window(tumbling(10), { allowedLateness: 0, name: 'win' }).aggregate(toList()),
    );
    const pipe = kafkaDriver(h, 90);
    pipe(ks('k', '100'), 200);
    for (const [s, t] of [['0', 100], ['1', 101], ['2', 102], ['3', 103], ['4', 104], ['5', 105], ['6', 6]] as const) {
      pipe(ks('k', s), t);
    }
    expect(h.takeOutput()).toEqual([]);
    const late = sortLate(h.takeLate());
    expect(late.map((l) => [l.timestamp, l.missedWindows])).toEqual([
      [6, [{ start: 0, end: 10 }]],
      ...[100, 101, 102, 103, 104, 105].map((t) => [t, [{ start: 100, end: 110 }]]),
    ]);
    h.finish();
    expect(h.takeOutput()).toEqual([wr('k', 200, 210, [ks('k', '100')], 'on-time', 0, true)]);
    expect((await h.summary()).operators['win']).toMatchObject({ in: 8, accepted: 1, tooLate: 7, tooLatePairs: 7 });
  });

  // Source: Kafka, KStreamSessionWindowAggregateProcessorTest.java,
  // shouldLogAndMeterWhenSkippingLateRecordWithZeroGrace (gap 10, grace 0): a dummy record at
  // 11 moves stream time past OnTime1's session; Late1@0 is then skipped (1 drop).
  // Translation: session gap 10 + 1 = 11, W = S − 0 − 1. Late1's session [0,11) has
  // end − 1 = 10 ≤ W = 10 → too late.
  it('KStreamSessionWindowAggregateProcessorTest.shouldLogAndMeterWhenSkippingLateRecordWithZeroGrace', async () => {
    const h = harness((input: Stream<KS>) =>
      input.keyBy((x) => x.k).window(session(11), { allowedLateness: 0, name: 'win' }).aggregate(count()),
    );
    const pipe = kafkaDriver(h, 0);
    pipe(ks('dummy', 'dummy'), 0);
    pipe(ks('OnTime1', '1'), 0);
    pipe(ks('dummy', 'dummy'), 11);
    expect(sortRes(h.takeOutput())).toEqual(
      sortRes([wr('dummy', 0, 11, 1, 'on-time', 0, true), wr('OnTime1', 0, 11, 1, 'on-time', 0, true)]),
    );
    pipe(ks('Late1', '1'), 0);
    expect(h.takeLate()).toEqual([
      { value: ks('Late1', '1'), timestamp: 0, key: 'Late1', missedWindows: [{ start: 0, end: 11 }] },
    ]);
    h.finish();
    expect(h.takeOutput()).toEqual([wr('dummy', 11, 22, 1, 'on-time', 0, true)]);
    expect((await h.summary()).operators['win']).toMatchObject({ in: 4, accepted: 3, tooLate: 1 });
  });

  // Source: Kafka, KStreamSessionWindowAggregateProcessorTest.java,
  // shouldLogAndMeterWhenSkippingLateRecordWithNonzeroGrace (gap 10, grace 1): OnTime2@0 at
  // stream time 11 is still accepted; Late1@0 at stream time 12 is skipped (1 drop).
  // Translation: gap 11, W = S − 2 (9, then 10).
  it('KStreamSessionWindowAggregateProcessorTest.shouldLogAndMeterWhenSkippingLateRecordWithNonzeroGrace', async () => {
    const h = harness((input: Stream<KS>) =>
      input.keyBy((x) => x.k).window(session(11), { allowedLateness: 0, name: 'win' }).aggregate(count()),
    );
    const pipe = kafkaDriver(h, 1);
    pipe(ks('dummy', 'dummy'), 0);
    pipe(ks('OnTime1', '1'), 0);
    pipe(ks('dummy', 'dummy'), 11);
    expect(h.takeOutput()).toEqual([]);
    pipe(ks('OnTime2', '1'), 0);
    pipe(ks('dummy', 'dummy'), 12); // dummy@11 and dummy@12 merge: [11,23)
    expect(sortRes(h.takeOutput())).toEqual(
      sortRes([
        wr('dummy', 0, 11, 1, 'on-time', 0, true),
        wr('OnTime1', 0, 11, 1, 'on-time', 0, true),
        wr('OnTime2', 0, 11, 1, 'on-time', 0, true),
      ]),
    );
    pipe(ks('Late1', '1'), 0);
    expect(h.takeLate()).toEqual([
      { value: ks('Late1', '1'), timestamp: 0, key: 'Late1', missedWindows: [{ start: 0, end: 11 }] },
    ]);
    h.finish();
    expect(h.takeOutput()).toEqual([wr('dummy', 11, 23, 2, 'on-time', 0, true)]);
    expect((await h.summary()).operators['win']).toMatchObject({ in: 6, accepted: 5, tooLate: 1 });
  });

  // Source: Kafka, KStreamSessionWindowAggregateProcessorTest.java,
  // shouldHandleMultipleSessionsAndMerging, shouldHaveMultipleSessionsForSameIdWhenTimestampApartBySessionGap,
  // shouldMergeSessions and shouldRemoveMergedSessionsFromStateStore (gap 5 min = 300000;
  // records GAP + 1 apart are separate sessions; a record in between bridges them).
  // Translation: Tidemark session gap 300001; Kafka's session [first, last] is reported as
  // [first, last + 300001). The default grace of these tests is never reached (no watermark),
  // so results are read at end of input; Kafka's count values are the last update per session.
  it('KStreamSessionWindowAggregateProcessorTest session merging cases', () => {
    const GAP = 300_000;
    const build = () =>
      harness((input: Stream<KS>) =>
        input.keyBy((x) => x.k).window(session(GAP + 1), { allowedLateness: 0 }).aggregate(count()),
      );
    const kafkaSession = (k: string, first: number, last: number, n: number) =>
      wr(k, first, last + GAP + 1, n, 'on-time', 0, true);

    // shouldHandleMultipleSessionsAndMerging
    const h1 = build();
    for (const k of ['a', 'b', 'c', 'd']) h1.addElement(ks(k, '1'), 0);
    h1.addElement(ks('d', '2'), GAP / 2);
    h1.addElement(ks('a', '2'), GAP + 1);
    h1.addElement(ks('b', '2'), GAP + 1);
    h1.addElement(ks('a', '3'), GAP + 1 + GAP / 2);
    h1.addElement(ks('c', '3'), GAP + 1 + GAP / 2);
    h1.finish();
    expect(sortRes(h1.takeOutput())).toEqual(
      sortRes([
        kafkaSession('a', 0, 0, 1),
        kafkaSession('b', 0, 0, 1),
        kafkaSession('c', 0, 0, 1),
        kafkaSession('d', 0, GAP / 2, 2),
        kafkaSession('b', GAP + 1, GAP + 1, 1),
        kafkaSession('a', GAP + 1, GAP + 1 + GAP / 2, 2),
        kafkaSession('c', GAP + 1 + GAP / 2, GAP + 1 + GAP / 2, 1),
      ]),
    );

    // shouldHaveMultipleSessionsForSameIdWhenTimestampApartBySessionGap
    const h2 = build();
    h2.addElement(ks('mel', 'first'), 0);
    h2.addElement(ks('mel', 'second'), GAP + 1);
    h2.addElement(ks('mel', 'second'), GAP + 1);
    h2.addElement(ks('mel', 'third'), 2 * (GAP + 1));
    h2.addElement(ks('mel', 'third'), 2 * (GAP + 1));
    h2.addElement(ks('mel', 'third'), 2 * (GAP + 1));
    h2.finish();
    expect(sortRes(h2.takeOutput())).toEqual(
      sortRes([
        kafkaSession('mel', 0, 0, 1),
        kafkaSession('mel', GAP + 1, GAP + 1, 2),
        kafkaSession('mel', 2 * (GAP + 1), 2 * (GAP + 1), 3),
      ]),
    );

    // shouldMergeSessions: 0 and GAP + 1 are separate until GAP / 2 arrives and bridges them
    const h3 = build();
    h3.addElement(ks('mel', 'first'), 0);
    h3.addElement(ks('mel', 'second'), GAP + 1);
    h3.addElement(ks('mel', 'third'), GAP / 2);
    h3.finish();
    expect(h3.takeOutput()).toEqual([kafkaSession('mel', 0, GAP + 1, 3)]);

    // shouldRemoveMergedSessionsFromStateStore (0 and 100 merge), plus Kafka's boundary rule
    // from semantics.md: |Δ| = gap still merges in Kafka, so it must merge here too.
    const h4 = build();
    h4.addElement(ks('a', '1'), 0);
    h4.addElement(ks('a', '2'), 100);
    h4.addElement(ks('z', '1'), 0);
    h4.addElement(ks('z', '2'), GAP);
    h4.finish();
    expect(sortRes(h4.takeOutput())).toEqual(sortRes([kafkaSession('a', 0, 100, 2), kafkaSession('z', 0, GAP, 2)]));
  });

  // Source: Kafka, streams/src/test/java/org/apache/kafka/streams/kstream/TimeWindowsTest.java,
  // shouldComputeWindowsForHoppingWindows (size 12 advance 5 at 21 → [10,22) [15,27) [20,32)),
  // shouldComputeWindowsForBarelyOverlappingHoppingWindows (size 6 advance 5 at 7 → [5,11)
  // only) and shouldComputeWindowsForTumblingWindows (size 12 at 21 → [12,24)).
  // Translation: hopping windows are Tidemark sliding windows; observed at end of input.
  it('TimeWindowsTest.shouldComputeWindowsFor(Hopping|BarelyOverlappingHopping|Tumbling)Windows', () => {
    const windowsOf = <R extends { window: { start: number; end: number } }>(build: (i: Stream<KV>) => Stream<R>, t: number) => {
      const h = harness(build);
      h.addElement(kv('k'), t);
      h.finish();
      return h
        .takeOutput()
        .map((x) => [x.window.start, x.window.end])
        .sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
    };
    expect(
      windowsOf((i) => i.keyBy((x) => x.k).window(sliding(12, 5), { allowedLateness: 0 }).aggregate(count()), 21),
    ).toEqual([
      [10, 22],
      [15, 27],
      [20, 32],
    ]);
    expect(
      windowsOf((i) => i.keyBy((x) => x.k).window(sliding(6, 5), { allowedLateness: 0 }).aggregate(count()), 7),
    ).toEqual([[5, 11]]);
    expect(
      windowsOf((i) => i.keyBy((x) => x.k).window(tumbling(12), { allowedLateness: 0 }).aggregate(count()), 21),
    ).toEqual([[12, 24]]);
  });
});
