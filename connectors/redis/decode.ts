/**
 * Decoding Redis stream entries (field/value pairs from outside the process) into records, as
 * data and never code: a per-entry size limit checked before any parsing, JSON parsed with
 * `JSON.parse` (which creates `__proto__`/`constructor` keys as plain own properties — nothing is
 * merged into shared objects), field maps built as own data properties, and bounded previews of
 * rejected input for dead letters.
 */
import { PlanError } from '../../engine/errors.js';
import { timestampProblem } from '../../engine/time.js';

/** How an entry's fields become a record. */
export type RedisStreamFormat<T> =
  /** The JSON document in `field` (default `data`). */
  | 'json'
  /** The UTF-8 text of `field`. */
  | 'string'
  /** Every field as a `{ name: text }` object. */
  | 'fields'
  /** Your decoder over the fields; a throw makes the entry a dead letter with the message. */
  | ((fields: Readonly<Record<string, string>>) => T);

/** Where an entry's event time comes from. */
export type RedisStreamTimestamp<T> =
  /** The millisecond part of the entry id (when Redis appended it). */
  | 'id'
  /** A field holding epoch milliseconds or an ISO-8601 date-time. */
  | { readonly field: string }
  /** Your function of the decoded value and the raw fields. */
  | ((value: T, fields: Readonly<Record<string, string>>) => number);

/** Default per-entry size limit: 1 MiB (field names and values, in bytes). */
export const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;
const PREVIEW_CHARS = 256;
const PREVIEW_FIELDS = 16;

/** A decoded entry, or why it is a dead letter (with a bounded preview of what it was). */
export type Decoded<T> =
  | { readonly ok: true; readonly value: T; readonly timestamp: number }
  | { readonly ok: false; readonly reason: string; readonly preview: unknown };

/** Validates a format/field/timestamp combination eagerly. */
export function checkDecoding(format: unknown, field: unknown, timestamp: unknown, maxRecordBytes: unknown, where: string): void {
  if (typeof format !== 'function' && format !== 'json' && format !== 'string' && format !== 'fields') {
    throw new PlanError(`${where}: format must be 'json', 'string', 'fields' or a function (fields) => record`);
  }
  if (typeof field !== 'string' || field === '') throw new PlanError(`${where}: field must be a non-empty string`);
  const ts = timestamp as { field?: unknown } | null;
  const okTs = timestamp === 'id' || typeof timestamp === 'function'
    || (ts !== null && typeof ts === 'object' && typeof ts.field === 'string' && ts.field !== '');
  if (!okTs) throw new PlanError(`${where}: timestamp must be 'id', { field: 'name' } or a function (value, fields) => epoch ms`);
  if (!Number.isInteger(maxRecordBytes) || (maxRecordBytes as number) < 1) {
    throw new PlanError(`${where}: maxRecordBytes must be a positive integer, got ${String(maxRecordBytes)}`);
  }
}

/** Field pairs (`[name, value, name, value…]`) as an object of own data properties. */
export function fieldsOf(pairs: readonly Buffer[]): Record<string, string> {
  const entries: [string, string][] = [];
  for (let i = 0; i + 1 < pairs.length; i += 2) entries.push([(pairs[i] as Buffer).toString('utf8'), (pairs[i + 1] as Buffer).toString('utf8')]);
  // Object.fromEntries defines own properties: a '__proto__' field stays a plain key.
  return Object.fromEntries(entries) as Record<string, string>;
}

/** A bounded preview of an entry's fields, for a dead letter. */
export function previewOf(pairs: readonly Buffer[]): Record<string, string> {
  const entries: [string, string][] = [];
  for (let i = 0; i + 1 < pairs.length && entries.length < PREVIEW_FIELDS; i += 2) {
    entries.push([clip((pairs[i] as Buffer).subarray(0, PREVIEW_CHARS * 4).toString('utf8')), clip((pairs[i + 1] as Buffer).subarray(0, PREVIEW_CHARS * 4).toString('utf8'))]);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

function clip(s: string): string {
  return s.length > PREVIEW_CHARS ? `${s.slice(0, PREVIEW_CHARS)}…` : s;
}

/** Milliseconds of an entry id `ms-seq`. */
export function idMillis(id: string): number {
  const dash = id.indexOf('-');
  return Number(dash < 0 ? id : id.slice(0, dash));
}

/** Epoch ms from a field's text: integer milliseconds, or an ISO-8601 date-time. */
function parseTime(text: string): number {
  if (/^-?\d+$/.test(text)) return Number(text);
  if (/^\d{4}-\d{2}-\d{2}T/.test(text)) return Date.parse(text);
  return Number.NaN;
}

/**
 * Decodes one entry. Never throws: every problem (too large, undecodable, a missing field, a
 * decoder or timestamp function that throws, a bad timestamp) is returned as a reason.
 */
export function decodeEntry<T>(
  id: string,
  pairs: readonly Buffer[],
  format: RedisStreamFormat<T>,
  field: string,
  timestamp: RedisStreamTimestamp<T>,
  maxRecordBytes: number,
): Decoded<T> {
  let bytes = 0;
  for (const b of pairs) bytes += b.length;
  if (bytes > maxRecordBytes) {
    return { ok: false, reason: `entry is ${bytes} bytes, over maxRecordBytes (${maxRecordBytes})`, preview: previewOf(pairs) };
  }
  const fields = fieldsOf(pairs);
  let value: T;
  try {
    if (format === 'fields') value = fields as T;
    else if (typeof format === 'function') value = format(fields);
    else {
      if (!Object.hasOwn(fields, field)) return { ok: false, reason: `entry has no field '${field}'`, preview: previewOf(pairs) };
      const text = fields[field] as string;
      value = (format === 'json' ? JSON.parse(text) : text) as T;
    }
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return { ok: false, reason: `cannot decode entry (${typeof format === 'function' ? 'format function' : format}): ${why}`, preview: previewOf(pairs) };
  }
  let t: number;
  try {
    if (timestamp === 'id') t = idMillis(id);
    else if (typeof timestamp === 'function') t = timestamp(value, fields);
    else {
      const text = Object.hasOwn(fields, timestamp.field) ? fields[timestamp.field] : undefined;
      if (text === undefined) return { ok: false, reason: `entry has no timestamp field '${timestamp.field}'`, preview: previewOf(pairs) };
      t = parseTime(text);
      if (Number.isNaN(t)) {
        return { ok: false, reason: `timestamp field '${timestamp.field}' is neither epoch milliseconds nor an ISO-8601 date-time: '${clip(text)}'`, preview: previewOf(pairs) };
      }
    }
  } catch (e) {
    return { ok: false, reason: `timestamp function threw: ${e instanceof Error ? e.message : String(e)}`, preview: previewOf(pairs) };
  }
  const problem = timestampProblem(t);
  if (problem !== undefined) return { ok: false, reason: problem, preview: previewOf(pairs) };
  return { ok: true, value, timestamp: t };
}
