/**
 * Event time and durations: the numeric time algebra every operator uses.
 *
 * Event time is an integer number of milliseconds since the Unix epoch. Durations are
 * milliseconds too; the public API also accepts ISO-8601 duration strings (`"PT5M"`) and
 * `Temporal.Duration`-like objects, converted once when a plan is built (never per record).
 * This module imports no Temporal polyfill: a `Temporal.Duration` is read through its fields.
 */
import { PlanError } from './errors.js';

/** Milliseconds since the Unix epoch (an integer). */
export type EventTime = number;

/** Largest magnitude of a valid event timestamp (the range of ECMAScript `Date`). */
export const MAX_TIMESTAMP = 8.64e15;

/**
 * A duration: milliseconds, a short form (`"500ms"`, `"10s"`, `"5m"`, `"1h"`, `"2d"`), an ISO-8601
 * duration string (`"PT30M"`, `"P1D"`, `"PT0.5S"`), or a
 * `Temporal.Duration` (or any object with its fields). Calendar units (years, months) are
 * rejected: their length depends on a date; use calendar windows for those.
 *
 * @example
 * toMillis('PT1M30S', 'tumbling'); // 90_000
 */
export type Duration = number | string | DurationLike;

/** The fields of a `Temporal.Duration` that a fixed-length duration may use. */
export interface DurationLike {
  readonly years?: number;
  readonly months?: number;
  readonly weeks?: number;
  readonly days?: number;
  readonly hours?: number;
  readonly minutes?: number;
  readonly seconds?: number;
  readonly milliseconds?: number;
  readonly microseconds?: number;
  readonly nanoseconds?: number;
  readonly sign?: number;
}

/**
 * True when `t` is a valid event timestamp: a finite integer within ±8.64e15.
 *
 * @example
 * isValidTimestamp(1_700_000_000_000); // true
 * isValidTimestamp(1.5); // false
 */
export function isValidTimestamp(t: unknown): t is EventTime {
  return typeof t === 'number' && Number.isInteger(t) && t <= MAX_TIMESTAMP && t >= -MAX_TIMESTAMP;
}

/** Why `t` is not a valid timestamp, or `undefined` when it is. */
export function timestampProblem(t: unknown): string | undefined {
  if (typeof t !== 'number') return `timestamp is ${t === null ? 'null' : typeof t}, not a number`;
  if (!Number.isFinite(t)) return `timestamp ${t} is not finite`;
  if (!Number.isInteger(t)) return `timestamp ${t} is not an integer number of milliseconds`;
  if (t > MAX_TIMESTAMP || t < -MAX_TIMESTAMP) return `timestamp ${t} is outside ±8.64e15`;
  return undefined;
}

const ISO = /^([+-])?P(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/i;

/** Short forms: `500ms`, `10s`, `5m`, `1h`, `2d` (also with a decimal point: `1.5s`). */
const SHORT = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

const MS = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 } as const;

function num(s: string | undefined): number {
  return s === undefined ? 0 : Number(s.replace(',', '.'));
}

/**
 * Converts a {@link Duration} to integer milliseconds, or throws a `PlanError` naming `where`.
 * Negative durations are allowed here (offsets, join bounds); callers check their own ranges.
 *
 * @example
 * toMillis(5_000, 'bounded'); // 5000
 * toMillis('PT5M', 'tumbling'); // 300000
 * toMillis('1.5s', 'interval'); // 1500
 */
export function toMillis(d: Duration, where: string): number {
  let ms: number;
  if (typeof d === 'number') {
    ms = d;
  } else if (typeof d === 'string' && SHORT.test(d.trim())) {
    const m = SHORT.exec(d.trim()) as RegExpExecArray;
    ms = Number(m[1]) * (m[2] === 'ms' ? 1 : MS[m[2] as 's' | 'm' | 'h' | 'd']);
  } else if (typeof d === 'string') {
    const m = ISO.exec(d.trim());
    if (m === null || d.trim().endsWith('T') || /^[+-]?P$/i.test(d.trim())) {
      throw new PlanError(`${where}: cannot read duration "${d}" (expected milliseconds, a short form such as "10s", or an ISO-8601 duration such as "PT5M"; years and months are not fixed lengths)`);
    }
    ms = num(m[2]) * MS.w + num(m[3]) * MS.d + num(m[4]) * MS.h + num(m[5]) * MS.m + num(m[6]) * MS.s;
    // Decimal fractions in binary floating point: snap what is within rounding noise of a whole ms.
    const whole = Math.round(ms);
    if (Math.abs(ms - whole) < 1e-6) ms = whole;
    if (m[1] === '-') ms = -ms;
  } else if (d !== null && typeof d === 'object') {
    if ((d.years ?? 0) !== 0 || (d.months ?? 0) !== 0) {
      throw new PlanError(`${where}: a duration in years or months has no fixed length; use a calendar window`);
    }
    const ns = (d.microseconds ?? 0) * 1000 + (d.nanoseconds ?? 0);
    ms = (d.weeks ?? 0) * MS.w + (d.days ?? 0) * MS.d + (d.hours ?? 0) * MS.h + (d.minutes ?? 0) * MS.m
      + (d.seconds ?? 0) * MS.s + (d.milliseconds ?? 0) + ns / 1e6;
  } else {
    throw new PlanError(`${where}: a duration must be milliseconds, an ISO-8601 string or a Temporal.Duration, got ${String(d)}`);
  }
  if (!Number.isFinite(ms) || !Number.isInteger(ms)) {
    throw new PlanError(`${where}: duration ${String(typeof d === 'object' ? JSON.stringify(d) : d)} is not a whole number of milliseconds`);
  }
  return ms === 0 ? 0 : ms;
}

/** Mathematical modulo (result has the sign of `m`, so it is never negative for m > 0). */
export function mod(a: number, m: number): number {
  const r = a % m;
  return r < 0 ? r + m : r;
}

/** Greatest common divisor of two positive integers. */
export function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}
