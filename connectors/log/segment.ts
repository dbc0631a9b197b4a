/**
 * One segment of a log partition: an append-only `.log` file of frames named by its base offset,
 * with a sparse offset index (`.index`: offset → byte position every `indexIntervalBytes`) and a
 * timestamp index (`.timeindex`: the largest timestamp before a position). Indexes are kept in
 * memory while the segment is active and written when it is sealed; a sealed segment whose
 * index does not match its file (a crash while sealing) is rescanned on open.
 */
import { type FileHandle, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type FrameView, LENGTH_BYTES, SEGMENT_HEADER_BYTES, parseFrame, segmentHeader, segmentHeaderProblem } from './codec.js';
import { LogError } from './errors.js';

const MAGIC = 0x32544d54; // 'TMT2': the time index of a format-2 segment
const TIME_HEADER = 48;
const OFFSET_ENTRY = 12;
const TIME_ENTRY = 20;

/** The file name stem of the segment whose first offset is `base`. */
export function segmentName(base: number): string {
  return String(base).padStart(20, '0');
}

/** A segment's files, metadata and in-memory indexes. */
export class Segment {
  /** Bytes of the segment header and the whole frames after it. */
  size = SEGMENT_HEADER_BYTES;
  /** One past the largest offset in the segment (`base` when empty). */
  nextOffset: number;
  count = 0;
  maxTs = -Infinity;
  lastTs = -Infinity;
  sealed = false;
  /** Replaced by a compacted copy: readers holding this object keep reading the old file. */
  replaced = false;
  /** Sparse offset index. */
  readonly idxOffsets: number[] = [];
  readonly idxPositions: number[] = [];
  /** Timestamp index: the largest timestamp of the records before `timePositions[i]`. */
  readonly timeMax: number[] = [];
  readonly timePositions: number[] = [];
  readonly timeOffsets: number[] = [];
  private sinceIndex = 0;
  /** The write handle of the active segment. */
  handle: FileHandle | undefined;

  constructor(readonly dir: string, readonly base: number, private readonly indexInterval: number) {
    this.nextOffset = base;
  }

  get name(): string {
    return segmentName(this.base);
  }

  get logPath(): string {
    return join(this.dir, `${this.name}.log`);
  }

  get indexPath(): string {
    return join(this.dir, `${this.name}.index`);
  }

  get timeIndexPath(): string {
    return join(this.dir, `${this.name}.timeindex`);
  }

  /** Accounts for a frame written at `position` (indexes, counters). */
  track(position: number, size: number, offset: number, ts: number): void {
    if (this.sinceIndex >= this.indexInterval) {
      this.idxOffsets.push(offset);
      this.idxPositions.push(position);
      this.timeMax.push(this.maxTs);
      this.timePositions.push(position);
      this.timeOffsets.push(offset);
      this.sinceIndex = 0;
    }
    this.sinceIndex += size;
    if (ts > this.maxTs) this.maxTs = ts;
    this.lastTs = ts;
    this.count++;
    this.nextOffset = offset + 1;
    this.size = position + size;
  }

  /** Accounts for every frame in `buf[0, length)`, written at file position `position`. */
  trackBatch(buf: Buffer, length: number, position: number): void {
    const dv = new DataView(buf.buffer, buf.byteOffset, length);
    for (let at = 0; at < length;) {
      const size = dv.getUint32(at, true) + LENGTH_BYTES;
      this.track(position + at, size, dv.getFloat64(at + 8, true), dv.getFloat64(at + 16, true));
      at += size;
    }
  }

