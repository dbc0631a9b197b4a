/**
 * Incremental compaction of one partition (`retention: 'compacted'`). The compactor keeps, across
 * passes, the latest offset of every key and, per segment, how many of its records are dead
 * (a later record has the same key) and its oldest live tombstone. Each pass
 *
 * 1. scans only the records appended since the previous pass — keys and the tombstone bit, never
 *    values (after a restart the first pass scans the partition once);
 * 2. rewrites only the sealed segments whose dead share reaches `minDirtyRatio`, or that hold a
 *    tombstone older than `tombstoneRetention`. Kept frames are copied byte for byte (offsets,
 *    timestamps and checksums unchanged); the new file replaces the old one by rename, so
 *    readers holding the old file finish it undisturbed.
 *
 * A tombstone (value `null`) stays as long as it is the key's latest record and younger than
 * `tombstoneRetention`, measured in event time against the partition's newest timestamp: a
 * consumer less than that far behind sees every delete. A damaged segment is left as it is.
 */
import { type FileHandle, open, rename } from 'node:fs/promises';
import { KeyMap, type Key } from '../../engine/keys.js';
import { FrameWriter, HEADER_BYTES, SEGMENT_HEADER_BYTES, parseFrame, segmentHeader } from './codec.js';
import { decodeKeyAt, useBuffer } from './decode.js';
import { Segment, syncDir, writeDurably } from './segment.js';

/** How compaction behaves (from `EventLog.open` options). */
export interface CompactionRule {
  /** Event-time milliseconds a tombstone is kept after newer records arrive. */
  readonly tombstoneRetentionMs: number;
  /** Least share of dead records (0–1) that makes a sealed segment worth rewriting. */
  readonly minDirtyRatio: number;
}

/** What the compactor needs of its partition. */
export interface CompactedPartition {
  readonly dir: string;
  readonly segments: Segment[];
  readonly hardMaxFrameBytes: number;
  readonly indexIntervalBytes: number;
  readonly syncFiles: boolean;
  limitOf(seg: Segment): number;
}

/** What one pass did (for tests and diagnostics). */
export interface CompactionPass {
  /** Records scanned (appended since the previous pass). */
  readonly scanned: number;
  /** Base offsets of the segments rewritten. */
  readonly rewritten: readonly number[];
  /** Records dropped: superseded ones and expired tombstones. */
  readonly dropped: number;
}

/** Per-segment counters (by segment base offset). */
interface SegmentStats {
  dead: number;
  oldestTombstone: number;
}

const CHUNK = 1 << 20;

/** The compaction state of one partition. */
export class Compactor {
  /** key → latest offset; a tombstone is stored as `-(offset + 1)`. */
  private latest = new KeyMap<number>();
  private readonly stats = new Map<number, SegmentStats>();
  /** Segments (by base) scanned completely, and the position reached in the last one scanned. */
  private scannedSegment = -1;
  private scannedPosition = 0;

  constructor(private readonly part: CompactedPartition, private readonly rule: CompactionRule) {}

  /** One pass: scan what is new, rewrite the segments that are worth it. */
  async run(): Promise<CompactionPass> {
    const scanned = await this.scan();
    const sealed = this.part.segments.slice(0, -1);
    let newest = -Infinity;
    for (const s of this.part.segments) if (s.maxTs > newest) newest = s.maxTs;
    const expiry = newest - this.rule.tombstoneRetentionMs;
    const rewritten: number[] = [];
    let dropped = 0;
    for (const seg of sealed) {
      const st = this.statsOf(seg.base);
      const dirty = seg.count > 0 && st.dead > 0 && st.dead >= seg.count * this.rule.minDirtyRatio;
      if (!dirty && !(st.oldestTombstone < expiry)) continue;
      const n = await this.rewrite(seg, expiry);
      if (n < 0) continue; // damaged: left as it is
      dropped += n;
      rewritten.push(seg.base);
    }
    return { scanned, rewritten, dropped };
  }

  private statsOf(base: number): SegmentStats {
    let st = this.stats.get(base);
    if (st === undefined) {
      st = { dead: 0, oldestTombstone: Infinity };
      this.stats.set(base, st);
    }
    return st;
  }

