/**
 * `fromJsonLines(path)` / `toJsonLines(path)`: JSON-lines files as a source and a sink, streamed
 * (never read whole into memory). Malformed lines become dead letters with `{ file, line, offset }`.
 */
import type { Sink } from '../../engine/sink.js';
import type { Source } from '../../engine/source.js';
import { type ExactlyOnceFileSinkOptions, type FileSinkOptions, type FileSourceOptions, fileSink, fileSource } from './file-options.js';
import { type JsonLinesReadOptions, jsonLinesDecoding, jsonLinesEncoding } from './json-lines-format.js';

/** Options of `fromJsonLines`. */
export interface FromJsonLinesOptions extends FileSourceOptions, JsonLinesReadOptions {}

/** Options of `toJsonLines`. */
export interface ToJsonLinesOptions extends FileSinkOptions, ExactlyOnceFileSinkOptions {}

/**
 * Reads a JSON-lines file: one JSON document per line. Invalid UTF-8, invalid JSON, documents
 * nested deeper than `maxDepth` (default 256) and lines longer than `maxRecordBytes` (default
 * 1 MiB; skipped without being held) become dead letters with `{ file, line, offset }` and the
 * reason; blank lines are skipped (counted as `blankLines`). The records are not validated:
 * declare their shape with `T` and check it downstream (or with a schema).
 *
 * Replayable: each chunk carries `{ offset, line }` (just past its last record), so a pipeline
 * restored from a checkpoint continues right after the last record it had processed.
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
 * run. At-least-once by default: a rerun over the same input writes its records again. With
 * `delivery: 'exactly-once'` the output is committed in step with checkpoints (staged per epoch,
 * appended when the checkpoint is durable, re-committed idempotently on restore), so after any
 * crash the file holds exactly what an uninterrupted run writes.
 *
 * @example
 * results.sink(toJsonLines('counts.jsonl', { append: true }));
 * results.sink(toJsonLines('counts.jsonl', { delivery: 'exactly-once' }));
 */
export function toJsonLines<T>(path: string, options: ToJsonLinesOptions = {}): Sink<T> {
  return fileSink('tidemark.toJsonLines', path, jsonLinesEncoding<T>('tidemark.toJsonLines'), options);
}