  /** The byte position to start reading at to find `offset` (a lower bound). */
  positionFor(offset: number): number {
    const o = this.idxOffsets;
    let lo = 0;
    let hi = o.length - 1;
    let pos = SEGMENT_HEADER_BYTES;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((o[mid] as number) <= offset) {
        pos = this.idxPositions[mid] as number;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return pos;
  }

  /** The byte position to start reading at to find the first record with timestamp ≥ `ts`. */
  positionForTime(ts: number): number {
    // Entries are in position order and timeMax never decreases: the last entry whose
    // preceding records are all < ts.
    const m = this.timeMax;
    let lo = 0;
    let hi = m.length - 1;
    let pos = SEGMENT_HEADER_BYTES;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((m[mid] as number) < ts) {
        pos = this.timePositions[mid] as number;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return pos;
  }

  /** Opens (creating, with its header) the file for appending at `size`. */
  async openForWrite(): Promise<void> {
    this.handle = await open(this.logPath, 'a+');
    if ((await this.handle.stat()).size === 0) {
      await this.handle.write(segmentHeader(), 0, SEGMENT_HEADER_BYTES, 0);
      this.size = SEGMENT_HEADER_BYTES;
    }
  }

  /** Throws a `LogError` unless the file starts with a format-2 segment header. */
  async checkHeader(): Promise<void> {
    const fh = await open(this.logPath, 'r');
    try {
      const b = Buffer.alloc(SEGMENT_HEADER_BYTES);
      const { bytesRead } = await fh.read(b, 0, SEGMENT_HEADER_BYTES, 0);
      const problem = segmentHeaderProblem(b.subarray(0, bytesRead));
      if (problem !== undefined) throw new LogError(`event log segment ${this.logPath} cannot be read: ${problem}`);
    } finally {
      await fh.close();
    }
  }

  /** Writes the index files of a sealed segment (the `.timeindex` header last marks it complete). */
  async writeIndexes(sync: boolean): Promise<void> {
    const n = this.idxOffsets.length;
    const idx = Buffer.allocUnsafe(n * OFFSET_ENTRY);
    for (let i = 0; i < n; i++) {
      idx.writeDoubleLE(this.idxOffsets[i] as number, i * OFFSET_ENTRY);
      idx.writeUInt32LE(this.idxPositions[i] as number, i * OFFSET_ENTRY + 8);
    }
    const m = this.timeMax.length;
    const tix = Buffer.allocUnsafe(TIME_HEADER + m * TIME_ENTRY);
    tix.writeUInt32LE(MAGIC, 0);
    tix.writeUInt32LE(this.size, 4);
    tix.writeDoubleLE(this.nextOffset, 8);
    tix.writeDoubleLE(this.maxTs, 16);
    tix.writeDoubleLE(this.lastTs, 24);
    tix.writeDoubleLE(this.count, 32);
    tix.writeUInt32LE(n, 40);
    tix.writeUInt32LE(m, 44);
    for (let i = 0; i < m; i++) {
      const at = TIME_HEADER + i * TIME_ENTRY;
      tix.writeDoubleLE(this.timeMax[i] as number, at);
      tix.writeDoubleLE(this.timeOffsets[i] as number, at + 8);
      tix.writeUInt32LE(this.timePositions[i] as number, at + 16);
    }
    await writeDurably(this.indexPath, idx, sync);
    await writeDurably(this.timeIndexPath, tix, sync);
  }

  /** Loads the index files of a sealed segment; false when missing or not matching the log file. */
  async loadIndexes(fileSize: number): Promise<boolean> {
    let idx: Buffer;
    let tix: Buffer;
    try {
      [idx, tix] = await Promise.all([readFile(this.indexPath), readFile(this.timeIndexPath)]);
    } catch {
      return false;
    }
    if (tix.length < TIME_HEADER || tix.readUInt32LE(0) !== MAGIC || tix.readUInt32LE(4) !== fileSize) return false;
    const n = tix.readUInt32LE(40);
    const m = tix.readUInt32LE(44);
    if (idx.length !== n * OFFSET_ENTRY || tix.length !== TIME_HEADER + m * TIME_ENTRY) return false;
    this.size = fileSize;
    this.nextOffset = tix.readDoubleLE(8);
    this.maxTs = tix.readDoubleLE(16);
    this.lastTs = tix.readDoubleLE(24);
    this.count = tix.readDoubleLE(32);
    for (let i = 0; i < n; i++) {
      this.idxOffsets.push(idx.readDoubleLE(i * OFFSET_ENTRY));
      this.idxPositions.push(idx.readUInt32LE(i * OFFSET_ENTRY + 8));
    }
    for (let i = 0; i < m; i++) {
      const at = TIME_HEADER + i * TIME_ENTRY;
      this.timeMax.push(tix.readDoubleLE(at));
      this.timeOffsets.push(tix.readDoubleLE(at + 8));
      this.timePositions.push(tix.readUInt32LE(at + 16));
    }
    this.sealed = true;
    return true;
  }

  /**
   * Scans the log file, rebuilding indexes and counters, and truncates it after the last whole,
   * valid frame (a torn or corrupt tail). Returns the bytes cut off.
   */
  async recover(maxFrameBytes: number, sync: boolean): Promise<number> {
    const fh = await open(this.logPath, 'r+');
    try {
      const fileSize = (await fh.stat()).size;
      if (fileSize < SEGMENT_HEADER_BYTES) {
        // A crash while the segment was being created: start it again, empty.
        await fh.truncate(0);
        await fh.write(segmentHeader(), 0, SEGMENT_HEADER_BYTES, 0);
        if (sync) await fh.datasync();
        this.size = SEGMENT_HEADER_BYTES;
        return fileSize;
      }
      let buf = Buffer.allocUnsafe(Math.min(Math.max(fileSize, 1), 4 << 20));
      let filePos = SEGMENT_HEADER_BYTES;
      let good = SEGMENT_HEADER_BYTES;
      let last = this.base - 1; // offsets increase from the base
      scan: while (filePos < fileSize) {
        const want = Math.min(buf.length, fileSize - filePos);
        const { bytesRead } = await fh.read(buf, 0, want, filePos);
        if (bytesRead === 0) break;
        let at = 0;
        for (;;) {
          const f: FrameView | string = parseFrame(buf, at, bytesRead, maxFrameBytes);
          if (f === 'short') {
            if (filePos + bytesRead >= fileSize) break scan; // torn tail
            if (at === 0) buf = Buffer.allocUnsafe(buf.length * 2); // a frame larger than the buffer
            break;
          }
          if (typeof f === 'string' || f.offset <= last) break scan;
          last = f.offset;
          this.track(filePos + at, f.size, f.offset, f.timestamp);
          at += f.size;
          good = filePos + at;
        }
        filePos += at;
      }
      const cut = fileSize - good;
      if (cut > 0) {
        await fh.truncate(good);
        if (sync) await fh.datasync();
      }
      this.size = good;
      return cut;
    } finally {
      await fh.close();
    }
  }

  /** Seals the segment: flushes and closes the write handle, writes the indexes. */
  async seal(sync: boolean): Promise<void> {
    if (this.handle !== undefined) {
      if (sync) await this.handle.datasync();
      await this.handle.close();
      this.handle = undefined;
    }
    await this.writeIndexes(sync);
    this.sealed = true;
  }

  /** Deletes the segment's files. */
  async remove(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
    await Promise.all([rm(this.logPath, { force: true }), rm(this.indexPath, { force: true }), rm(this.timeIndexPath, { force: true })]);
  }
}

/** Writes `data` to `path` via a temporary file and a rename (fsynced when `sync`). */
export async function writeDurably(path: string, data: Buffer | string, sync: boolean): Promise<void> {
  const tmp = `${path}.tmp`;
  if (sync) {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.datasync();
    } finally {
      await fh.close();
    }
  } else {
    await writeFile(tmp, data);
  }
  await rename(tmp, path);
}

/** Fsyncs a directory (so that created, renamed and removed entries are durable). */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The size of a file, or -1 when it does not exist. */
export async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return -1;
  }
}