  /** The segment holding `offset` (the last one whose base is ≤ it). */
  private baseOf(offset: number): number {
    const segs = this.part.segments;
    let lo = 0;
    let hi = segs.length - 1;
    let found = (segs[0] as Segment).base;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = segs[mid] as Segment;
      if (s.base <= offset) {
        found = s.base;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Reads keys of the records appended since the last scan, updating `latest` and the counters. */
  private async scan(): Promise<number> {
    let n = 0;
    for (const seg of this.part.segments) {
      if (seg.base < this.scannedSegment) continue;
      const from = seg.base === this.scannedSegment ? this.scannedPosition : SEGMENT_HEADER_BYTES;
      const limit = this.part.limitOf(seg);
      const st = this.statsOf(seg.base);
      const reached = await forEachFrame(seg, from, limit, this.part.hardMaxFrameBytes, (buf, at, end, offset, timestamp) => {
        const keyEnd = at + HEADER_BYTES + buf.readUInt32LE(at + 24);
        const key = keyAt(buf, at, keyEnd);
        if (key === undefined) return; // undecodable: readers report it; compaction keeps it
        const tomb = end - keyEnd === 1 && buf[keyEnd] === 0xc0;
        const prev = this.latest.get(key);
        if (prev !== undefined) this.statsOf(this.baseOf(prev < 0 ? -prev - 1 : prev)).dead++;
        this.latest.set(key, tomb ? -offset - 1 : offset);
        if (tomb && timestamp < st.oldestTombstone) st.oldestTombstone = timestamp;
        n++;
      });
      this.scannedSegment = seg.base;
      this.scannedPosition = reached;
    }
    return n;
  }

  /**
   * Rewrites `seg` keeping the latest record of each key (tombstones only while not older than
   * `expiry`); returns the records dropped, or -1 when the segment is damaged (left as it is).
   */
  private async rewrite(seg: Segment, expiry: number): Promise<number> {
    const out = new FrameWriter();
    const st: SegmentStats = { dead: 0, oldestTombstone: Infinity };
    const expired: Key[] = [];
    let dropped = 0;
    const limit = seg.size;
    const reached = await forEachFrame(seg, SEGMENT_HEADER_BYTES, limit, this.part.hardMaxFrameBytes, (buf, at, end, offset, timestamp) => {
      const keyEnd = at + HEADER_BYTES + buf.readUInt32LE(at + 24);
      const key = keyAt(buf, at, keyEnd);
      if (key === undefined) {
        out.raw(buf, at, end); // cannot be judged: kept
        return;
      }
      const tomb = end - keyEnd === 1 && buf[keyEnd] === 0xc0;
      const latest = this.latest.get(key);
      if (latest !== (tomb ? -offset - 1 : offset)) {
        dropped++;
        return;
      }
      if (tomb && timestamp < expiry) {
        expired.push(key);
        dropped++;
        return;
      }
      if (tomb && timestamp < st.oldestTombstone) st.oldestTombstone = timestamp;
      out.raw(buf, at, end);
    });
    if (reached !== limit) return -1;
    const data = out.take();
    const fresh = new Segment(this.part.dir, seg.base, this.part.indexIntervalBytes);
    fresh.trackBatch(data, data.length, SEGMENT_HEADER_BYTES);
    fresh.nextOffset = seg.nextOffset;
    const sync = this.part.syncFiles;
    await writeDurably(`${fresh.logPath}.compact`, Buffer.concat([segmentHeader(), data]), sync);
    await fresh.writeIndexes(sync);
    await rename(`${fresh.logPath}.compact`, fresh.logPath);
    if (sync) await syncDir(this.part.dir);
    fresh.sealed = true;
    seg.replaced = true;
    const i = this.part.segments.indexOf(seg);
    if (i >= 0) this.part.segments[i] = fresh;
    for (const k of expired) this.latest.delete(k);
    this.stats.set(seg.base, st);
    return dropped;
  }
}

/** The key of the frame at `buf[at]`, or `undefined` when it cannot be decoded. */
function keyAt(buf: Buffer, at: number, keyEnd: number): Key | undefined {
  try {
    useBuffer(buf);
    return decodeKeyAt(at + HEADER_BYTES, keyEnd) as Key;
  } catch {
    return undefined;
  }
}

/**
 * Calls `fn` for each valid frame of `seg` in `[from, limit)`, reading 1 MiB at a time; returns
 * the position after the last valid frame (`limit` when every frame was valid).
 */
async function forEachFrame(
  seg: Segment, from: number, limit: number, maxFrame: number,
  fn: (buf: Buffer, at: number, end: number, offset: number, timestamp: number) => void,
): Promise<number> {
  if (from >= limit) return from;
  let fh: FileHandle;
  try {
    fh = await open(seg.logPath, 'r');
  } catch {
    return from;
  }
  try {
    let buf = Buffer.allocUnsafe(CHUNK);
    let pos = from;
    while (pos < limit) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, limit - pos), pos);
      if (bytesRead === 0) return pos;
      let at = 0;
      for (;;) {
        const f = parseFrame(buf, at, bytesRead, maxFrame);
        if (f === 'short') {
          if (pos + bytesRead >= limit) return pos + at; // a frame runs past the limit: damaged
          if (at === 0) buf = Buffer.allocUnsafe(buf.length * 2);
          break;
        }
        if (typeof f === 'string') return pos + at;
        fn(buf, at, f.end, f.offset, f.timestamp);
        at = f.end;
        if (at >= bytesRead) break;
      }
      pos += at;
    }
    return pos;
  } finally {
    await fh.close();
  }
}
