/**
 * Options shared by the file sources and sinks, with their eager validation (the path, where
 * reading starts, how a file is written: append, atomic replace, fsync policy), and the file
 * source and sink of a format built from them.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PlanError } from '../../engine/errors.js';
import type { Source } from '../../engine/source.js';
import type { Sink } from '../../engine/sink.js';
import { byteSink } from './byte-sink.js';
import { byteSource } from './byte-source.js';
import { epochFileSink } from './epoch-sink.js';
import { type FsyncPolicy, fileTarget } from './byte-target.js';
import type { Decoding, Encoding, StartPosition } from './format.js';

/** Options every file source takes. */
export interface FileSourceOptions {
  /**
   * Where to start reading: a byte offset at a record boundary (e.g. the `offset` a previous run
   * reported in its stats) and the line number there. Default: the start of the file.
   */
  readonly start?: StartPosition;
  /** Bytes read from the file at a time (default 64 KiB). */
  readonly readChunkBytes?: number;
}

/** How a file sink delivers after a crash and restore (see `ExactlyOnceFileSinkOptions`). */
export type FileDelivery = 'at-least-once' | 'exactly-once';

/** The delivery option of the file sinks that support exactly-once (JSON lines, msgpack). */
export interface ExactlyOnceFileSinkOptions {
  /**
   * `'at-least-once'` (default): records are written as they come. `'exactly-once'`: output is
   * staged per checkpoint (in `.<name>.epochs/` next to the file) and appended to the file when the
   * checkpoint is durable, so after a crash and restore the file holds exactly what an
   * uninterrupted run writes. Readers see output in checkpoint-sized steps (at the end of the run
   * without checkpoints). Not with `atomic` or `fsync: 'never'` (commits always fsync).
   */
  readonly delivery?: FileDelivery;
}

/** Options every file sink takes. */
export interface FileSinkOptions {
  /** Append to the file instead of replacing it (default false). */
  readonly append?: boolean;
  /**
   * Write a temporary file and rename it over `path` when the run completes, so the file is
   * either the old one or the complete new one (default false; not with `append`). A failed run
   * leaves the old file and removes the temporary one.
   */
  readonly atomic?: boolean;
  /**
   * When to fsync: `'close'` (default: once, when the run completes), `'always'` (after every
   * write, before it resolves — durable once acknowledged), or `'never'`.
   */
  readonly fsync?: FsyncPolicy;
}

function checkPath(factory: string, path: unknown): string {
  if (typeof path !== 'string' || path.length === 0) throw new PlanError(`${factory}: expected a file path, got ${String(path)}`);
  return path;
}

function nonNegativeInteger(factory: string, name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new PlanError(`${factory}: ${name} must be a non-negative integer, got ${String(v)}`);
  return v;
}

/** Validates a start position (default: offset 0, line 1). */
export function startOf(factory: string, start: StartPosition | undefined): { offset: number; line: number } {
  if (start !== undefined && (typeof start !== 'object' || start === null)) throw new PlanError(`${factory}: start must be { offset, line? }`);
  const offset = nonNegativeInteger(factory, 'start.offset', start?.offset, 0);
  const line = nonNegativeInteger(factory, 'start.line', start?.line, 1);
  if (line < 1) throw new PlanError(`${factory}: start.line must be at least 1`);
  return { offset, line };
}

/** A source reading `path` with `decoding`. */
export function fileSource<T>(factory: string, path: string, decoding: Decoding<T>, options: FileSourceOptions): Source<T> {
  const file = checkPath(factory, path);
  const start = startOf(factory, options.start);
  const highWaterMark = nonNegativeInteger(factory, 'readChunkBytes', options.readChunkBytes, 64 * 1024);
  if (highWaterMark < 1) throw new PlanError(`${factory}: readChunkBytes must be positive`);
  return byteSource({
    kind: decoding.format,
    factory,
    origin: { file },
    decoding,
    start,
    replayable: true,
    open: (offset) => (offset === 0 ? createReadStream(file, { start: 0, highWaterMark }) : readFrom(file, offset, highWaterMark)),
  });
}

/** Reads `file` from `offset`, first checking the file still reaches it (not truncated or replaced by a shorter one). */
async function* readFrom(file: string, offset: number, highWaterMark: number): AsyncIterable<unknown> {
  const { size } = await stat(file);
  if (size < offset) throw new Error(`the file is ${size} bytes long, shorter than the position to continue from (byte ${offset}): it was truncated or replaced`);
  yield* createReadStream(file, { start: offset, highWaterMark });
}

/** A sink writing `path` with `encoding`. */
export function fileSink<T>(factory: string, path: string, encoding: Encoding<T>, options: FileSinkOptions & ExactlyOnceFileSinkOptions): Sink<T> {
  const file = checkPath(factory, path);
  const append = options.append ?? false;
  const atomic = options.atomic ?? false;
  const fsync = options.fsync ?? 'close';
  if (typeof append !== 'boolean') throw new PlanError(`${factory}: append must be a boolean`);
  if (typeof atomic !== 'boolean') throw new PlanError(`${factory}: atomic must be a boolean`);
  if (append && atomic) throw new PlanError(`${factory}: atomic replaces the file, so it cannot be combined with append`);
  if (fsync !== 'always' && fsync !== 'close' && fsync !== 'never') {
    throw new PlanError(`${factory}: fsync must be 'always', 'close' or 'never', got ${String(fsync)}`);
  }
  const delivery = options.delivery ?? 'at-least-once';
  if (delivery !== 'at-least-once' && delivery !== 'exactly-once') {
    throw new PlanError(`${factory}: delivery must be 'at-least-once' or 'exactly-once', got ${String(delivery)}`);
  }
  if (delivery === 'exactly-once') {
    if (encoding.header !== undefined) throw new PlanError(`${factory}: delivery 'exactly-once' is not available for a format with a header`);
    if (atomic) throw new PlanError(`${factory}: delivery 'exactly-once' commits per checkpoint, so it cannot be combined with atomic`);
    if (fsync === 'never') throw new PlanError(`${factory}: delivery 'exactly-once' fsyncs every commit, so it cannot be combined with fsync: 'never'`);
    return epochFileSink({ kind: encoding.format, factory, path: file, encoding, append });
  }
  return { ...byteSink({ kind: encoding.format, factory, encoding, target: () => fileTarget(file, { append, atomic, fsync }) }), guarantee: 'at-least-once' };
}
