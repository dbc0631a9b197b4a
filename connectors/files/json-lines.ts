/**
 * `fromJsonLines(path)` / `toJsonLines(path)`: JSON-lines files as a source and a sink, streamed
 * (never read whole into memory). Malformed lines become dead letters with `{ file, line, offset }`.
 */
import type { Sink } from '../../engine/sink.js';
import type { Source } from '../../engine/source.js';
import { type FileSinkOptions, type FileSourceOptions, fileSink, fileSource } from './file-options.js';
import { type JsonLinesReadOptions, jsonLinesDecoding, jsonLinesEncoding } from './json-lines-format.js';

/** Options of `fromJsonLines`. */
export interface FromJsonLinesOptions extends FileSourceOptions, JsonLinesReadOptions {}

/** Options of `toJsonLines`. */
export type ToJsonLinesOptions = FileSinkOptions;

/**
 * Reads a JSON-lines file: one JSON document per line. Invalid UTF-8, invalid JSON, documents
 * nested deeper than `maxDepth` (default 256) and lines longer than `maxRecordBytes` (default
 * 1 MiB; skipped without being held) become dead letters with `{ file, line, offset }` and the
 * reason; blank lines are skipped (counted as `blankLines`). The records are not validated:
 * declare their shape with `T` and check it downstream (or with a schema).
 *
 * @example
 * p.source(fromJsonLines<Click>('clicks.jsonl'), { timestamp: (c) => c.ts, watermark: boundedOutOfOrderness('PT5S') });
 */
export function fromJsonLines<T = unknown>(path: string, options: FromJsonLinesOptions = {}): Source<T> {
  return fileSource('tidemark.fromJsonLines', path, jsonLinesDecoding<T>('tidemark.fromJsonLines', options), options);
}

/**
 * Writes each value as one JSON line (`JSON.stringify`). Replaces the file (or appends with
 * `append: true`; or atomically replaces it at the end with `atomic: true`) and fsyncs when the
 * run completes (`fsync`). A value JSON cannot represent (bigint, a cycle, undefined) fails the
 * run. At-least-once: a rerun over the same input writes its records again.
 *
 * @example
 * results.sink(toJsonLines('counts.jsonl', { append: true }));
 */
export function toJsonLines<T>(path: string, options: ToJsonLinesOptions = {}): Sink<T> {
  return fileSink('tidemark.toJsonLines', path, jsonLinesEncoding<T>('tidemark.toJsonLines'), options);
}
