/**
 * Payload formats of the JetStream connector: how a message's bytes become a record (source) and
 * a record becomes bytes (sink). Decoding treats payloads as untrusted data, with the shared safe
 * decoders of `connectors/codec` (strict UTF-8, nesting limits, prototype keys kept as plain
 * data, msgpack without extension code); the size limit is checked before anything is decoded.
 */
import { PlanError } from '../../engine/errors.js';
import { type Decoded, decodeJsonBytes, decodeMsgpack, encodeMsgpack } from '../codec/index.js';

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

const encoder = new TextEncoder();

/** Checks a format option eagerly (the factory names itself in `where`). */
export function checkFormat(format: unknown, where: string): void {
  if (format === 'json' || format === 'msgpack' || format === 'raw' || typeof format === 'function') return;
  throw new PlanError(`${where}: format must be 'json', 'msgpack', 'raw' or a function, got ${JSON.stringify(format) ?? typeof format}`);
}

/** Deepest nesting accepted in a JSON or msgpack payload. */
export const MAX_DEPTH = 512;

function unwrap(d: Decoded<unknown>): unknown {
  if (!d.ok) throw new Error(d.reason);
  return d.value;
}

/** Turns a decode option into a function that returns the record or throws with the reason. */
export function decoderFor<T>(format: JetStreamDecode<T>): (data: Uint8Array, meta: JetStreamMessageMeta) => T {
  if (format === 'json') return (data) => unwrap(decodeJsonBytes(data, MAX_DEPTH)) as T;
  if (format === 'msgpack') return (data) => unwrap(decodeMsgpack(data, { maxDepth: MAX_DEPTH })) as T;
  if (format === 'raw') return (data) => data as T;
  return format;
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
  if (format === 'msgpack') return (record) => encodeMsgpack(record, MAX_DEPTH);
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
