/**
 * CloudEvents 1.0 encoding and decoding, for any source or sink: structured mode (the whole event
 * as one JSON document) and binary mode (attributes in `ce-*` headers, the data as the body) for
 * transports with headers. Validation is the `cloudevents` package's; event time comes from
 * `time` (RFC 3339 → epoch ms) and the `id` is kept. Decoding never throws on bad input: it
 * answers `{ ok: false, reason }`, ready to become a dead letter. Payloads are data, never code:
 * JSON is parsed with `JSON.parse` (a `__proto__` key stays an own data property) and attribute
 * names are checked before anything is copied.
 */
import { Buffer } from 'node:buffer';
import { CloudEvent, HTTP, ValidationError } from 'cloudevents';
import { PlanError, TidemarkError } from '../../engine/errors.js';
import { decodeJson } from '../codec/json.js';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_RECORD_BYTES, type DecodeLimits } from '../codec/limits.js';
import { decodeUtf8 } from '../codec/utf8.js';
import { rfc3339ToMillis } from './time.js';

/** A decoded CloudEvent as a record: its attributes, extensions, data, and its event time. */
export interface CloudEventRecord<T = unknown> {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly specversion: '1.0';
  /** The `time` attribute as received (RFC 3339). */
  readonly time: string;
  /** `time` in epoch milliseconds (sub-millisecond digits truncated): the record's event time. */
  readonly timestamp: number;
  readonly subject?: string;
  readonly datacontenttype?: string;
  readonly dataschema?: string;
  /** JSON data as parsed; binary data as a `Uint8Array`; text as a string; absent when the event has none. */
  readonly data?: T;
  /** Extension attributes (lower-case names); in binary mode their values are strings. */
  readonly extensions: Readonly<Record<string, string | number | boolean>>;
}

/** A transport message: headers (names case-insensitive) and a body. */
export interface CloudEventMessage {
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body?: unknown;
}

/** What {@link decodeCloudEvent} answers: the record and its event time, or why not (dead-letter ready). */
export type CloudEventDecodeResult<T = unknown> =
  | { readonly ok: true; readonly value: CloudEventRecord<T>; readonly timestamp: number }
  | { readonly ok: false; readonly reason: string };

/**
 * Options of {@link decodeCloudEvent}: `maxRecordBytes` (body plus headers, default 1 MiB) and
 * `maxDepth` (JSON nesting, default 256).
 */
export type CloudEventDecodeOptions = DecodeLimits;

/** An event to encode. `time` may be epoch ms or RFC 3339; `id` defaults to a random UUID. */
export interface CloudEventInit<T = unknown> {
  readonly id?: string;
  readonly source: string;
  readonly type: string;
  readonly time?: string | number;
  readonly subject?: string;
  readonly datacontenttype?: string;
  readonly dataschema?: string;
  readonly data?: T;
  readonly extensions?: Readonly<Record<string, string | number | boolean>>;
}

/** A binary-mode message as produced by {@link encodeCloudEvent}. */
export interface EncodedBinaryCloudEvent {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Uint8Array | undefined;
}

/** A CloudEvent could not be encoded, or (from `decodeCloudEventOrThrow`) decoded. */
export class CloudEventError extends TidemarkError {
  override name = 'CloudEventError';
}

const ATTRIBUTE = /^[a-z0-9]{1,64}$/;
const CONTEXT = new Set(['id', 'source', 'type', 'specversion', 'time', 'subject', 'datacontenttype', 'dataschema']);

type Fail = { readonly ok: false; readonly reason: string };
const fail = (reason: string): Fail => ({ ok: false, reason });

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function sizeOf(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (v instanceof Uint8Array) return v.byteLength;
  return 0;
}

/** A string body as it is, a byte body as strict UTF-8; anything else is no text. */
function text(v: unknown, what: string): { ok: true; value: string } | Fail {
  if (typeof v === 'string') return { ok: true, value: v };
  if (v instanceof Uint8Array) {
    const t = decodeUtf8(v);
    return t.ok ? t : fail(`${what} is not valid UTF-8`);
  }
  return fail(`${what} must be a string or bytes`);
}

/** Parses untrusted JSON (nesting limited); the reason names `what`. */
function parseJson(raw: unknown, what: string, maxDepth: number): { ok: true; value: unknown } | Fail {
  const t = text(raw, what);
  if (!t.ok) return t;
  const r = decodeJson(t.value, maxDepth);
  return r.ok ? r : fail(`${what} is not valid JSON: ${r.reason}`);
}

