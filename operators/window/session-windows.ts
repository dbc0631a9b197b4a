/**
 * The window operator for session windows. Each key keeps its live sessions sorted by start and
 * pairwise non-overlapping; a record's proto-window `[t, t + gap)` merges with the contiguous run
 * of sessions it strictly overlaps. Lateness is judged against the session the record would join.
 * Each session is a `PaneState`, so triggers, discarding and retracting panes work as for any
 * window (merged-away sessions' panes are retracted). Firings come from heaps ordered by
 * (end, start, first record's arrival), so output order does not depend on batching.
 */
import type { Batch } from '../../engine/batch.js';
import { MinHeap, NumericHeap } from '../../engine/heap.js';
import { type Key, KeyMap, ownKey } from '../../engine/keys.js';
import type { OperatorContext, OperatorLogic } from '../../engine/operator.js';
import type { StateLayout } from '../../engine/state-layout.js';
import { eachRecord } from './each-record.js';
import { WindowEmitter, type WindowSettings } from './emitter.js';
import { StateReader } from '../snapshot.js';
import { PaneFiring, type PaneState, newPaneState, paneStateIn, paneStateOut } from './pane-state.js';

const earlier = (a: PaneState, b: PaneState): boolean =>
  a.end < b.end || (a.end === b.end && (a.start < b.start || (a.start === b.start && a.firstSeq < b.firstSeq)));

const byEarlyDue = (a: PaneState, b: PaneState): boolean => a.earlyDue < b.earlyDue || (a.earlyDue === b.earlyDue && earlier(a, b));

/** The key-group layout of `SessionWindowLogic.snapshot()`: each key's sessions (timers included) in its row. */
export const SESSION_WINDOW_LAYOUT: StateLayout = { fields: { seq: 'max', keys: 'keyed' } };

/** Running state of one session window operator. */
export class SessionWindowLogic implements OperatorLogic {
  /** Each key's live sessions, sorted by start, pairwise non-overlapping. */
  private readonly sessionsOf = new KeyMap<PaneState[]>();
  /** Live sessions by end (ties: start, then first arrival). */
  private readonly toFire = new NumericHeap<PaneState>();
  private readonly toPurge = new NumericHeap<PaneState>();
  private readonly earlyHeap = new MinHeap<PaneState>(byEarlyDue);
  private readonly emit: WindowEmitter;
  private readonly firing: PaneFiring;
  private seq = 0;
  private live = 0;

  constructor(
    private readonly ctx: OperatorContext,
    private readonly gap: number | undefined,
    private readonly gapOf: ((record: unknown) => number) | undefined,
    private readonly settings: WindowSettings,
    /** Sessions are cut at multiples of this (undefined: no cap). */
    private readonly maxLength: number | undefined = undefined,
  ) {
    this.emit = new WindowEmitter(ctx, settings);
    this.firing = new PaneFiring(ctx, settings, this.emit);
  }

  private readonly recordFn = (value: unknown, t: number, key: Key): void => this.record(value, t, key);

  onBatch(batch: Batch): void {
    eachRecord(batch, this.ctx, 'session window function threw', this.recordFn);
  }

  private record(value: unknown, t: number, key: Key): void {
    this.seq++;
    let gap = this.gap as number;
    if (this.gapOf !== undefined) {
      gap = this.gapOf(value);
      if (typeof gap !== 'number' || !Number.isInteger(gap) || gap <= 0) {
        this.ctx.deadLetter(value, `session gap must be a positive integer number of milliseconds, got ${String(gap)}`, t);
        return;
      }
    }
    const W = this.ctx.watermark;
    const L = this.settings.allowedLateness;
    let list = this.sessionsOf.get(key);
    const cap = this.maxLength;
    // With a cap, the proto-window ends at the next multiple of it: sessions never cross one.
    const pend = cap === undefined ? t + gap : Math.min(t + gap, (Math.floor(t / cap) + 1) * cap);
    let lo = -1;
    let hi = -1;
    let at = 0;
    if (list !== undefined) {
      for (; at < list.length; at++) {
        const s = list[at] as PaneState;
        if (s.start >= pend) break;
        if (t < s.end) {
          if (lo < 0) lo = at;
          hi = at;
        }
      }
    }
    let start = t;
    let end = pend;
    if (lo >= 0) {
      start = Math.min(t, (list as PaneState[])[lo]!.start);
      end = Math.max(pend, (list as PaneState[])[hi]!.end);
    }
    if (W >= end - 1 + L) {
      this.emit.late(value, t, key, [{ start, end }]);
      this.emit.tooLate++;
      return;
    }
    if (list === undefined) {
      list = [];
      this.sessionsOf.set(key, list);
    }
    const retraction = this.settings.retractInput && (value as { retraction?: unknown } | null)?.retraction === true;
    const only = lo >= 0 && lo === hi ? (list[lo] as PaneState) : undefined;
    if (only !== undefined && only.start === start && only.end === end) {
      this.addTo(only, value, t, retraction);
      this.emit.accepted++;
      this.firing.afterRecord(only, W);
      return;
    }
    let firstSeq = this.seq;
    for (let j = lo; j >= 0 && j <= hi; j++) firstSeq = Math.min(firstSeq, (list[j] as PaneState).firstSeq);
    const merged = newPaneState(lo >= 0 ? (list[lo] as PaneState).key : ownKey(key), start, end, this.settings, firstSeq);
    merged.owner = list;
    if (lo >= 0) {
      for (let j = lo; j <= hi; j++) {
        const old = list[j] as PaneState;
        this.firing.retractLast(old);
        this.firing.absorb(merged, old);
        old.dead = true;
        this.live--;
      }
      list.splice(lo, hi - lo + 1, merged);
      if (merged.earlyDue !== Infinity) this.earlyHeap.push(merged);
    } else {
      if (at === list.length) list.push(merged);
      else list.splice(at, 0, merged);
    }
    this.live++;
    this.addTo(merged, value, t, retraction);
    this.emit.accepted++;
    if (end - 1 <= W) {
      merged.passedEnd = true; // born behind the watermark: late panes only
      this.toPurge.push(merged, merged.end, merged.start, merged.firstSeq);
    } else {
      this.toFire.push(merged, merged.end, merged.start, merged.firstSeq);
    }
    this.firing.afterRecord(merged, W);
  }

