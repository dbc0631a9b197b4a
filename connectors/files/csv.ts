/**
 * `fromCsv(path)` / `toCsv(path)`: CSV files (RFC 4180) with a header row and typed columns, as a
 * source and a sink, streamed.
 */
import { PlanError } from '../../engine/errors.js';
import type { Sink } from '../../engine/sink.js';
import type { Source } from '../../engine/source.js';
import { type CsvReadOptions, type CsvWriteOptions, csvDecoding, csvEncoding } from './csv-format.js';
import { type FileSinkOptions, type FileSourceOptions, fileSink, fileSource } from './file-options.js';

/** Options of `fromCsv`. */
export interface FromCsvOptions extends FileSourceOptions, CsvReadOptions {}

/** Options of `toCsv`. */
export interface ToCsvOptions extends FileSinkOptions, CsvWriteOptions {}

/**
 * Reads a CSV file. With `header: true` (default) the first row names the columns; `columns`
 * types them (`'string' | 'number' | 'integer' | 'boolean' | 'timestamp'`; unlisted columns are
 * strings; timestamps read as epoch milliseconds from ISO-8601 with a zone, or from integers).
 * Quoted fields may hold delimiters, doubled quotes and newlines. A malformed record, a wrong field
 * count or a cell that does not fit its type becomes a dead letter with `{ file, line, offset }`
 * (the line where the record starts); a header that cannot be used fails the run. Replayable:
 * a pipeline restored from a checkpoint continues mid-file with the header the first run read.
 *
 * @example
 * p.source(fromCsv<{ user: string; amount: number; ts: number }>('orders.csv', {
 *   columns: { user: 'string', amount: 'number', ts: 'timestamp' },
 * }), { timestamp: (o) => o.ts });
 */
export function fromCsv<T = Record<string, unknown>>(path: string, options: FromCsvOptions = {}): Source<T> {
  if ((options.start?.offset ?? 0) > 0 && (options.header ?? true)) {
    throw new PlanError('tidemark.fromCsv: a start offset skips the header row; pass header: false and the columns in file order');
  }
  return fileSource('tidemark.fromCsv', path, csvDecoding<T>('tidemark.fromCsv', options), options);
}

/**
 * Writes records as CSV rows (CRLF line ends), the `columns` in order, quoting fields that hold
 * the delimiter, quotes, newlines or edge spaces. A header row is written first (`header`, default
 * true) unless appending to a non-empty file. Null and undefined cells are empty; `timestamp`
 * columns write numbers as ISO-8601; objects are written as JSON.
 *
 * @example
 * results.sink(toCsv('counts.csv', { columns: { key: 'string', count: 'integer', end: 'timestamp' } }));
 */
export function toCsv<T>(path: string, options: ToCsvOptions): Sink<T> {
  if (typeof options !== 'object' || options === null) throw new PlanError('tidemark.toCsv: options with columns are required');
  return fileSink('tidemark.toCsv', path, csvEncoding<T>('tidemark.toCsv', options), options);
}