function isJsonType(contentType: string | undefined): boolean {
  if (contentType === undefined) return true; // CloudEvents: absent datacontenttype means JSON
  const mime = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return mime === 'application/json' || mime === 'text/json' || mime.endsWith('+json');
}

/**
 * Percent-encodes a `ce-*` header value as the HTTP binding requires: UTF-8 bytes of characters
 * outside printable ASCII, and space, `"` and `%`.
 */
function percentEncode(value: string): string {
  if (/^[\x21\x23-\x24\x26-\x7e]*$/.test(value)) return value;
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0) as number;
    if (c > 0x20 && c < 0x7f && ch !== '"' && ch !== '%') out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Decodes a percent-encoded header value; a value that is not valid percent-encoding is kept as it is. */
function percentDecode(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** `invalid CloudEvent: …` with the package's validation details. */
function invalidEvent(e: unknown): string {
  const details = e instanceof ValidationError
    ? (e.errors ?? []).map((x) => (typeof x === 'string' ? x : `${x.instancePath || '/'} ${x.message ?? ''}`)).join('; ')
    : '';
  return `invalid CloudEvent: ${e instanceof Error ? e.message : String(e)}${details === '' ? '' : ` (${details})`}`;
}

/** Lower-cased header names; rejects repeated values. */
function headersOf(message: CloudEventMessage): Map<string, string> | Fail {
  const out = new Map<string, string>();
  for (const name of Object.keys(message.headers)) {
    const v = message.headers[name];
    if (v === undefined) continue;
    if (typeof v !== 'string') {
      if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') {
        out.set(name.toLowerCase(), v[0]);
        continue;
      }
      return fail(`header '${name}' must have one string value`);
    }
    out.set(name.toLowerCase(), v);
  }
  return out;
}

/** Checks attributes and data, lets the `cloudevents` package validate, and builds the record. */
function build(attrs: Map<string, unknown>, data: unknown, hasData: boolean): CloudEventDecodeResult {
  const specversion = attrs.get('specversion');
  if (specversion !== '1.0') return fail(`specversion must be "1.0", got ${JSON.stringify(specversion) ?? 'nothing'}`);
  for (const req of ['id', 'source', 'type'] as const) {
    const v = attrs.get(req);
    if (typeof v !== 'string' || v === '') return fail(`attribute '${req}' is required and must be a non-empty string`);
  }
  const time = attrs.get('time');
  if (time === undefined) return fail("attribute 'time' is missing: the event time is unknown");
  if (typeof time !== 'string') return fail("attribute 'time' must be an RFC 3339 string");
  const timestamp = rfc3339ToMillis(time);
  if (timestamp === undefined || !Number.isFinite(timestamp)) return fail(`attribute 'time' is not an RFC 3339 timestamp: ${JSON.stringify(time.slice(0, 64))}`);
  const extensions: Record<string, string | number | boolean> = {};
  const init: Record<string, unknown> = {};
  for (const [k, v] of attrs) {
    if (CONTEXT.has(k)) {
      if (v !== undefined) init[k] = v;
      continue;
    }
    if (typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isSafeInteger(v))) {
      return fail(`extension '${k}' must be a string, boolean or integer`);
    }
    extensions[k] = v;
    init[k] = v;
  }
  try {
    // strict: the package's JSON-schema validation (source as URI reference, time format, …)
    new CloudEvent(hasData ? { ...init, data } : init, true);
  } catch (e) {
    return fail(invalidEvent(e));
  }
  const record: Record<string, unknown> = {
    id: init['id'],
    source: init['source'],
    type: init['type'],
    specversion: '1.0',
    time,
    timestamp,
  };
  for (const k of ['subject', 'datacontenttype', 'dataschema'] as const) if (init[k] !== undefined) record[k] = init[k];
  if (hasData) record['data'] = data;
  record['extensions'] = extensions;
  return { ok: true, value: record as unknown as CloudEventRecord, timestamp };
}

function decodeStructured(event: unknown): CloudEventDecodeResult {
  if (!isRecord(event)) return fail('a structured CloudEvent must be a JSON object');
  const attrs = new Map<string, unknown>();
  let data: unknown;
  let hasData = false;
  for (const k of Object.keys(event)) {
    const v = event[k];
    if (k === 'data') {
      data = v;
      hasData = true;
    } else if (k === 'data_base64') {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) return fail("'data_base64' must be a base64 string");
      data = new Uint8Array(Buffer.from(v, 'base64'));
      hasData = true;
    } else if (!ATTRIBUTE.test(k)) {
      return fail(`invalid attribute name ${JSON.stringify(k.slice(0, 64))}: CloudEvents attribute names are lower-case letters and digits`);
    } else {
      attrs.set(k, v);
    }
  }
  if (Object.hasOwn(event, 'data') && Object.hasOwn(event, 'data_base64')) return fail("an event cannot carry both 'data' and 'data_base64'");
  return build(attrs, data, hasData);
}

