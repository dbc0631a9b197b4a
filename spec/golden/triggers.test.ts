/**
 * Golden cases for triggers and panes: early (every N records, after a processing-time delay,
 * continuous event time), on-time (`always` / `if-non-empty`), late (every N, after a delay),
 * closing panes, count windows, and accumulating / discarding / retracting values — computed by
 * hand from docs/semantics.md.
 */
import { describe, expect, it } from 'vitest';
import { type Stream, type WindowOptions, type WindowResult, globalWindow, session, sum, tumbling } from 'tidemark';
import { harness } from 'tidemark/testing';

interface Rec {
  k: string;
  v: number;
}
const r = (v: number, k = 'a'): Rec => ({ k, v });

/** Compact rendering: [start, end, value, timing, index, final] (+ 'R' for retractions). */
function rows(out: WindowResult<string, number>[]): unknown[] {
  return out.map((x) => [x.window.start, x.window.end, x.value, x.pane.timing, x.pane.index, x.pane.final, ...(x.retraction === true ? ['R'] : [])]);
}

function tumble(options: WindowOptions) {
  return harness((input: Stream<Rec>) => input.keyBy((x) => x.k).window(tumbling(10), options).aggregate(sum((x) => x.v)));
}

describe('early panes every N records', () => {
  it('accumulating: early pane with what has arrived, on-time pane with everything', () => {
    const h = tumble({ trigger: { early: { everyRecords: 2 } } });
    h.addElement(r(1), 1);
    h.addElement(r(2), 2);
    expect(rows(h.takeOutput())).toEqual([[0, 10, 3, 'early', 0, false]]);
    h.addElement(r(3), 3);
    h.advanceWatermarkTo(9);
    expect(rows(h.takeOutput())).toEqual([[0, 10, 6, 'on-time', 1, true]]);
  });

  it('discarding: each pane holds only what arrived since the previous one', () => {
    const h = tumble({ trigger: { early: { everyRecords: 2 } }, accumulation: 'discarding' });
    h.addElement(r(1), 1);
    h.addElement(r(2), 2);
    h.addElement(r(3), 3);
    h.advanceWatermarkTo(9);
    expect(rows(h.takeOutput())).toEqual([[0, 10, 3, 'early', 0, false], [0, 10, 3, 'on-time', 1, true]]);
  });

  it('retracting: an updated pane is preceded by the retraction of the previous one', () => {
    const h = tumble({ trigger: { early: { everyRecords: 2 } }, accumulation: 'retracting' });
    h.addElement(r(1), 1);
    h.addElement(r(2), 2);
    h.addElement(r(3), 3);
    h.advanceWatermarkTo(9);
    expect(rows(h.takeOutput())).toEqual([
      [0, 10, 3, 'early', 0, false],
      [0, 10, 3, 'early', 0, false, 'R'],
      [0, 10, 6, 'on-time', 1, true],
    ]);
  });

  it("onTime: 'if-non-empty' skips an on-time pane with nothing new; closing: 'always' still closes the window", () => {
    const quiet = tumble({ trigger: { early: { everyRecords: 2 }, onTime: 'if-non-empty' } });
    quiet.addElement(r(1), 1);
    quiet.addElement(r(2), 2);
    quiet.advanceWatermarkTo(9);
    expect(rows(quiet.takeOutput())).toEqual([[0, 10, 3, 'early', 0, false]]);
    const closing = tumble({ trigger: { early: { everyRecords: 2 }, onTime: 'if-non-empty' }, closing: 'always' });
    closing.addElement(r(1), 1);
    closing.addElement(r(2), 2);
    closing.advanceWatermarkTo(9);
    expect(rows(closing.takeOutput())).toEqual([[0, 10, 3, 'early', 0, false], [0, 10, 3, 'on-time', 1, true]]);
  });
});

