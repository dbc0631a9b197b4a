/**
 * What a file format provides to the generic byte source and sink: reading cuts bytes into frames
 * and decodes each frame (to a record, a rejection, or nothing for a blank line); writing encodes
 * a batch of values to bytes (with an optional header first, for CSV).
 */
import type { Decoded } from '../codec/result.js';
import type { Frame, Framer } from './frame.js';

/** Where reading starts: a byte offset (and the line number there, for line-based formats). */
export interface StartPosition {
  /** Byte offset to start at (default 0). It must be the start of a record. */
  readonly offset?: number;
  /** Line number of that offset (default 1); used in positions. */
  readonly line?: number;
}

/** The reading side of a format. */
export interface Decoding<T> {
  /** Short format name (for kinds and messages), e.g. `'json-lines'`. */
  readonly format: string;
  /** True when positions carry line numbers. */
  readonly lineBased: boolean;
  /** A fresh framer starting at `start`. */
  framer(start: { offset: number; line: number }): Framer;
  /**
   * A fresh per-run decoder (`where` names the file or stream in its errors); `resumed` is the
   * `resumeState()` of the run being continued from a checkpoint, if any.
   */
  decoder(where: string, resumed?: unknown): RecordDecoder<T>;
  /** The dead-letter value for a rejected record's bytes (a bounded preview). */
  preview(bytes: Uint8Array, truncated: boolean): unknown;
}

/** Decodes the frames of one run. */
export interface RecordDecoder<T> {
  /** A record, a rejection, or `undefined` for a blank line (skipped, counted). */
  decode(bytes: Uint8Array, frame: Frame): Decoded<T> | undefined;
  /** Told of a frame that could not be cut (oversized…); may throw to fail the run (a CSV header). */
  unframed?(frame: Frame): void;
  /** State a restored run needs to decode from the current offset on (CSV: the header's names), as plain data. */
  resumeState?(): unknown;
}

/** The writing side of a format. */
export interface Encoding<T> {
  readonly format: string;
  /** Bytes written once before the first record of a new file (CSV header). */
  header?(): Uint8Array;
  /** Encodes a batch; throws a TypeError for a value the format cannot represent. */
  encode(values: readonly T[]): Uint8Array;
}

/** Longest text kept as a dead letter's value. */
const PREVIEW_CHARS = 1024;
const lossy = new TextDecoder('utf-8');

/** A text preview of rejected bytes: lossy UTF-8, at most 1024 characters, `…` when cut. */
export function textPreview(bytes: Uint8Array, truncated: boolean): string {
  const text = lossy.decode(bytes.length > PREVIEW_CHARS * 4 ? bytes.subarray(0, PREVIEW_CHARS * 4) : bytes);
  if (text.length > PREVIEW_CHARS) return `${text.slice(0, PREVIEW_CHARS)}…`;
  return truncated ? `${text}…` : text;
}

/** A base64 preview of rejected binary bytes (at most 1024 bytes). */
export function binaryPreview(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 1024)).toString('base64');
}

/** True for a line of only spaces, tabs and CRs. */
export function isBlank(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  }
  return true;
}
