/**
 * The state of one (key, window) under a trigger, and the rules that turn it into panes: early,
 * on-time, late and closing panes in accumulating, discarding or retracting mode. Used by the
 * triggered aligned-window operator and by the session operator (a session is one such state
 * whose bounds grow as it merges).
 */
import type { Cancel } from '../../engine/clock.js';
import type { Key } from '../../engine/keys.js';
import type { OperatorContext } from '../../engine/operator.js';
import { type StateReader, accOut } from '../snapshot.js';
import { type WindowEmitter, type WindowSettings, paneInfo } from './emitter.js';
import type { PaneInfo, PaneTiming } from './types.js';

/** One (key, window) with everything its trigger needs. */
export interface PaneState {
  readonly key: Key;
  start: number;
  end: number;
  /** Everything the window holds (accumulating and retracting modes, and `process` windows). */
  acc: unknown;
  /** What arrived since the last pane (discarding mode). */
  delta: unknown;
  /** Records since the last pane. */
  pending: number;
  /** Panes emitted so far (the next pane's index). */
  panes: number;
  /** The last pane's value and metadata (retracting mode retracts them before an update). */
  lastValue: unknown;
  lastInfo: PaneInfo | undefined;
  /** Whether the watermark has passed `end − 1` (on-time point reached). */
  passedEnd: boolean;
  /** Next continuous event-time firing (`everyEventTime`), or +∞. */
  earlyDue: number;
  /** A pending processing-time firing, its due time and the timing of the pane it fires. */
  timer: Cancel | undefined;
  timerAt: number;
  timerTiming: PaneTiming;
  /** When the pending timer was armed, among the operator's timers (restores keep their order). */
  timerSeq: number;
  /** Arrival sequence of the first record (deterministic tie-break). */
  readonly firstSeq: number;
  dead: boolean;
  /** The operator's container holding this state (a session's list of its key's sessions). */
  owner: PaneState[] | undefined;
}

/** Creates the state of a new (key, window). */
export function newPaneState(key: Key, start: number, end: number, settings: WindowSettings, firstSeq: number): PaneState {
  const agg = settings.aggregate;
  return {
    key, start, end, acc: agg.create(), delta: settings.discarding ? agg.create() : undefined, pending: 0, panes: 0,
    lastValue: undefined, lastInfo: undefined, passedEnd: false, earlyDue: Infinity, timer: undefined, timerAt: Infinity,
    timerTiming: 'early', timerSeq: 0, firstSeq, dead: false,
    owner: undefined,
  };
}

/** Pane rules for one window operator instance. */
export class PaneFiring {
  /** Timers armed so far (orders processing-time firings due at the same time). */
  private timerSeq = 0;

  constructor(
    private readonly ctx: OperatorContext,
    private readonly settings: WindowSettings,
    private readonly emit: WindowEmitter,
  ) {}

  /** Adds a record to `s` (not firing anything). */
  add(s: PaneState, value: unknown, t: number): void {
    const agg = this.settings.aggregate;
    s.acc = agg.add(s.acc, value);
    if (s.delta !== undefined) s.delta = agg.add(s.delta, value);
    s.pending++;
    const every = this.settings.trigger.earlyEvery;
    if (every > 0 && s.earlyDue === Infinity && !s.passedEnd) s.earlyDue = (Math.floor(t / every) + 1) * every;
  }

  /**
   * Combines `from` into `into` (session merges). A pending processing-time firing keeps its due
   * time: the merged pane fires when the earliest of its parts would have (`d` after its first
   * record), so records that keep extending a session cannot postpone it forever.
   */
  absorb(into: PaneState, from: PaneState): void {
    const agg = this.settings.aggregate;
    into.acc = agg.merge(into.acc, from.acc);
    if (into.delta !== undefined) into.delta = agg.merge(into.delta, from.delta);
    into.pending += from.pending;
    if (from.earlyDue < into.earlyDue) into.earlyDue = from.earlyDue;
    const at = from.timerAt;
    const timing = from.timerTiming;
    this.cancelTimer(from);
    if (at < into.timerAt) {
      this.cancelTimer(into);
      this.armAt(into, at, timing);
    }
  }

  /** After a record was added to `s` at watermark `W`: early or late firings it triggers. */
  afterRecord(s: PaneState, W: number): void {
    const trig = this.settings.trigger;
    if (!s.passedEnd) {
      if (trig.earlyRecords > 0 && s.pending >= trig.earlyRecords) this.fire(s, 'early', false);
      else if (trig.earlyDelay > 0 && s.timer === undefined) this.arm(s, trig.earlyDelay, 'early');
      return;
    }
    if (trig.lateRecords > 0 && s.pending >= trig.lateRecords) this.fire(s, 'late', W >= s.end - 1 + this.settings.allowedLateness);
    else if (trig.lateDelay > 0 && s.timer === undefined) this.arm(s, trig.lateDelay, 'late');
  }

  /** Continuous event-time firing, if due at `W` (before the on-time point). */
  early(s: PaneState, W: number): void {
    const every = this.settings.trigger.earlyEvery;
    if (every === 0 || s.earlyDue > W || s.passedEnd) return;
    s.earlyDue = (Math.floor(W / every) + 1) * every;
    if (s.earlyDue > s.end - 1) s.earlyDue = Infinity;
    this.fire(s, 'early', false);
  }

