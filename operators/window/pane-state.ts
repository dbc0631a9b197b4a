/**
 * The state of one (key, window) under a trigger, and the rules that turn it into panes: early,
 * on-time, late and closing panes in accumulating, discarding or retracting mode. Used by the
 * triggered aligned-window operator and by the session operator (a session is one such state
 * whose bounds grow as it merges).
 */
import type { Cancel } from '../../engine/clock.js';
import type { Key } from '../../engine/keys.js';
import type { OperatorContext } from '../../engine/operator.js';
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
    timerTiming: 'early', firstSeq, dead: false,
    owner: undefined,
  };
}

/** Pane rules for one window operator instance. */
export class PaneFiring {
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
    s.timer = this.ctx.schedule(at, () => {
      s.timer = undefined;
      s.timerAt = Infinity;
      if (!s.dead && s.pending > 0) this.fire(s, timing, false);
    });
  }

  private cancelTimer(s: PaneState): void {
    s.timer?.();
    s.timer = undefined;
    s.timerAt = Infinity;
  }
}