function decodeBinary(headers: Map<string, string>, body: unknown, maxDepth: number): CloudEventDecodeResult {
  const attrs = new Map<string, unknown>();
  for (const [name, value] of headers) {
    if (!name.startsWith('ce-')) continue;
    const k = name.slice(3);
    if (!ATTRIBUTE.test(k)) return fail(`invalid attribute header ${JSON.stringify(name.slice(0, 64))}`);
    attrs.set(k, percentDecode(value));
  }
  const contentType = headers.get('content-type');
  if (contentType !== undefined) attrs.set('datacontenttype', contentType);
  const hasData = body !== undefined && body !== null && sizeOf(body) > 0;
  let data: unknown;
  if (hasData) {
    if (isJsonType(contentType)) {
      const parsed = parseJson(body, 'the JSON body', maxDepth);
      if (!parsed.ok) return parsed;
      data = parsed.value;
    } else if (contentType !== undefined && /^text\//i.test(contentType)) {
      const t = text(body, 'the text body');
      if (!t.ok) return t;
      data = t.value;
    } else {
      data = typeof body === 'string' ? new Uint8Array(Buffer.from(body, 'utf8')) : body;
    }
  }
  return build(attrs, data, hasData);
}

/**
 * Decodes one CloudEvent. Accepts a structured event as JSON text or bytes, an already-parsed
 * JSON object, or a transport message `{ headers, body }` — binary mode when it has `ce-*`
 * headers, structured otherwise. Never throws on bad input: answers `{ ok: false, reason }`.
 * Events without `time` are rejected (their event time is unknown); batch mode is not supported.
 *
 * @example
 * const r = decodeCloudEvent('{"specversion":"1.0","id":"1","source":"/shop","type":"order.placed","time":"2024-05-01T12:00:00Z","data":{"total":5}}');
 * if (r.ok) r.value.timestamp; // 1714564800000
 */