  /** The watermark passed `end − 1`: the on-time pane (per `onTime`). `final` when purged with it. */
  onTime(s: PaneState, final: boolean): void {
    s.passedEnd = true;
    s.earlyDue = Infinity;
    // With `closing: 'always'` a window purged at its on-time point closes with an on-time pane.
    if (this.settings.trigger.onTimeAlways || s.pending > 0 || (final && this.settings.closingAlways)) this.fire(s, 'on-time', final);
  }

  /**
   * The window is purged: a last pane if records are pending (or `closing: 'always'`), marked
   * final; timers cancelled.
   */
  close(s: PaneState): void {
    if (!s.dead && (s.pending > 0 || (this.settings.closingAlways && !(s.lastInfo?.final ?? false)))) {
      this.fire(s, s.passedEnd ? 'late' : 'on-time', true);
    }
    this.cancelTimer(s);
    s.dead = true;
  }

  /** Retracts the last pane of `s` (retracting mode; sessions merged away). */
  retractLast(s: PaneState): void {
    if (!this.settings.retracting || s.lastInfo === undefined) return;
    this.emit.retraction(s.key, s.start, s.end, s.lastValue, s.lastInfo);
    s.lastInfo = undefined;
  }

  /** Emits the next pane of `s`. */
  fire(s: PaneState, timing: PaneTiming, final: boolean): void {
    const settings = this.settings;
    this.cancelTimer(s);
    const index = s.panes++;
    if (settings.retracting && s.lastInfo !== undefined) this.emit.retraction(s.key, s.start, s.end, s.lastValue, s.lastInfo);
    const acc = settings.discarding ? s.delta : s.acc;
    const value = this.emit.pane(s.key, s.start, s.end, acc, timing, index, final);
    if (settings.retracting) {
      s.lastValue = value;
      s.lastInfo = paneInfo(timing, index, final);
    } else if (final) {
      s.lastInfo = paneInfo(timing, index, final);
    }
    if (settings.discarding) s.delta = settings.aggregate.create();
    s.pending = 0;
  }

  private arm(s: PaneState, delay: number, timing: PaneTiming): void {
    this.armAt(s, this.ctx.clock.now() + delay, timing);
  }

  private armAt(s: PaneState, at: number, timing: PaneTiming): void {
    s.timerAt = at;
    s.timerTiming = timing;
    s.timerSeq = this.timerSeq++;
    s.timer = this.ctx.schedule(at, () => {
      s.timer = undefined;
      s.timerAt = Infinity;
      if (!s.dead && s.pending > 0) this.fire(s, timing, false);
    });
  }

  /**
   * Re-arms the processing-time firings of restored states, in the order they were first armed
   * (so firings due at the same time keep their order). Call once, after the whole state is read.
   */
  restoreTimers(states: readonly PaneState[]): void {
    const armed = states.filter((s) => s.timerAt !== Infinity).sort((a, b) => a.timerSeq - b.timerSeq);
    for (const s of armed) this.armAt(s, s.timerAt, s.timerTiming);
  }

  private cancelTimer(s: PaneState): void {
    s.timer?.();
    s.timer = undefined;
    s.timerAt = Infinity;
  }
}

const TIMINGS: readonly PaneTiming[] = ['early', 'on-time', 'late'];

/**
 * One (key, window) state as plain data: `[key, start, end, acc, delta, pending, panes, lastValue,
 * lastTiming, lastIndex, lastFinal, passedEnd, earlyDue, timerAt, timerTiming, timerSeq, firstSeq]`
 * (`lastTiming` null when there is no last pane to remember; `timerAt` +∞ without a timer).
 */
export function paneStateOut(s: PaneState, settings: WindowSettings): unknown[] {
  const agg = settings.aggregate;
  const last = s.lastInfo;
  return [
    s.key, s.start, s.end, accOut(agg, s.acc), s.delta === undefined ? undefined : accOut(agg, s.delta), s.pending, s.panes,
    s.lastValue, last?.timing ?? null, last?.index ?? 0, last?.final ?? false, s.passedEnd, s.earlyDue, s.timerAt,
    s.timerTiming, s.timerSeq, s.firstSeq,
  ];
}

/** Reads back what `paneStateOut` wrote (its processing-time timer is not armed yet). */
export function paneStateIn(r: StateReader, v: unknown, settings: WindowSettings, what: string): PaneState {
  const row = r.array(v, what, 17);
  const agg = settings.aggregate;
  const key = r.key(row[0], `${what} key`);
  const s = newPaneState(key, r.number(row[1], `${what} start`), r.number(row[2], `${what} end`), settings, r.count(row[16], `${what} firstSeq`));
  s.acc = r.acc(agg, row[3], `${what} accumulator`);
  if (settings.discarding) s.delta = r.acc(agg, row[4], `${what} delta`);
  s.pending = r.count(row[5], `${what} pending`);
  s.panes = r.count(row[6], `${what} panes`);
  s.lastValue = row[7];
  if (row[8] !== null && row[8] !== undefined) {
    s.lastInfo = paneInfo(r.oneOf(row[8], TIMINGS, `${what} last pane timing`), r.count(row[9], `${what} last pane index`), r.boolean(row[10], `${what} last pane final`));
  }
  s.passedEnd = r.boolean(row[11], `${what} passedEnd`);
  s.earlyDue = r.number(row[12], `${what} earlyDue`);
  s.timerAt = r.number(row[13], `${what} timerAt`);
  s.timerTiming = r.oneOf(row[14], TIMINGS, `${what} timerTiming`);
  s.timerSeq = r.count(row[15], `${what} timerSeq`);
  return s;
}
