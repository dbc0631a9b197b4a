/**
 * Window boundaries of calendar windows, via Temporal: local midnight of the day, week, month or
 * year containing an instant, and of the next one. Computed once per window and cached, so
 * records inside the current window cost one numeric comparison.
 */
import { Temporal } from '@js-temporal/polyfill';
import type { CalendarAssigner } from './assigners.js';

/** Finds `[start, end)` of the calendar window containing an instant (results in `start`/`end`). */
export class CalendarBounds {
  start = NaN;
  end = NaN;
  /** Recently used windows, for out-of-order records that jump between windows. */
  private readonly recent: { start: number; end: number }[] = [];

  constructor(private readonly assigner: CalendarAssigner) {}

  /** Sets `start` and `end` to the window containing `t`. */
  windowOf(t: number): void {
    if (t >= this.start && t < this.end) return;
    for (const w of this.recent) {
      if (t >= w.start && t < w.end) {
        this.start = w.start;
        this.end = w.end;
        return;
      }
    }
    const { unit, timeZone, weekStartsOn } = this.assigner;
    const local = Temporal.Instant.fromEpochMilliseconds(t).toZonedDateTimeISO(timeZone).toPlainDate();
    let first: Temporal.PlainDate;
    let next: Temporal.PlainDate;
    if (unit === 'day') {
      first = local;
      next = local.add({ days: 1 });
    } else if (unit === 'week') {
      first = local.subtract({ days: (local.dayOfWeek - weekStartsOn + 7) % 7 });
      next = first.add({ weeks: 1 });
    } else if (unit === 'month') {
      first = local.with({ day: 1 });
      next = first.add({ months: 1 });
    } else {
      first = local.with({ month: 1, day: 1 });
      next = first.add({ years: 1 });
    }
    // startOfDay: the first instant of the local date (after a gap, if midnight was skipped).
    this.start = first.toZonedDateTime({ timeZone }).startOfDay().epochMilliseconds;
    this.end = next.toZonedDateTime({ timeZone }).startOfDay().epochMilliseconds;
    this.recent.unshift({ start: this.start, end: this.end });
    if (this.recent.length > 8) this.recent.pop();
  }
}