export function decodeCloudEvent<T = unknown>(input: unknown, options: CloudEventDecodeOptions = {}): CloudEventDecodeResult<T> {
  const max = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const depth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  try {
    if (typeof input === 'string' || input instanceof Uint8Array) {
      if (sizeOf(input) > max) return fail(`record of ${sizeOf(input)} bytes exceeds maxRecordBytes (${max})`);
      const parsed = parseJson(input, 'the structured event', depth);
      return (parsed.ok ? decodeStructured(parsed.value) : parsed) as CloudEventDecodeResult<T>;
    }
    if (isRecord(input) && isRecord(input['headers']) && !Object.hasOwn(input, 'specversion')) {
      const headers = headersOf(input as unknown as CloudEventMessage);
      if (!(headers instanceof Map)) return headers;
      let size = sizeOf(input['body']);
      for (const [k, v] of headers) size += k.length + Buffer.byteLength(v);
      if (size > max) return fail(`record of ${size} bytes exceeds maxRecordBytes (${max})`);
      const contentType = (headers.get('content-type') ?? '').toLowerCase();
      if (contentType.startsWith('application/cloudevents-batch')) return fail('batch mode is not supported: send one event per message');
      if (headers.has('ce-specversion') || headers.has('ce-id')) return decodeBinary(headers, input['body'], depth) as CloudEventDecodeResult<T>;
      const body = input['body'];
      if (isRecord(body)) return decodeStructured(body) as CloudEventDecodeResult<T>;
      if (typeof body !== 'string' && !(body instanceof Uint8Array)) return fail('no CloudEvent: neither ce-* headers nor a structured body');
      const parsed = parseJson(body, 'the structured event', depth);
      return (parsed.ok ? decodeStructured(parsed.value) : parsed) as CloudEventDecodeResult<T>;
    }
    return decodeStructured(input) as CloudEventDecodeResult<T>;
  } catch (e) {
    return fail(`undecodable CloudEvent: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Like {@link decodeCloudEvent} but returns the record or throws a {@link CloudEventError}.
 *
 * @example
 * const ev = decodeCloudEventOrThrow(message); // CloudEventRecord
 */
export function decodeCloudEventOrThrow<T = unknown>(input: unknown, options: CloudEventDecodeOptions = {}): CloudEventRecord<T> {
  const r = decodeCloudEvent<T>(input, options);
  if (!r.ok) throw new CloudEventError(`tidemark.cloudEvents.decode: ${r.reason}`);
  return r.value;
}

function toEvent<T>(event: CloudEventInit<T>, where: string): CloudEvent<T> {
  if (!isRecord(event)) throw new CloudEventError(`${where}: expected an event { source, type, … }`);
  const init: Record<string, unknown> = {};
  for (const k of ['id', 'source', 'type', 'subject', 'datacontenttype', 'dataschema'] as const) {
    if (event[k] !== undefined) init[k] = event[k];
  }
  if (event.id !== undefined && (typeof event.id !== 'string' || event.id === '')) throw new CloudEventError(`${where}: id must be a non-empty string`);
  const t = event.time;
  if (typeof t === 'number') {
    if (!Number.isFinite(t) || Math.abs(t) > 8.64e15) throw new CloudEventError(`${where}: time ${t} is not a valid epoch-ms timestamp`);
    init['time'] = new Date(t).toISOString();
  } else if (t !== undefined) {
    if (typeof t !== 'string' || rfc3339ToMillis(t) === undefined) throw new CloudEventError(`${where}: time must be epoch ms or an RFC 3339 string`);
    init['time'] = t;
  }
  for (const [k, v] of Object.entries(event.extensions ?? {})) {
    if (!ATTRIBUTE.test(k) || CONTEXT.has(k) || k === 'data') throw new CloudEventError(`${where}: invalid extension name '${k}' (lower-case letters and digits, not a context attribute)`);
    init[k] = v;
  }
  if (event.data !== undefined) init['data'] = event.data;
  try {
    return new CloudEvent<T>(init as Partial<CloudEvent<T>>, true);
  } catch (e) {
    throw new CloudEventError(`${where}: ${invalidEvent(e)}`);
  }
}

/**
 * Encodes an event. `'structured'` (default) gives the JSON text of the whole event;
 * `'binary'` gives `{ headers, body }` with `ce-*` headers (extension values as strings) and
 * the data as the body (JSON text for JSON data, bytes as they are). Throws a
 * {@link CloudEventError} for an invalid event (e.g. data with a bigint).
 *
 * @example
 * encodeCloudEvent({ source: '/shop', type: 'order.placed', time: 1714564800000, data: { total: 5 } });
 * encodeCloudEvent({ source: '/shop', type: 'order.placed', data: { total: 5 } }, 'binary'); // { headers: { 'ce-id': …, … }, body: '{"total":5}' }
 */
export function encodeCloudEvent<T>(event: CloudEventInit<T>, mode?: 'structured'): string;
export function encodeCloudEvent<T>(event: CloudEventInit<T>, mode: 'binary'): EncodedBinaryCloudEvent;
export function encodeCloudEvent<T>(event: CloudEventInit<T>, mode: 'structured' | 'binary' = 'structured'): string | EncodedBinaryCloudEvent {
  const where = 'tidemark.cloudEvents.encode';
  if (mode !== 'structured' && mode !== 'binary') throw new PlanError(`${where}: mode must be 'structured' or 'binary', got '${String(mode)}'`);
  // binary mode carries the data as the body: text and bytes need a matching content type
  const typed = mode === 'binary' && isRecord(event) && event.datacontenttype === undefined && event.data !== undefined
    ? typeof event.data === 'string' ? { ...event, datacontenttype: 'text/plain; charset=utf-8' }
      : event.data instanceof Uint8Array ? { ...event, datacontenttype: 'application/octet-stream' } : event
    : event;
  const ce = toEvent(typed, where);
  try {
    if (mode === 'structured') return HTTP.structured(ce).body as string;
    const msg = HTTP.binary(ce);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(msg.headers)) {
      if (v === undefined) continue;
      const value = Array.isArray(v) ? v.join(',') : String(v);
      headers[k] = k.startsWith('ce-') ? percentEncode(value) : value;
    }
    const body = msg.body;
    return { headers, body: body === undefined ? undefined : body instanceof Uint8Array ? body : typeof body === 'string' ? body : JSON.stringify(body) };
  } catch (e) {
    throw new CloudEventError(`${where}: cannot encode: ${e instanceof Error ? e.message : String(e)}`);
  }
}
