/**
 * The window operator for tumbling, sliding and global windows under a non-default trigger,
 * retracting or closing panes, or a retracting input. Unlike the shared-pane fast path, it keeps
 * one `PaneState` per (key, window), because early and late firings, retractions and discarding
 * deltas are per window. Firing order is deterministic: windows by end, keys by first arrival.
 */
import type { Batch } from '../../engine/batch.js';
import { MinHeap } from '../../engine/heap.js';
import { type Key, KeyMap, ownKey } from '../../engine/keys.js';
import type { OperatorContext, OperatorLogic } from '../../engine/operator.js';
import type { StateLayout } from '../../engine/state-layout.js';
import { mod } from '../../engine/time.js';
import { eachRecord, lowerBound } from './each-record.js';
import { WindowEmitter, type WindowSettings } from './emitter.js';
import type { CalendarAssigner } from './assigners.js';
import { CalendarBounds } from './calendar-bounds.js';
import { StateReader } from '../snapshot.js';
import { PaneFiring, type PaneState, newPaneState, paneStateIn, paneStateOut } from './pane-state.js';
import type { Window } from './types.js';

interface WindowStates {
  readonly start: number;
  readonly end: number;
  readonly byKey: KeyMap<PaneState>;
  /** States in first-arrival order. */
  readonly states: PaneState[];
}

const byEarlyDue = (a: PaneState, b: PaneState): boolean =>
  a.earlyDue < b.earlyDue || (a.earlyDue === b.earlyDue && (a.end < b.end || (a.end === b.end && a.firstSeq < b.firstSeq)));


/** The key-group layout of `TriggeredWindowLogic.snapshot()`: (key, window) states (timers included) grouped by window. */
export const TRIGGERED_WINDOW_LAYOUT: StateLayout = { fields: { prevW: 'same', seq: 'max', windows: { groups: 2 } } };

/** Running state of one triggered tumbling, sliding or global window operator. */
export class TriggeredWindowLogic implements OperatorLogic {
  private readonly windows = new Map<number, WindowStates>();
  /** Window starts with state, ascending (ends ascend with them). */
  private starts: number[] = [];
  private readonly earlyHeap = new MinHeap<PaneState>(byEarlyDue);
  private readonly emit: WindowEmitter;
  private readonly firing: PaneFiring;
  private readonly global: boolean;
  /** Calendar windows: variable-length boundaries from the calendar. */
  private readonly calendar: CalendarBounds | undefined;
  private prevW = -Infinity;
  private seq = 0;
  private live = 0;

  constructor(
    private readonly ctx: OperatorContext,
    private readonly size: number,
    private readonly slide: number,
    private readonly offset: number,
    private readonly settings: WindowSettings,
    calendar?: CalendarAssigner,
  ) {
    this.global = size === Infinity;
    this.calendar = calendar === undefined ? undefined : new CalendarBounds(calendar);
    this.emit = new WindowEmitter(ctx, settings);
    this.firing = new PaneFiring(ctx, settings, this.emit);
  }

  private readonly recordFn = (value: unknown, t: number, key: Key): void => this.record(value, t, key);

  onBatch(batch: Batch): void {
    eachRecord(batch, this.ctx, 'aggregate threw', this.recordFn);
  }

  private record(value: unknown, t: number, key: Key): void {
    this.seq++;
    const W = this.ctx.watermark;
    const L = this.settings.allowedLateness;
    const retraction = this.settings.retractInput && (value as { retraction?: unknown } | null)?.retraction === true;
    let missed: Window[] | undefined;
    let admitted: PaneState[] | undefined;
    const cal = this.calendar;
    cal?.windowOf(t);
    const single = this.global || cal !== undefined;
    const first = cal !== undefined ? cal.start : this.global ? -Infinity : t - this.size + 1 + mod(this.offset - (t - this.size + 1), this.slide);
    const last = single ? first : t - mod(t - this.offset, this.slide);
    for (let s = first; s <= last; s += this.slide) {
      const e = cal !== undefined ? cal.end : this.global ? Infinity : s + this.size;
      if (W >= e - 1 + L) {
        (missed ??= []).push({ start: s, end: e });
        continue;
      }
      const state = this.stateFor(s, e, key, W);
      const hadDue = state.earlyDue;
      if (retraction) this.retract(state, value);
      else this.firing.add(state, value, t);
      if (state.earlyDue !== hadDue) this.earlyHeap.push(state);
      (admitted ??= []).push(state);
      if (single) break;
    }
    if (missed !== undefined) this.emit.late(value, t, key, missed);
    if (admitted === undefined) {
      this.emit.tooLate++;
      return;
    }
    this.emit.accepted++;
    for (const state of admitted) this.firing.afterRecord(state, W);
  }

  private retract(state: PaneState, value: unknown): void {
    const agg = this.settings.aggregate;
    const retract = agg.retract as NonNullable<typeof agg.retract>;
    state.acc = retract.call(agg, state.acc, value);
    if (state.delta !== undefined) state.delta = retract.call(agg, state.delta, value);
    state.pending++;
  }

