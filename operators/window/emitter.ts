/**
 * What every window operator shares: turning a fired (key, window, accumulator) into output
 * (a `WindowResult`, or the outputs of a `process` function), routing late records, and the
 * counters behind conservation (`in = accepted + tooLate + deadLettered`).
 */
import type { Aggregate } from '../../engine/aggregate.js';
import { UserFunctionError } from '../../engine/errors.js';
import type { Key } from '../../engine/keys.js';
import type { OperatorContext } from '../../engine/operator.js';
import { MAX_TIMESTAMP } from '../../engine/time.js';
import type { TriggerSpec } from './triggers.js';
import type { PaneInfo, PaneTiming, Window } from './types.js';

/** A full-window function: all records of the window in, outputs out. */
export type ProcessWindowFn = (key: Key, window: Window, records: unknown[]) => Iterable<unknown> | unknown[];

/** Validated options shared by window operators. */
export interface WindowSettings {
  readonly allowedLateness: number;
  readonly discarding: boolean;
  /** Each updated pane is preceded by a retraction of the previous one. */
  readonly retracting: boolean;
  /** A final pane whenever a window is purged, even with nothing pending. */
  readonly closingAlways: boolean;
  readonly trigger: TriggerSpec;
  /** The input carries retractions (from an upstream retracting window): apply them with `retract`. */
  readonly retractInput: boolean;
  readonly aggregate: Aggregate<unknown, unknown, unknown>;
  /** When set, fired windows call this instead of producing `WindowResult`s. */
  readonly process: ProcessWindowFn | undefined;
}

const TIMINGS: readonly PaneTiming[] = ['early', 'on-time', 'late'];
const PANES: readonly PaneInfo[] = TIMINGS.flatMap((timing) =>
  [false, true].flatMap((final) => Array.from({ length: 16 }, (_, index) => Object.freeze({ timing, index, final }))));

/** The pane metadata object for these values (shared and frozen for the first 16 panes). */
export function paneInfo(timing: PaneTiming, index: number, final: boolean): PaneInfo {
  if (index > 15) return Object.freeze({ timing, index, final });
  const t = timing === 'on-time' ? 1 : timing === 'late' ? 2 : 0;
  return PANES[t * 32 + (final ? 16 : 0) + index] as PaneInfo;
}

/** Emission and counting for one window operator instance. */
export class WindowEmitter {
  accepted = 0;
  tooLate = 0;
  tooLatePairs = 0;
  panes = 0;
  retractions = 0;

  constructor(private readonly ctx: OperatorContext, private readonly settings: WindowSettings) {}

  private lastWindow: Window = Object.freeze({ start: NaN, end: NaN });

  /** Emits one pane of `window` for `key` with accumulator `acc`; returns the pane's value. */
  pane(key: Key, start: number, end: number, acc: unknown, timing: PaneTiming, index: number, final: boolean): unknown {
    this.panes++;
    // The global window's end is +∞; its results carry the largest valid timestamp instead.
    const ts = end === Infinity ? MAX_TIMESTAMP : end - 1;
    // Results of one window firing share one frozen window object, and pane metadata objects are
    // shared too: a result costs one allocation, however many keys fire.
    // (frozen when first shared, so one consumer cannot change another result's window)
    let window = this.lastWindow;
    if (window.start !== start || window.end !== end) {
      window = { start, end };
      this.lastWindow = window;
    } else if (!Object.isFrozen(window)) {
      Object.freeze(window);
    }
    const agg = this.settings.aggregate;
    const process = this.settings.process;
    if (process === undefined) {
      let value: unknown;
      try {
        value = agg.result(acc);
      } catch (e) {
        this.ctx.fail('aggregate result() threw', ts, e);
      }
      this.ctx.out.emit({ key, window, value, pane: paneInfo(timing, index, final) }, ts);
      return value;
    }
    let outputs: Iterable<unknown> | unknown[];
    try {
      outputs = process(key, window, agg.result(acc) as unknown[]);
      if (outputs instanceof Promise) this.ctx.fail('process function returned a promise (window functions are synchronous; enrich with asyncMap)', ts);
      for (const o of outputs) this.ctx.out.emit(o, ts);
    } catch (e) {
      if (e instanceof UserFunctionError) throw e;
      this.ctx.fail('process function threw', ts, e);
    }
    return undefined;
  }

  /** Emits the retraction of an earlier pane (its window, value and metadata). */
  retraction(key: Key, start: number, end: number, value: unknown, pane: PaneInfo): void {
    const ts = end === Infinity ? MAX_TIMESTAMP : end - 1;
    this.retractions++;
    this.ctx.out.emit({ key, window: Object.freeze({ start, end }), value, pane, retraction: true }, ts);
  }

  /** Routes a record that was too late for `missed` windows (it may still be accepted by others). */
  late(value: unknown, timestamp: number, key: Key, missed: Window[]): void {
    this.tooLatePairs += missed.length;
    this.ctx.late.emit({ value, timestamp, key, missedWindows: missed }, timestamp);
  }

  /** Counters for the run summary. */
  stats(openWindows: number): Record<string, number> {
    return {
      accepted: this.accepted,
      tooLate: this.tooLate,
      tooLatePairs: this.tooLatePairs,
      panes: this.panes,
      retractions: this.retractions,
      openWindows,
    };
  }
}
