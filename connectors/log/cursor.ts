/**
 * A cursor over one partition: reads frames in file order from a starting offset, across
 * segments, up to what is visible (appends that have resolved). A corrupt frame is reported as a
 * problem and the rest of its segment skipped; reading below the retained start throws
 * `LogTruncatedError`.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { type FrameView, HEADER_BYTES, LENGTH_BYTES, parseFrame } from './codec.js';
import { decodeAt, useBuffer } from './decode.js';
import { xxhash32 } from './xxhash32.js';
import type { Partition } from './partition.js';
import type { Segment } from './segment.js';
import type { Key } from '../../engine/keys.js';

/** A record of the log, where it is and what it holds. */
export interface LogRecord<V = unknown> {
  readonly partition: number;
  readonly offset: number;
  readonly key: Key;
  readonly timestamp: number;
  readonly value: V;
}

/** A frame that could not be read where a record was expected. */
export interface CursorProblem {
  readonly partition: number;
  /** The offset the cursor expected next (the problem is at or after it). */
  readonly offset: number;
  readonly segment: string;
  /** Byte position in the segment file. */
  readonly position: number;
  readonly reason: string;
  /** A bounded prefix of the bad bytes. */
  readonly raw: Buffer;
}

/** What one `read` returned. */
export interface CursorBatch {
  readonly records: LogRecord[];
  readonly problems: CursorProblem[];
}

const CHUNK = 1 << 20;
/** The smallest valid frame length field. */
const MIN_LEN = HEADER_BYTES - LENGTH_BYTES + 1;