  private stateFor(s: number, e: number, key: Key, W: number): PaneState {
    let w = this.windows.get(s);
    if (w === undefined) {
      w = { start: s, end: e, byKey: new KeyMap(), states: [] };
      this.windows.set(s, w);
      const st = this.starts;
      if (st.length === 0 || (st[st.length - 1] as number) < s) st.push(s);
      else st.splice(lowerBound(st, s), 0, s);
    }
    let state = w.byKey.get(key);
    if (state === undefined) {
      state = newPaneState(ownKey(key), s, e, this.settings, this.seq);
      // A window that comes into being behind the watermark never fires on time.
      if (e - 1 <= W) state.passedEnd = true;
      w.byKey.set(key, state);
      w.states.push(state);
      this.live++;
    }
    return state;
  }

  onWatermark(W: number): void {
    // continuous event-time (early) firings of windows not yet at their end
    for (let s = this.earlyHeap.peek(); s !== undefined && s.earlyDue <= W; s = this.earlyHeap.peek()) {
      this.earlyHeap.pop();
      if (s.dead || s.passedEnd || s.end - 1 <= W) continue;
      this.firing.early(s, W);
      if (s.earlyDue !== Infinity) this.earlyHeap.push(s);
    }
    const L = this.settings.allowedLateness;
    const starts = this.starts;
    // on-time firings, windows in order of end
    const from = this.global || this.calendar !== undefined ? 0 : lowerBound(starts, this.prevW - this.size + 2);
    for (let j = from; j < starts.length; j++) {
      const w = this.windows.get(starts[j] as number) as WindowStates;
      if (w.end - 1 > W) break;
      if (w.end - 1 <= this.prevW) continue;
      const final = W >= w.end - 1 + L;
      for (const state of w.states) if (!state.passedEnd) this.firing.onTime(state, final);
    }
    // purges
    let k = 0;
    while (k < starts.length) {
      const w = this.windows.get(starts[k] as number) as WindowStates;
      if (!(W >= w.end - 1 + L)) break;
      for (const state of w.states) this.firing.close(state);
      this.live -= w.states.length;
      this.windows.delete(w.start);
      k++;
    }
    if (k > 0) this.starts = starts.slice(k);
    this.prevW = W;
  }

  /**
   * `{ prevW, seq, windows: [[start, end, [paneState, …]], …] }`: windows by start, each with its
   * (key, window) states in first-arrival order (see `paneStateOut`).
   */
  snapshot(): unknown {
    const windows: unknown[] = [];
    for (const s of this.starts) {
      const w = this.windows.get(s) as WindowStates;
      windows.push([w.start, w.end, w.states.map((st) => paneStateOut(st, this.settings))]);
    }
    return { prevW: this.prevW, seq: this.seq, windows };
  }

  /** Restores what `snapshot()` returned (called once, right after construction). */
  restore(resume: unknown): void {
    const r = new StateReader(this.ctx, 'window');
    const o = r.object(resume, 'the state');
    const prevW = r.number(o['prevW'], 'prevW');
    const seq = r.count(o['seq'], 'seq');
    const all: PaneState[] = [];
    const read: WindowStates[] = r.array(o['windows'], 'windows').map((wv, i) => {
      const row = r.array(wv, `windows[${i}]`, 3);
      const w: WindowStates = { start: r.number(row[0], `windows[${i}] start`), end: r.number(row[1], `windows[${i}] end`), byKey: new KeyMap(), states: [] };
      r.array(row[2], `windows[${i}] states`).forEach((sv, j) => {
        const st = paneStateIn(r, sv, this.settings, `windows[${i}] states[${j}]`);
        if (st.start !== w.start || st.end !== w.end) r.fail(`windows[${i}] states[${j}] is not of window [${w.start}, ${w.end})`);
        if (w.byKey.get(st.key) !== undefined) r.fail(`windows[${i}] holds key ${String(st.key)} twice`);
        w.byKey.set(st.key, st);
        w.states.push(st);
        all.push(st);
      });
      return w;
    });
    read.sort((a, b) => a.start - b.start);
    for (const w of read) {
      if (this.windows.has(w.start)) r.fail(`two windows start at ${w.start}`);
      this.windows.set(w.start, w);
      this.starts.push(w.start);
    }
    this.prevW = prevW;
    this.seq = seq;
    this.live = all.length;
    for (const st of all) if (st.earlyDue !== Infinity && !st.passedEnd) this.earlyHeap.push(st);
    this.firing.restoreTimers(all);
  }

  describeWindow(key: Key, start: number, end: number): string | undefined {
    const w = this.windows.get(start);
    const s = w?.end === end ? w.byKey.get(key) : undefined;
    if (s === undefined) return undefined;
    const when = s.passedEnd ? `its on-time point has passed; late panes fire per the late trigger until the watermark reaches ${end - 1 + this.settings.allowedLateness}` : `it fires on time when the watermark reaches ${end - 1}`;
    return `holds ${s.pending} record(s) not yet emitted, ${s.panes} pane(s) emitted so far; ${when}`;
  }

  stats(): Record<string, number> {
    return this.emit.stats(this.live);
  }
}