  private addTo(s: PaneState, value: unknown, t: number, retraction: boolean): void {
    if (!retraction) {
      const hadDue = s.earlyDue;
      this.firing.add(s, value, t);
      if (s.earlyDue !== hadDue) this.earlyHeap.push(s);
      return;
    }
    const agg = this.settings.aggregate;
    const retract = agg.retract as NonNullable<typeof agg.retract>;
    s.acc = retract.call(agg, s.acc, value);
    if (s.delta !== undefined) s.delta = retract.call(agg, s.delta, value);
    s.pending++;
  }

  onWatermark(W: number): void {
    const L = this.settings.allowedLateness;
    const e = this.earlyHeap.peek();
    if (W < this.toFire.firstKey() - 1 && W < this.toPurge.firstKey() - 1 + L && (e === undefined || W < e.earlyDue)) return;
    for (let s = this.earlyHeap.peek(); s !== undefined && s.earlyDue <= W; s = this.earlyHeap.peek()) {
      this.earlyHeap.pop();
      if (s.dead || s.passedEnd || s.end - 1 <= W) continue;
      this.firing.early(s, W);
      if (s.earlyDue !== Infinity) this.earlyHeap.push(s);
    }
    while (this.toFire.size > 0 && this.toFire.firstKey() - 1 <= W) {
      const s = this.toFire.pop() as PaneState;
      if (s.dead) continue;
      const final = W >= s.end - 1 + L;
      this.firing.onTime(s, final);
      if (final) this.remove(s);
      else this.toPurge.push(s, s.end, s.start, s.firstSeq);
    }
    while (this.toPurge.size > 0 && W >= this.toPurge.firstKey() - 1 + L) {
      const s = this.toPurge.pop() as PaneState;
      if (!s.dead) this.remove(s);
    }
  }

  private remove(s: PaneState): void {
    this.firing.close(s);
    this.live--;
    const list = s.owner as PaneState[];
    if (list[0] === s) list.shift();
    else list.splice(list.indexOf(s), 1);
    if (list.length === 0) this.sessionsOf.delete(s.key);
  }

  /** `{ seq, keys: [[key, [session, …]], …] }`: each key's live sessions by start (see `paneStateOut`). */
  snapshot(): unknown {
    const keys: unknown[] = [];
    this.sessionsOf.forEach((list, key) => keys.push([key, list.map((st) => paneStateOut(st, this.settings))]));
    return { seq: this.seq, keys };
  }

  /** Restores what `snapshot()` returned (called once, right after construction). */
  restore(resume: unknown): void {
    const r = new StateReader(this.ctx, 'session window');
    const o = r.object(resume, 'the state');
    const seq = r.count(o['seq'], 'seq');
    const all: PaneState[] = [];
    for (const { key, row } of r.keyed(o['keys'], 'keys', 2)) {
      if (this.sessionsOf.get(key) !== undefined) r.fail(`key ${String(key)} appears twice`);
      const list = r.array(row[1], `sessions of ${String(key)}`).map((sv, j) => paneStateIn(r, sv, this.settings, `sessions of ${String(key)} [${j}]`));
      list.sort((a, b) => a.start - b.start);
      for (let j = 0; j < list.length; j++) {
        const st = list[j] as PaneState;
        if (j > 0 && st.start < (list[j - 1] as PaneState).end) r.fail(`sessions of ${String(key)} overlap`);
        st.owner = list;
        all.push(st);
      }
      if (list.length > 0) this.sessionsOf.set((list[0] as PaneState).key, list);
    }
    this.seq = seq;
    this.live = all.length;
    for (const st of all) {
      if (st.passedEnd) this.toPurge.push(st, st.end, st.start, st.firstSeq);
      else {
        this.toFire.push(st, st.end, st.start, st.firstSeq);
        if (st.earlyDue !== Infinity) this.earlyHeap.push(st);
      }
    }
    this.firing.restoreTimers(all);
  }

  describeWindow(key: Key, start: number, end: number): string | undefined {
    const s = this.sessionsOf.get(key)?.find((x) => x.start === start && x.end === end);
    if (s === undefined) return undefined;
    const when = s.passedEnd ? 'its on-time point has passed' : `it fires on time when the watermark reaches ${end - 1} (unless a record within the gap extends it)`;
    return `holds a live session with ${s.pending} record(s) not yet emitted, ${s.panes} pane(s) emitted; ${when}`;
  }

  stats(): Record<string, number> {
    return this.emit.stats(this.live);
  }
}
