/**
 * Files and streams: JSON-lines, CSV and msgpack files as sources and sinks, and Node
 * `Readable`/`Writable` interop, all streamed with backpressure and safe for untrusted input.
 */
export { fromJsonLines, toJsonLines, type FromJsonLinesOptions, type ToJsonLinesOptions } from './json-lines.js';
export { fromCsv, toCsv, type FromCsvOptions, type ToCsvOptions } from './csv.js';
export { fromMsgpack, toMsgpack, type FromMsgpackOptions, type ToMsgpackOptions } from './msgpack.js';
export { fromReadable, toWritable, type FromReadableOptions, type ToWritableOptions, type StreamFormat } from './streams.js';
export type { CsvColumnType } from './csv-columns.js';
export type { FileSourceOptions, FileSinkOptions, FileDelivery, ExactlyOnceFileSinkOptions } from './file-options.js';
export type { FsyncPolicy } from './byte-target.js';
export type { StartPosition } from './format.js';
