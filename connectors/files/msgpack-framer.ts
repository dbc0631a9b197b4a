/**
 * Cuts a byte stream of concatenated MessagePack values into one frame per value, by walking the
 * value headers (no decoding, no allocation per item). A value larger than `maxRecordBytes` is
 * skipped to its end without being held. A byte that can start no value (0xc1), or a value nested
 * deeper than `maxRecordBytes` levels, leaves the rest of the input unframeable: it becomes one
 * final frame with an error, covering every remaining byte — nothing is skipped silently.
 */
import { type Frame, type Framer, PREVIEW_BYTES, RecordBuffer, oversized } from './frame.js';

/** Header bytes that follow a type byte (before any payload), by type byte 0xc4–0xdf. */
const HEADER: Record<number, number> = {
  0xc4: 1, 0xc5: 2, 0xc6: 4, 0xc7: 1, 0xc8: 2, 0xc9: 4, 0xca: 4, 0xcb: 8, 0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8,
  0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8, 0xd4: 0, 0xd5: 0, 0xd6: 0, 0xd7: 0, 0xd8: 0, 0xd9: 1, 0xda: 2, 0xdb: 4,
  0xdc: 2, 0xdd: 4, 0xde: 2, 0xdf: 4,
};

/** Options of the msgpack framer. */
export interface MsgpackFramerOptions {
  readonly maxRecordBytes: number;
  /** Byte offset of the first byte (resuming mid-file). */
  readonly start?: { readonly offset: number };
}

/**
 * A framer for a stream of concatenated msgpack values.
 *
 * @example
 * msgpackFramer({ maxRecordBytes: 1 << 20 }).push(new Uint8Array([0x01, 0x02]), emit); // two frames
 */
export function msgpackFramer(options: MsgpackFramerOptions): Framer {
  const max = options.maxRecordBytes;
  const record = new RecordBuffer(max);
  let pos = options.start?.offset ?? 0;
  let recordOffset = pos;
  /** Items left in each open array/map. */
  const stack: number[] = [];
  /** Payload bytes left to skip (strings, bins, extensions). */
  let skip = 0;
  let headerType = 0;
  let headerNeed = 0;
  let headerValue = 0;
  /** Set when the rest of the input cannot be framed. */
  let broken: { reason: string; offset: number; head: Uint8Array } | undefined;

  /** A value ended: true when it closed the top-level value. */
  const complete = (): boolean => {
    for (;;) {
      const last = stack.length - 1;
      if (last < 0) return true;
      const left = (stack[last] as number) - 1;
      if (left > 0) {
        stack[last] = left;
        return false;
      }
      stack.pop();
    }
  };
  /** Opens a container of `items` items: true when that completed the top-level value. */
  const open = (items: number): boolean => {
    if (items === 0) return complete();
    if (stack.length >= max) throw new Error(`msgpack nested deeper than maxRecordBytes (${max}) levels`);
    stack.push(items);
    return false;
  };
  /** Payload of `n` bytes: true when that completed the top-level value. */
  const payload = (n: number): boolean => {
    if (n === 0) return complete();
    skip = n;
    return false;
  };
  /** After the header of `type` with value `v`: true when the top-level value completed. */
  const afterHeader = (type: number, v: number): boolean => {
    if (type === 0xc4 || type === 0xc5 || type === 0xc6 || type === 0xd9 || type === 0xda || type === 0xdb) return payload(v);
    if (type === 0xc7 || type === 0xc8 || type === 0xc9) return payload(v + 1);
    if (type >= 0xd4 && type <= 0xd8) return payload(1 + (1 << (type - 0xd4)));
    if (type === 0xdc || type === 0xdd) return open(v);
    if (type === 0xde || type === 0xdf) return open(v * 2);
    return complete(); // numbers
  };
  /** Scans `chunk` from `i`; returns the index just past the top-level value, or -1. */
  const scan = (chunk: Uint8Array, i: number): number => {
    const n = chunk.length;
    while (i < n) {
      if (skip > 0) {
        const k = Math.min(skip, n - i);
        i += k;
        skip -= k;
        if (skip === 0 && complete()) return i;
        continue;
      }
      if (headerNeed > 0) {
        headerValue = headerValue * 256 + (chunk[i++] as number);
        if (--headerNeed === 0 && afterHeader(headerType, headerValue)) return i;
        continue;
      }
      const b = chunk[i++] as number;
      let done: boolean;
      if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) done = complete();
      else if (b <= 0x8f) done = open((b & 0x0f) * 2);
      else if (b <= 0x9f) done = open(b & 0x0f);
      else if (b <= 0xbf) done = payload(b & 0x1f);
      else if (b === 0xc1) throw new Error(`invalid msgpack type byte 0xc1 at byte ${pos + i - 1}`);
      else {
        headerType = b;
        headerValue = 0;
        headerNeed = HEADER[b] as number;
        done = headerNeed === 0 ? afterHeader(b, 0) : false;
      }
      if (done) return i;
    }
    return -1;
  };
  const midValue = (): boolean => !record.empty || stack.length > 0 || skip > 0 || headerNeed > 0;

  return {
    push(chunk, emit) {
      const n = chunk.length;
      let start = 0;
      while (broken === undefined && start < n) {
        let end: number;
        try {
          end = scan(chunk, start);
        } catch (e) {
          record.add(chunk, start, Math.min(n, start + PREVIEW_BYTES));
          const r = record.take();
          broken = { reason: `${(e as Error).message}: the rest of the input cannot be framed`, offset: recordOffset, head: (r.bytes ?? r.head ?? new Uint8Array()).slice(0, PREVIEW_BYTES) };
          break;
        }
        if (end < 0) {
          record.add(chunk, start, n);
          break;
        }
        record.add(chunk, start, end);
        const r = record.take();
        const at = { offset: recordOffset, end: pos + end };
        if (r.bytes !== undefined) emit({ ...at, bytes: r.bytes });
        else emit({ ...at, error: oversized(r.size, max), ...(r.head !== undefined ? { head: r.head } : {}) });
        recordOffset = pos + end;
        start = end;
      }
      pos += n;
    },
    finish(emit) {
      if (broken !== undefined) {
        emit({ offset: broken.offset, end: pos, error: `${broken.reason} (${pos - broken.offset} bytes)`, head: broken.head });
      } else if (midValue()) {
        const r = record.take();
        emit({ offset: recordOffset, end: pos, error: `truncated msgpack value at end of input (${pos - recordOffset} bytes)`, head: (r.bytes ?? r.head ?? new Uint8Array()).slice(0, PREVIEW_BYTES) });
      }
    },
  };
}