/** Reads one partition from an offset onwards. */
export class PartitionCursor {
  /** The next offset this cursor may return (every record before it was passed). */
  position: number;
  private seg: Segment | undefined;
  private fh: FileHandle | undefined;
  private pos = 0;
  private buf = Buffer.allocUnsafe(CHUNK);
  private bufStart = 0;
  private bufLen = 0;
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);

  constructor(private readonly part: Partition, from: number) {
    this.position = from;
  }

  /** The partition this cursor reads. */
  get partition(): number {
    return this.part.id;
  }

  /** Up to `max` records (and any problems met); no records at the visible head. */
  async read(max: number): Promise<CursorBatch> {
    const records: LogRecord[] = [];
    const problems: CursorProblem[] = [];
    while (records.length < max) {
      if (this.decodeBuffered(records, problems, max)) continue;
      const f = await this.nextFrame();
      if (f === null) break;
      if (typeof f === 'string') {
        this.problem(problems, f);
        continue;
      }
      // A whole, valid frame is in the buffer now: the hot loop decodes it. (It checks what
      // parseFrame checked; should they ever disagree, report rather than spin.)
      if (!this.decodeBuffered(records, problems, max)) this.problem(problems, 'header');
    }
    return { records, problems };
  }

  /**
   * The hot loop: checks and decodes the frames already in the buffer into `records` (up to
   * `max`), without a promise, closure or buffer slice per record. Returns false when the next
   * frame is not (wholly) in the buffer, or when it has a problem the slow path reports.
   */
  private decodeBuffered(records: LogRecord[], problems: CursorProblem[], max: number): boolean {
    const seg = this.seg;
    if (seg === undefined) return false;
    const buf = this.buf;
    const dv = this.view;
    const base = this.bufStart;
    const stop = Math.min(this.bufLen, this.part.limitOf(seg) - base);
    const maxLen = this.part.maxFrameBytes;
    const partition = this.part.id;
    let at = this.pos - base;
    if (at < 0 || at >= stop) return false;
    let progressed = false;
    useBuffer(buf);
    while (records.length < max && at + 8 <= stop) {
      const len = dv.getUint32(at, true);
      const end = at + LENGTH_BYTES + len;
      if (len < MIN_LEN || len > maxLen || end > stop) break; // the slow path says what it is
      if (xxhash32(buf, at + 8, end) !== dv.getUint32(at + 4, true)) break;
      const offset = dv.getFloat64(at + 8, true);
      const keyEnd = at + HEADER_BYTES + dv.getUint32(at + 24, true);
      if (!Number.isSafeInteger(offset) || offset < 0 || keyEnd > end || keyEnd <= at + HEADER_BYTES) break;
      this.pos = base + end;
      progressed = true;
      if (offset < this.position) {
        at = end;
        continue;
      }
      this.position = offset + 1;
      try {
        // Not through the key cache: with more distinct keys than its slots every miss stored a
        // young string in the (old) cache, which then survived GCs — 1.8M → 2.0M records per CPU-second.
        const key = decodeAt(at + HEADER_BYTES, keyEnd) as Key;
        const value = decodeAt(keyEnd, end);
        records.push({ partition, offset, key, timestamp: dv.getFloat64(at + 16, true), value });
      } catch (e) {
        problems.push({ partition, offset, segment: seg.name, position: base + at, reason: `undecodable record: ${e instanceof Error ? e.message : String(e)}`, raw: Buffer.from(buf.subarray(at, Math.min(end, at + 256))) });
        useBuffer(buf);
      }
      at = end;
    }
    return progressed;
  }

  /** Reports the problem `f` at the cursor and skips what it makes unreadable. */
  private problem(problems: CursorProblem[], f: string): void {
    const seg = this.seg as Segment;
    const partition = this.part.id;
    const limit = this.part.limitOf(seg);
    if (f === 'length') {
      const len = this.lengthAt(this.pos);
      const frameEnd = this.pos + LENGTH_BYTES + len;
      if (len > this.part.maxFrameBytes && len <= this.part.hardMaxFrameBytes && frameEnd <= limit) {
        // Larger than maxRecordBytes allows (written under a larger limit, or a corrupt length):
        // reported with its position, and skipped by its length (the next frame is checked as usual).
        // One before where this cursor started (a resumed read scanning from an index entry) was
        // reported by the read that passed it: skipped silently.
        const offset = this.offsetAt(this.pos);
        if (offset !== undefined && offset >= seg.base && offset < this.position) {
          this.pos = frameEnd;
          return;
        }
        problems.push({ partition, offset: this.position, segment: seg.name, position: this.pos, reason: `record of ${len - (HEADER_BYTES - LENGTH_BYTES)} bytes is over maxRecordBytes (${this.part.maxFrameBytes - (HEADER_BYTES - LENGTH_BYTES)}); skipped`, raw: this.rawAt(this.pos) });
        this.pos = frameEnd;
        return;
      }
    }
    problems.push({ partition, offset: this.position, segment: seg.name, position: this.pos, reason: `corrupt frame (${f}); the rest of segment ${seg.name} is skipped`, raw: this.rawAt(this.pos) });
    this.pos = limit;
    // The next record this cursor can return is in the next segment: say so now, so that a
    // position taken after this problem resumes past it (not at the corrupt frame again).
    const next = this.part.segmentAfter(seg.base);
    if (next !== undefined && this.position < next.base) this.position = next.base;
  }

  /** The offset field of the frame at file position `p`, when its header is in the buffer and sane. */
  private offsetAt(p: number): number | undefined {
    const i = p - this.bufStart;
    if (i < 0 || i + 16 > this.bufLen) return undefined;
    const offset = this.view.getFloat64(i + 8, true);
    return Number.isSafeInteger(offset) && offset >= 0 ? offset : undefined;
  }

  /** The length field of the frame at file position `p` (it is in the buffer). */
  private lengthAt(p: number): number {
    const i = p - this.bufStart;
    return i >= 0 && i + 4 <= this.bufLen ? this.view.getUint32(i, true) : 0;
  }

  /**
   * Moves to the first record with timestamp ≥ `ts` (the head when there is none) and returns
   * its offset.
   */
  async seekTime(ts: number): Promise<number> {
    for (;;) {
      if (this.seg === undefined && !(await this.enter())) return this.position;
      const seg = this.seg as Segment;
      if (seg.maxTs < ts && this.part.segmentAfter(seg.base) !== undefined) {
        await this.leave(seg);
        continue;
      }
      const skip = seg.positionForTime(ts);
      if (this.pos < skip) this.pos = skip;
      for (;;) {
        const f = await this.nextFrame();
        if (f === null) return this.position;
        if (typeof f === 'string') return this.position;
        if (f.timestamp >= ts && f.offset >= this.position) {
          this.position = f.offset;
          return f.offset;
        }
        this.pos += f.size;
        if (f.offset >= this.position) this.position = f.offset + 1;
      }
    }
  }

  /** Closes the file this cursor holds. */
  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    this.seg = undefined;
    await fh?.close();
  }

  /** Doubles the read buffer (a frame larger than it; bounded by the frame size limit). */
  private grow(): void {
    this.buf = Buffer.allocUnsafe(this.buf.length * 2);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.bufLen = 0;
  }

  private rawAt(at: number): Buffer {
    const i = at - this.bufStart;
    return i >= 0 && i < this.bufLen ? Buffer.from(this.buf.subarray(i, Math.min(this.bufLen, i + 256))) : Buffer.alloc(0);
  }

  /** Opens the segment holding `position`; false when there is none (empty log). */
  private async enter(): Promise<boolean> {
    for (;;) {
      const seg = this.part.segmentFor(this.position);
      if (seg === undefined) return false;
      try {
        this.fh = await open(seg.logPath, 'r');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          this.part.checkRetained(this.position);
          continue; // replaced by compaction or rolled; look again
        }
        throw e;
      }
      if (seg.replaced) {
        await this.fh.close(); // compacted meanwhile: its replacement is in the list now
        this.fh = undefined;
        continue;
      }
      this.seg = seg;
      this.pos = seg.positionFor(this.position);
      this.bufLen = 0;
      return true;
    }
  }

  private async leave(seg: Segment): Promise<void> {
    const next = this.part.segmentAfter(seg.base);
    await this.close();
    if (next !== undefined && this.position < next.base) this.position = next.base;
  }

  /** The next frame (or problem) at the cursor, `null` at the visible head. */
  private async nextFrame(): Promise<FrameView | string | null> {
    for (;;) {
      if (this.seg === undefined && !(await this.enter())) return null;
      const seg = this.seg as Segment;
      const limit = this.part.limitOf(seg);
      if (this.pos >= limit) {
        if (this.part.segmentAfter(seg.base) === undefined) return null;
        await this.leave(seg);
        continue;
      }
      const at = this.pos - this.bufStart;
      if (at >= 0 && at < this.bufLen) {
        const f = parseFrame(this.buf, at, this.bufLen, this.part.maxFrameBytes);
        if (f !== 'short') return f;
        if (at === 0 && this.bufStart + this.bufLen >= limit) return 'short';
        if (at === 0) this.grow();
      }
      const want = Math.min(this.buf.length, limit - this.pos);
      const { bytesRead } = await (this.fh as FileHandle).read(this.buf, 0, want, this.pos);
      this.bufStart = this.pos;
      this.bufLen = bytesRead;
      if (bytesRead === 0) return 'short';
    }
  }
}
