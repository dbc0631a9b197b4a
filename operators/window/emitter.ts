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
import type { PaneTiming, Window } from './types.js';

/** A full-window function: all records of the window in, outputs out. */
export type ProcessWindowFn = (key: Key, window: Window, records: unknown[]) => Iterable<unknown> | unknown[];

/** Validated options shared by window operators. */
export interface WindowSettings {
  readonly allowedLateness: number;
  readonly discarding: boolean;
  readonly aggregate: Aggregate<unknown, unknown, unknown>;
  /** When set, fired windows call this instead of producing `WindowResult`s. */
  readonly process: ProcessWindowFn | undefined;
}

/** Emission and counting for one window operator instance. */
export class WindowEmitter {
  accepted = 0;
  tooLate = 0;
  tooLatePairs = 0;
  panes = 0;

  constructor(private readonly ctx: OperatorContext, private readonly settings: WindowSettings) {}

  /** Emits one pane of `window` for `key` with accumulator `acc`. */
  pane(key: Key, start: number, end: number, acc: unknown, timing: PaneTiming, index: number, final: boolean): void {
    this.panes++;
    // The global window's end is +∞; its results carry the largest valid timestamp instead.
    const ts = end === Infinity ? MAX_TIMESTAMP : end - 1;
    const window: Window = { start, end };
    const agg = this.settings.aggregate;
    const process = this.settings.process;
    if (process === undefined) {
      let value: unknown;
      try {
        value = agg.result(acc);
      } catch (e) {
        this.ctx.fail('aggregate result() threw', ts, e);
      }
      this.ctx.out.emit({ key, window, value, pane: { timing, index, final } }, ts);
      return;
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
      openWindows,
    };
  }
}
