/**
 * A cursor over one partition: reads frames in file order from a starting offset, across
 * segments, up to what is visible (appends that have resolved). A corrupt frame is reported as a
 * problem and the rest of its segment skipped; reading below the retained start throws
 * `LogTruncatedError`.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { type FrameView, PROTO, parseFrame, unpack } from './codec.js';
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
  /** Position in `buf` of the next `__proto__` bytes at or after the last frame checked (-1: none left). */
  private proto = -1;

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
    const partition = this.part.id;
    while (records.length < max) {
      const f = this.bufferedFrame() ?? (await this.nextFrame());
      if (f === null) break;
      if (typeof f === 'string') {
        const seg = this.seg as Segment;
        problems.push({ partition, offset: this.position, segment: seg.name, position: this.pos, reason: `corrupt frame (${f}); the rest of segment ${seg.name} is skipped`, raw: this.rawAt(this.pos) });
        this.pos = this.part.limitOf(seg);
        continue;
      }
      this.pos += f.size;
      if (f.offset < this.position) continue;
      this.position = f.offset + 1;
      const b = this.buf;
      let careful = false;
      if (this.proto >= 0 && this.proto < f.end) {
        if (this.proto < f.at) this.proto = this.findProto(f.at);
        careful = this.proto >= 0 && this.proto < f.end;
      }
      try {
        const key = unpack(b, f.keyStart, f.valueStart, careful) as Key;
        const value = unpack(b, f.valueStart, f.end, careful);
        records.push({ partition, offset: f.offset, key, timestamp: f.timestamp, value });
      } catch (e) {
        problems.push({ partition, offset: f.offset, segment: (this.seg as Segment).name, position: f.at + this.bufStart, reason: `undecodable record: ${e instanceof Error ? e.message : String(e)}`, raw: Buffer.from(b.subarray(f.at, Math.min(f.end, f.at + 256))) });
      }
    }
    return { records, problems };
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

  private findProto(from: number): number {
    const i = this.buf.indexOf(PROTO, from);
    return i >= 0 && i < this.bufLen ? i : -1;
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

  /** The next frame when it is already in the buffer (the common case: no promise per record). */
  private bufferedFrame(): FrameView | undefined {
    const seg = this.seg;
    if (seg === undefined || this.pos >= this.part.limitOf(seg)) return undefined;
    const at = this.pos - this.bufStart;
    if (at < 0 || at >= this.bufLen) return undefined;
    const f = parseFrame(this.buf, at, this.bufLen, this.part.maxFrameBytes);
    return typeof f === 'string' ? undefined : f;
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
        if (at === 0) this.buf = Buffer.allocUnsafe(this.buf.length * 2);
      }
      const want = Math.min(this.buf.length, limit - this.pos);
      const { bytesRead } = await (this.fh as FileHandle).read(this.buf, 0, want, this.pos);
      this.bufStart = this.pos;
      this.bufLen = bytesRead;
      this.proto = this.findProto(0);
      if (bytesRead === 0) return 'short';
    }
  }
}
