/**
 * `fromReadable(readable, { format })` / `toWritable(writable, { format })`: Node stream interop.
 * Any byte `Readable` (a socket, stdin, a decompression stream, an HTTP body) is read in one of the
 * file formats with the same decoding, limits and dead letters as the file sources (positions say
 * `{ stream: name }` instead of `{ file }`); any `Writable` receives the encoded records, with the
 * stream's backpressure reaching the pipeline.
 */
import type { Readable, Writable } from 'node:stream';
import { PlanError } from '../../engine/errors.js';
import type { Sink } from '../../engine/sink.js';
import type { Source } from '../../engine/source.js';
import { byteSink } from './byte-sink.js';
import { byteSource } from './byte-source.js';
import { streamTarget } from './byte-target.js';
import { type CsvReadOptions, type CsvWriteOptions, csvDecoding, csvEncoding } from './csv-format.js';
import { startOf } from './file-options.js';
import type { Decoding, Encoding, StartPosition } from './format.js';
import { type JsonLinesReadOptions, jsonLinesDecoding, jsonLinesEncoding } from './json-lines-format.js';
import { type MsgpackReadOptions, msgpackDecoding, msgpackEncoding } from './msgpack-format.js';

/** The formats streams can carry. */
export type StreamFormat = 'json-lines' | 'csv' | 'msgpack';

interface StreamSourceCommon {
  /** Name used in dead-letter positions (`{ stream: name, line }`; default `'stream'`). */
  readonly name?: string;
  /** Offset and line of the stream's first byte, for positions (default 0 and 1). */
  readonly start?: StartPosition;
}

/** Options of `fromReadable`, by format. */
export type FromReadableOptions =
  | (StreamSourceCommon & JsonLinesReadOptions & { readonly format: 'json-lines' })
  | (StreamSourceCommon & CsvReadOptions & { readonly format: 'csv' })
  | (StreamSourceCommon & MsgpackReadOptions & { readonly format: 'msgpack' });

interface StreamSinkCommon {
  /** End the writable when the run completes (default true; pass false for `process.stdout`). */
  readonly end?: boolean;
}

/** Options of `toWritable`, by format. */
export type ToWritableOptions =
  | (StreamSinkCommon & { readonly format: 'json-lines' })
  | (StreamSinkCommon & CsvWriteOptions & { readonly format: 'csv' })
  | (StreamSinkCommon & { readonly format: 'msgpack' });

const FORMATS = "'json-lines', 'csv' or 'msgpack'";

/**
 * A source reading a Node `Readable` of bytes (or strings) in `format`. The stream is read only
 * as fast as the pipeline consumes it; it is destroyed if the run stops early.
 *
 * @example
 * p.source(fromReadable<Click>(process.stdin, { format: 'json-lines', name: 'stdin' }), { timestamp: (c) => c.ts });
 */
export function fromReadable<T = unknown>(readable: Readable, options: FromReadableOptions): Source<T> {
  const factory = 'tidemark.fromReadable';
  if (typeof (readable as Partial<Readable> | null)?.[Symbol.asyncIterator] !== 'function') {
    throw new PlanError(`${factory}: expected a Node Readable (or any async iterable of bytes)`);
  }
  const name = options.name ?? 'stream';
  if (typeof name !== 'string') throw new PlanError(`${factory}: name must be a string`);
  let decoding: Decoding<T>;
  if (options.format === 'json-lines') decoding = jsonLinesDecoding<T>(factory, options);
  else if (options.format === 'csv') decoding = csvDecoding<T>(factory, options);
  else if (options.format === 'msgpack') decoding = msgpackDecoding<T>(factory, options);
  else throw new PlanError(`${factory}: format must be ${FORMATS}, got ${String((options as { format?: unknown }).format)}`);
  let used = false;
  return byteSource({
    kind: `readable-${decoding.format}`,
    factory,
    origin: { stream: name },
    decoding,
    start: startOf(factory, options.start),
    replayable: false, // a stream cannot be re-read from a position
    open: () => {
      if (used) throw new PlanError(`${factory}: a Readable can be read by one run only`);
      used = true;
      return readable;
    },
  });
}

/**
 * A sink writing the records to a Node `Writable` in `format`. Each batch is one write, and the
 * pipeline waits for the write's callback (backpressure); the writable is ended when the run
 * completes (`end: false` to leave it open) and destroyed if it fails.
 *
 * @example
 * results.sink(toWritable(process.stdout, { format: 'json-lines', end: false }));
 */
export function toWritable<T>(writable: Writable, options: ToWritableOptions): Sink<T> {
  const factory = 'tidemark.toWritable';
  if (typeof (writable as Partial<Writable> | null)?.write !== 'function' || typeof writable.end !== 'function') {
    throw new PlanError(`${factory}: expected a Node Writable`);
  }
  const end = options.end ?? true;
  if (typeof end !== 'boolean') throw new PlanError(`${factory}: end must be a boolean`);
  let encoding: Encoding<T>;
  if (options.format === 'json-lines') encoding = jsonLinesEncoding<T>(factory);
  else if (options.format === 'csv') encoding = csvEncoding<T>(factory, options);
  else if (options.format === 'msgpack') encoding = msgpackEncoding<T>(factory);
  else throw new PlanError(`${factory}: format must be ${FORMATS}, got ${String((options as { format?: unknown }).format)}`);
  return byteSink({ kind: `writable-${encoding.format}`, factory, encoding, target: () => Promise.resolve(streamTarget(writable, { end })) });
}