describe('processing-time triggers (driven by the harness clock)', () => {
  it('early afterProcessingTime: a pane d after the first record of each pane', () => {
    const h = tumble({ trigger: { early: { afterProcessingTime: 1_000 } } });
    h.addElement(r(1), 1);
    h.advanceProcessingTimeTo(999);
    expect(h.takeOutput()).toEqual([]);
    h.advanceProcessingTimeTo(1_000);
    expect(rows(h.takeOutput())).toEqual([[0, 10, 1, 'early', 0, false]]);
    h.advanceProcessingTimeTo(5_000); // nothing new: no timer
    expect(h.takeOutput()).toEqual([]);
    h.addElement(r(2), 2); // at processing time 5000 → due 6000
    h.advanceWatermarkTo(9); // on time first: the timer is cancelled
    h.advanceProcessingTimeTo(10_000);
    expect(rows(h.takeOutput())).toEqual([[0, 10, 3, 'on-time', 1, true]]);
  });

  it('late afterProcessingTime: late records wait for the delay; a purge with records pending emits a final pane', () => {
    const h = tumble({ allowedLateness: 100, trigger: { late: { afterProcessingTime: 5_000 } } });
    h.addElement(r(1), 1);
    h.advanceWatermarkTo(9);
    expect(rows(h.takeOutput())).toEqual([[0, 10, 1, 'on-time', 0, false]]);
    h.addElement(r(2), 2);
    expect(h.takeOutput()).toEqual([]);
    h.advanceProcessingTimeTo(5_000);
    expect(rows(h.takeOutput())).toEqual([[0, 10, 3, 'late', 1, false]]);
    h.addElement(r(3), 3);
    h.advanceWatermarkTo(109); // purged before the timer: the pending record is not lost
    expect(rows(h.takeOutput())).toEqual([[0, 10, 6, 'late', 2, true]]);
    h.advanceProcessingTimeTo(20_000);
    expect(h.takeOutput()).toEqual([]);
  });

  it('late everyRecords: a late pane per N late records', () => {
    const h = tumble({ allowedLateness: 100, trigger: { late: { everyRecords: 2 } } });
    h.addElement(r(1), 1);
    h.advanceWatermarkTo(9);
    h.addElement(r(2), 2);
    h.addElement(r(3), 3);
    h.addElement(r(4), 4);
    h.finish();
    expect(rows(h.takeOutput())).toEqual([
      [0, 10, 1, 'on-time', 0, false],
      [0, 10, 6, 'late', 1, false],
      [0, 10, 10, 'late', 2, true], // the purge at end of input flushes the pending record
    ]);
  });
});

describe('continuous event-time firing', () => {
  it('fires each time the watermark passes the next multiple of d above the first record, with or without new records', () => {
    const h = tumble({ trigger: { early: { everyEventTime: 4 } } });
    h.addElement(r(1), 1);
    h.advanceWatermarkTo(3);
    expect(h.takeOutput()).toEqual([]);
    h.advanceWatermarkTo(4);
    expect(rows(h.takeOutput())).toEqual([[0, 10, 1, 'early', 0, false]]);
    h.advanceWatermarkTo(7);
    h.addElement(r(2), 8);
    h.advanceWatermarkTo(8);
    h.advanceWatermarkTo(9);
    expect(rows(h.takeOutput())).toEqual([[0, 10, 3, 'early', 1, false], [0, 10, 3, 'on-time', 2, true]]);
  });
});

describe('count windows', () => {
  it('a global window with early everyRecords and discarding panes', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(globalWindow(), { trigger: { early: { everyRecords: 3 } }, accumulation: 'discarding' }).aggregate(sum((x) => x.v)));
    for (let i = 1; i <= 7; i++) h.addElement(r(i), i);
    h.finish();
    expect(h.takeOutput().map((x) => [x.value, x.pane.timing, x.pane.index, x.pane.final])).toEqual([
      [6, 'early', 0, false],
      [15, 'early', 1, false],
      [7, 'on-time', 2, true],
    ]);
  });
});

describe('retracting sessions', () => {
  it('retracts the panes of merged-away sessions; the merged window starts at index 0', () => {
    const h = harness((input: Stream<Rec>) =>
      input.keyBy((x) => x.k).window(session(10), { allowedLateness: 100, accumulation: 'retracting' }).aggregate(sum((x) => x.v)));
    h.addElement(r(1), 0);
    h.addElement(r(2), 15);
    h.advanceWatermarkTo(30);
    expect(rows(h.takeOutput())).toEqual([[0, 10, 1, 'on-time', 0, false], [15, 25, 2, 'on-time', 0, false]]);
    h.addElement(r(4), 8); // [8, 18) bridges both
    expect(rows(h.takeOutput())).toEqual([
      [0, 10, 1, 'on-time', 0, false, 'R'],
      [15, 25, 2, 'on-time', 0, false, 'R'],
      [0, 25, 7, 'late', 0, false],
    ]);
    h.addElement(r(8), 14); // [14, 24) inside [0, 25): same window, next pane
    expect(rows(h.takeOutput())).toEqual([[0, 25, 7, 'late', 0, false, 'R'], [0, 25, 15, 'late', 1, false]]);
  });
});
