/**
 * `toRedisStream(options)`: a sink that appends each value to a Redis stream with `XADD`, in
 * pipelined batches that the runtime awaits (backpressure), with optional `MAXLEN ~` retention.
 */
import type { Redis } from 'ioredis';
import { PlanError, TidemarkError } from '../../engine/errors.js';
import type { Sink } from '../../engine/sink.js';
import { connectRedis, type RedisConnectionOptions, redisTarget, safeMessage } from './connection.js';

/** A field value `XADD` accepts. */
export type RedisFieldValue = string | number | Buffer;

/** Options of `toRedisStream`. */
export interface ToRedisStreamOptions<T> extends RedisConnectionOptions {
  /** The stream every value goes to (give this or `streamFor`). */
  readonly stream?: string;
  /** The stream of each value (e.g. one stream per tenant). */
  readonly streamFor?: (value: T) => string;
  /** The fields of each entry (give this or `format`). */
  readonly fields?: (value: T) => Readonly<Record<string, RedisFieldValue>>;
  /** `'json'` (default): the value as JSON in `field`; `'string'`: `String(value)` in `field`. */
  readonly format?: 'json' | 'string';
  /** The field `format` writes (default `'data'`). */
  readonly field?: string;
  /** Also write the record's event time (epoch ms) in this field, e.g. for `timestamp: { field }` downstream. */
  readonly timestampField?: string;
  /** Retention: `MAXLEN ~ count` (approximate, default, cheap) or `MAXLEN = count` (`approx: false`). */
  readonly maxLen?: { readonly count: number; readonly approx?: boolean };
  /** `XADD`s per pipelined round trip (default 1000). */
  readonly batchSize?: number;
}

const jsonOf = (v: unknown): string | undefined => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));

/**
 * Appends values to Redis streams. Each `write` sends its `XADD`s in pipelined batches and
 * resolves once Redis has answered them all, so the pipeline never runs ahead of Redis. Entry ids
 * are Redis's (`*`). A value that cannot be encoded, or a command Redis rejects, fails the run with
 * an error naming the stream (entries of earlier batches stay written: at-least-once on retry).
 *
 * @example
 * results.sink(toRedisStream({ url: 'redis://127.0.0.1:6379', stream: 'page-counts',
 *   maxLen: { count: 100_000 }, timestampField: 'ts' }));
 */
export function toRedisStream<T>(options: ToRedisStreamOptions<T>): Sink<T> {
  const where = 'tidemark.toRedisStream';
  if (options === null || typeof options !== 'object') throw new PlanError(`${where}: expected an options object`);
  const { stream, streamFor, fields, timestampField, maxLen } = options;
  if ((stream === undefined) === (streamFor === undefined)) throw new PlanError(`${where}: give exactly one of stream or streamFor`);
  if (stream !== undefined && (typeof stream !== 'string' || stream === '')) throw new PlanError(`${where}: stream must be a non-empty string`);
  if (streamFor !== undefined && typeof streamFor !== 'function') throw new PlanError(`${where}: streamFor must be a function (value) => stream key`);
  if (fields !== undefined && typeof fields !== 'function') throw new PlanError(`${where}: fields must be a function (value) => { field: value }`);
  if (fields !== undefined && options.format !== undefined) throw new PlanError(`${where}: give fields or format, not both`);
  const format = options.format ?? 'json';
  if (format !== 'json' && format !== 'string') throw new PlanError(`${where}: format must be 'json' or 'string'`);
  const field = options.field ?? 'data';
  if (typeof field !== 'string' || field === '') throw new PlanError(`${where}: field must be a non-empty string`);
  if (timestampField !== undefined && (typeof timestampField !== 'string' || timestampField === '')) {
    throw new PlanError(`${where}: timestampField must be a non-empty string`);
  }
  const trim: (string | number)[] = [];
  if (maxLen !== undefined) {
    if (maxLen === null || typeof maxLen !== 'object' || !Number.isInteger(maxLen.count) || maxLen.count < 0) {
      throw new PlanError(`${where}: maxLen must be { count: a non-negative integer, approx?: boolean }`);
    }
    trim.push('MAXLEN', maxLen.approx === false ? '=' : '~', maxLen.count);
  }
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new PlanError(`${where}: batchSize must be a positive integer, got ${String(batchSize)}`);
  const target = redisTarget(options, where);

  /** The `XADD` arguments after the key for one value. */
  const entry = (value: T, timestamp: number): RedisFieldValue[] => {
    const out: RedisFieldValue[] = [...trim, '*'];
    if (fields !== undefined) {
      const f = fields(value);
      if (f === null || typeof f !== 'object') throw new Error('fields(value) did not return an object');
      for (const [k, v] of Object.entries(f)) {
        if (typeof v !== 'string' && typeof v !== 'number' && !Buffer.isBuffer(v)) throw new Error(`field '${k}' is ${typeof v}, not a string, number or Buffer`);
        out.push(k, v);
      }
      if (out.length === trim.length + 1) throw new Error('fields(value) returned no fields (Redis entries need at least one)');
    } else {
      const text = format === 'json' ? jsonOf(value) : String(value);
      if (text === undefined) throw new Error(`a ${typeof value} has no JSON form`);
      out.push(field, text);
    }
    if (timestampField !== undefined) out.push(timestampField, timestamp);
    return out;
  };

  let client: Redis | undefined;
  return {
    kind: 'redis-stream',
    guarantee: 'at-least-once', // XADD ids are Redis's: a replay appends again
    async open() {
      client = await connectRedis(target, where, 'sink');
    },
    async write(values, timestamps) {
      const c = client as Redis;
      for (let start = 0; start < values.length; start += batchSize) {
        const batch = c.pipeline();
        const keys: string[] = [];
        for (let i = start; i < Math.min(values.length, start + batchSize); i++) {
          const value = values[i] as T;
          let key: string;
          let args: RedisFieldValue[];
          try {
            key = stream ?? (streamFor as (v: T) => string)(value);
            if (typeof key !== 'string' || key === '') throw new Error(`streamFor returned ${String(key)}, not a non-empty string`);
            args = entry(value, timestamps[i] as number);
          } catch (e) {
            throw new TidemarkError(`${where}: cannot encode the value at timestamp ${String(timestamps[i])}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
          }
          keys.push(key);
          batch.xadd(key, ...args);
        }
        const results = (await batch.exec()) ?? [];
        results.forEach(([err], i) => {
          if (err !== null) throw new TidemarkError(`${where}: XADD to '${keys[i] ?? '?'}' at ${target.label} failed: ${safeMessage(err, target.secrets)}`);
        });
      }
    },
    async close() {
      await client?.quit();
    },
    abort() {
      client?.disconnect();
    },
  };
}
