/**
 * `fromMsgpack(path)` / `toMsgpack(path)`: files of concatenated MessagePack values (one record
 * each, no extra framing — the standard msgpack stream), as a source and a sink, streamed.
 */
import type { Sink } from '../../engine/sink.js';
import type { Source } from '../../engine/source.js';
import { type ExactlyOnceFileSinkOptions, type FileSinkOptions, type FileSourceOptions, fileSink, fileSource } from './file-options.js';
import { type MsgpackReadOptions, msgpackDecoding, msgpackEncoding } from './msgpack-format.js';

/** Options of `fromMsgpack`. */
export interface FromMsgpackOptions extends FileSourceOptions, MsgpackReadOptions {}

/** Options of `toMsgpack`. */
export interface ToMsgpackOptions extends FileSinkOptions, ExactlyOnceFileSinkOptions {}

/**
 * Reads a file of concatenated msgpack values. Decoding is safe for untrusted files: no
 * extension is decoded except the standard timestamp (-1, to `Date`; `timestamps: false` rejects
 * it too), map keys like `__proto__` stay own data properties, strings must be valid UTF-8, and
 * nesting is limited (`maxDepth`). A value that cannot be decoded, or is larger than
 * `maxRecordBytes`, becomes a dead letter with `{ file, record, offset }` (its value a base64
 * preview); an invalid type byte (0xc1) or a value truncated at the end of the file leaves the
 * rest unframeable, and that rest becomes one dead letter. Replayable: chunks carry
 * `{ offset, record }`, and a restored pipeline continues after the last processed value.
 *
 * @example
 * p.source(fromMsgpack<Reading>('readings.msgpack'), { timestamp: (r) => r.ts });
 */
export function fromMsgpack<T = unknown>(path: string, options: FromMsgpackOptions = {}): Source<T> {
  return fileSource('tidemark.fromMsgpack', path, msgpackDecoding<T>('tidemark.fromMsgpack', options), options);
}

/**
 * Writes each value as one msgpack value, concatenated (readable by `fromMsgpack`, msgpackr's
 * `UnpackrStream`, or any msgpack stream decoder). Dates become timestamp extensions; functions,
 * symbols and cycles fail the run. `delivery: 'exactly-once'` commits in step with checkpoints
 * (as `toJsonLines` does).
 *
 * @example
 * results.sink(toMsgpack('results.msgpack'));
 */
export function toMsgpack<T>(path: string, options: ToMsgpackOptions = {}): Sink<T> {
  return fileSink('tidemark.toMsgpack', path, msgpackEncoding<T>('tidemark.toMsgpack'), options);
}
