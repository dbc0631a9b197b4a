/**
 * Window triggers: when panes fire — early (every N records, a processing-time delay after the
 * first record of a pane, or continuously in event time), on time, and late (every N late
 * records, or a processing-time delay) — validated into a compact spec when the plan is built.
 */
import { PlanError } from '../../engine/errors.js';
import { type Duration, toMillis } from '../../engine/time.js';

/** Early firings, before the watermark reaches the window's end. */
export type EarlyTrigger =
  | { readonly everyRecords: number }
  | { readonly afterProcessingTime: Duration }
  | { readonly everyEventTime: Duration };

/** Late firings, for records admitted within the allowed lateness. */
export type LateTrigger = { readonly everyRecords: number } | { readonly afterProcessingTime: Duration };

/** The `trigger` option of `keyed.window(assigner, { trigger })`. */
export interface TriggerOptions {
  readonly early?: EarlyTrigger;
  /** `'always'` (default): the on-time pane fires even if nothing is new; `'if-non-empty'`: only if records arrived since the last pane. */
  readonly onTime?: 'always' | 'if-non-empty';
  /** Default `{ everyRecords: 1 }`: a late pane per admitted late record. */
  readonly late?: LateTrigger;
}

/** A validated trigger (0 = not used). */
export interface TriggerSpec {
  readonly earlyRecords: number;
  readonly earlyDelay: number;
  readonly earlyEvery: number;
  readonly onTimeAlways: boolean;
  readonly lateRecords: number;
  readonly lateDelay: number;
}

/** The default trigger: on time always, a late pane per late record, no early panes. */
export const DEFAULT_TRIGGER: TriggerSpec = Object.freeze({
  earlyRecords: 0,
  earlyDelay: 0,
  earlyEvery: 0,
  onTimeAlways: true,
  lateRecords: 1,
  lateDelay: 0,
});

const where = 'tidemark.window: trigger';

function positiveInteger(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new PlanError(`${where}.${what} must be a positive integer, got ${String(n)}`);
  return n;
}

function positiveDuration(d: Duration, what: string): number {
  const ms = toMillis(d, `${where}.${what}`);
  if (!(ms > 0)) throw new PlanError(`${where}.${what} must be positive, got ${ms} ms`);
  return ms;
}

function oneOf(o: object, keys: readonly string[], what: string): string {
  const present = keys.filter((k) => k in o);
  if (present.length !== 1) throw new PlanError(`${where}.${what} must have exactly one of ${keys.join(', ')}`);
  return present[0] as string;
}

/**
 * Validates trigger options.
 *
 * @example
 * checkTrigger({ early: { everyRecords: 100 }, late: { afterProcessingTime: 'PT10S' } });
 */
export function checkTrigger(options: TriggerOptions | undefined): TriggerSpec {
  if (options === undefined) return DEFAULT_TRIGGER;
  if (options === null || typeof options !== 'object') throw new PlanError(`${where} must be an object`);
  let earlyRecords = 0;
  let earlyDelay = 0;
  let earlyEvery = 0;
  if (options.early !== undefined) {
    const e = options.early as Record<string, unknown>;
    const kind = oneOf(e, ['everyRecords', 'afterProcessingTime', 'everyEventTime'], 'early');
    if (kind === 'everyRecords') earlyRecords = positiveInteger(e['everyRecords'], 'early.everyRecords');
    else if (kind === 'afterProcessingTime') earlyDelay = positiveDuration(e['afterProcessingTime'] as Duration, 'early.afterProcessingTime');
    else earlyEvery = positiveDuration(e['everyEventTime'] as Duration, 'early.everyEventTime');
  }
  const onTime = options.onTime ?? 'always';
  if (onTime !== 'always' && onTime !== 'if-non-empty') throw new PlanError(`${where}.onTime must be 'always' or 'if-non-empty', got '${String(onTime)}'`);
  let lateRecords = 1;
  let lateDelay = 0;
  if (options.late !== undefined) {
    const l = options.late as Record<string, unknown>;
    const kind = oneOf(l, ['everyRecords', 'afterProcessingTime'], 'late');
    if (kind === 'everyRecords') lateRecords = positiveInteger(l['everyRecords'], 'late.everyRecords');
    else {
      lateRecords = 0;
      lateDelay = positiveDuration(l['afterProcessingTime'] as Duration, 'late.afterProcessingTime');
    }
  }
  return Object.freeze({ earlyRecords, earlyDelay, earlyEvery, onTimeAlways: onTime === 'always', lateRecords, lateDelay });
}

/** True for the default trigger (the fast pane-sharing path applies). */
export function isDefaultTrigger(t: TriggerSpec): boolean {
  return t.earlyRecords === 0 && t.earlyDelay === 0 && t.earlyEvery === 0 && t.onTimeAlways && t.lateRecords === 1 && t.lateDelay === 0;
}

/** A short text of a non-default trigger for state signatures (empty for the default trigger). */
export function triggerText(t: TriggerSpec): string {
  const parts: string[] = [];
  if (t.earlyRecords > 0) parts.push(`early every ${t.earlyRecords} records`);
  if (t.earlyDelay > 0) parts.push(`early after ${t.earlyDelay} ms`);
  if (t.earlyEvery > 0) parts.push(`early every ${t.earlyEvery} ms of event time`);
  if (!t.onTimeAlways) parts.push('on time if non-empty');
  if (t.lateDelay > 0) parts.push(`late after ${t.lateDelay} ms`);
  else if (t.lateRecords !== 1) parts.push(`late every ${t.lateRecords} records`);
  return parts.join(', ');
}
