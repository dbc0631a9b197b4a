/**
 * `calendar(unit, { timeZone })`: days, weeks, months or years aligned to local midnight in an
 * IANA time zone.
 */
import { Temporal } from '@js-temporal/polyfill';
import { PlanError } from '../engine/errors.js';
import type { CalendarAssigner, CalendarUnit } from './window/assigners.js';

const UNITS: readonly CalendarUnit[] = ['day', 'week', 'month', 'year'];

/**
 * Calendar windows: each window is one local day, week, month or year in `timeZone`, from local
 * midnight to the next (so a day lasts 23, 24 or 25 hours across DST changes, 23.5 or 24.5 in
 * half-hour DST zones, and a day a zone skipped has no window). Weeks start on `weekStartsOn`
 * (1 = Monday … 7 = Sunday; default 1). Boundaries are computed once per window and cached; the
 * per-record cost is a numeric comparison.
 *
 * @example
 * orders.keyBy((o) => o.shop).window(calendar('day', { timeZone: 'Europe/Berlin' })).aggregate(sum((o) => o.total));
 */
export function calendar(unit: CalendarUnit, options: { timeZone: string; weekStartsOn?: number }): CalendarAssigner {
  const where = 'tidemark.calendar';
  if (!UNITS.includes(unit)) throw new PlanError(`${where}: unit must be one of ${UNITS.join(', ')}, got '${String(unit)}'`);
  if (options === null || typeof options !== 'object' || typeof options.timeZone !== 'string') {
    throw new PlanError(`${where}: options.timeZone (an IANA zone such as 'Europe/Berlin') is required`);
  }
  try {
    Temporal.Instant.fromEpochMilliseconds(0).toZonedDateTimeISO(options.timeZone);
  } catch {
    throw new PlanError(`${where}: unknown time zone '${options.timeZone}'`);
  }
  const weekStartsOn = options.weekStartsOn ?? 1;
  if (!Number.isInteger(weekStartsOn) || weekStartsOn < 1 || weekStartsOn > 7) {
    throw new PlanError(`${where}: weekStartsOn must be 1 (Monday) … 7 (Sunday), got ${String(weekStartsOn)}`);
  }
  return Object.freeze({ kind: 'calendar', unit, timeZone: options.timeZone, weekStartsOn });
}
