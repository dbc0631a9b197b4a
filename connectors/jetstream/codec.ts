/**
 * Payload formats of the JetStream connector: how a message's bytes become a record (source) and
 * a record becomes bytes (sink). Decoding treats payloads as untrusted data: strict UTF-8, plain
 * `JSON.parse` (a `__proto__` key stays an own property), the strict msgpack decoder of
 * `msgpack.ts` (no extension code), and a size limit checked before anything is decoded.
 */
import { Packr } from 'msgpackr';
import { PlanError } from '../../engine/errors.js';
import { decodeMsgpack } from './msgpack.js';

/** What a decoder, a timestamp function and a dead letter know about a message. */
export interface JetStreamMessageMeta {
  readonly stream: string;
  readonly subject: string;
  /** The stream sequence (JetStream's offset). */
  readonly sequence: number;
  /** The partition the message was read as (see `fromJetStream`). */
  readonly partition: number;
  /** When JetStream stored the message, epoch ms. */
  readonly storedAt: number;
  /** The message headers (e.g. `Nats-Msg-Id`), when it has any. */
  readonly headers?: Readonly<Record<string, readonly string[]>>;
}

/** How payloads are decoded: a built-in format or a function (a throw makes a dead letter). */
export type JetStreamDecode<T> = 'json' | 'msgpack' | 'raw' | ((data: Uint8Array, meta: JetStreamMessageMeta) => T);

/** How records are encoded for publishing: a built-in format or a function. */
export type JetStreamEncode<T> = 'json' | 'msgpack' | 'raw' | ((record: T) => Uint8Array | string);

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** Checks a format option eagerly (the factory names itself in `where`). */
export function checkFormat(format: unknown, where: string): void {
  if (format === 'json' || format === 'msgpack' || format === 'raw' || typeof format === 'function') return;
  throw new PlanError(`${where}: format must be 'json', 'msgpack', 'raw' or a function, got ${JSON.stringify(format) ?? typeof format}`);
}

/** Turns a decode option into a function that returns the record or throws with the reason. */
export function decoderFor<T>(format: JetStreamDecode<T>): (data: Uint8Array, meta: JetStreamMessageMeta) => T {
  if (format === 'json') return (data) => decodeJson(data) as T;
  if (format === 'msgpack') return (data) => decodeMsgpack(data, { maxDepth: MAX_DEPTH }) as T;
  if (format === 'raw') return (data) => data as T;
  return format;
}

/** Deepest nesting accepted in a JSON or msgpack payload. */
export const MAX_DEPTH = 512;

/**
 * Strict JSON: the bytes must be UTF-8 and one JSON document nested at most {@link MAX_DEPTH}
 * deep (a hostile 1 MiB `[[[[…` would parse, then overflow the stack of whatever walks it).
 */
export function decodeJson(data: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    throw new Error('json: the payload is not valid UTF-8');
  }
  const depth = nesting(text);
  if (depth > MAX_DEPTH) throw new Error(`json: nesting deeper than ${MAX_DEPTH}`);
  return JSON.parse(text) as unknown;
}

/** The deepest bracket nesting of a JSON text (brackets inside strings not counted). */
function nesting(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return max;
}

/** Turns an encode option into a function from record to bytes (throws when it cannot). */
export function encoderFor<T>(format: JetStreamEncode<T>): (record: T) => Uint8Array {
  if (format === 'json') {
    return (record) => {
      const text = JSON.stringify(record) as string | undefined;
      if (text === undefined) throw new Error(`json: a ${typeof record} has no JSON form`);
      return encoder.encode(text);
    };
  }
  if (format === 'msgpack') {
    // Plain msgpack (no record structures), readable by any msgpack decoder and by `decodeMsgpack`.
    const packr = new Packr({ useRecords: false, moreTypes: false });
    return (record) => packr.pack(record);
  }
  const fn = format === 'raw' ? (r: T) => r as unknown : format;
  return (record) => {
    const out = fn(record);
    if (out instanceof Uint8Array) return out;
    if (typeof out === 'string') return encoder.encode(out);
    throw new Error(`expected a Uint8Array or a string to publish, got ${out === null ? 'null' : typeof out}`);
  };
}

/** A bounded copy of a payload's start, for a dead letter. */
export function payloadPrefix(data: Uint8Array, max = 1024): Uint8Array {
  return new Uint8Array(data.subarray(0, Math.min(max, data.length)));
}
