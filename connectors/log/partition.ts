/**
 * One partition of the event log: its segments (the last one active), the append queue with
 * group commit, rolling by size, retention, and what readers may see. Appends are written in
 * offset order; under `fsync: 'always'` every batch that queued while a write was in flight is
 * written with one `pwrite` and made durable with one `fdatasync` before any of them resolves.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SEGMENT_HEADER_BYTES } from './codec.js';
import { type CompactionPass, type CompactionRule, Compactor } from './compaction.js';
import { LogError, LogTruncatedError } from './errors.js';
import { Segment, fileSize, syncDir } from './segment.js';

/** When appends are made durable. */
export type FsyncPolicy = 'always' | 'interval' | 'never';

/** Retention as resolved from the options. */
export interface RetentionRule {
  readonly kind: 'forever' | 'compacted' | 'limits';
  readonly maxAgeMs?: number;
  readonly maxBytes?: number;
  /** With `'compacted'`: tombstone retention and dirty ratio. */
  readonly compaction?: CompactionRule;
  /** How the rule reads in errors, e.g. `age > 86400000 ms`. */
  readonly describe: string;
}

/** Settings shared by the partitions of a log. */
export interface PartitionConfig {
  readonly segmentBytes: number;
  readonly indexIntervalBytes: number;
  /** Largest frame length field readers accept (from `maxRecordBytes`); larger frames are reported, not read. */
  readonly maxFrameBytes: number;
  /** Largest frame length field recovery treats as a frame (whatever `maxRecordBytes` is now). */
  readonly hardMaxFrameBytes: number;
  readonly fsync: FsyncPolicy;
  readonly retention: RetentionRule;
}

interface Pending {
  readonly buf: Buffer;
  readonly first: number;
  readonly count: number;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/** What recovery did to a partition on open. */
export interface RecoveryReport {
  readonly partition: number;
  /** Bytes of torn or corrupt tail cut off, per segment name. */
  readonly truncated: Readonly<Record<string, number>>;
}

/** A partition of an open log. */
export class Partition {
  readonly segments: Segment[] = [];
  /** The next offset to assign. */
  nextOffset = 0;
  /** One past the last offset readers may see (appends that resolved). */
  head = 0;
  /** Timestamp of the last record readers may see. */
  headTs = -Infinity;
  /** Bytes of the active segment readers may see. */
  private visibleSize = 0;
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private dirty = false;
  /** Called whenever new records become visible. */
  onVisible: () => void = () => undefined;
  private failed: unknown;
  private closed = false;
  /** Why offsets below the start are gone (for errors). */
  private lostWhy: string;
  private maintenance: Promise<void> = Promise.resolve();
  private compactor: Compactor | undefined;
  /** What the last compaction pass did (diagnostics). */
  lastCompaction: CompactionPass | undefined;

  private constructor(readonly id: number, readonly dir: string, readonly cfg: PartitionConfig) {
    this.lostWhy = `retention ${cfg.retention.describe}`;
  }

  /** Largest frame length field readers accept. */
  get maxFrameBytes(): number {
    return this.cfg.maxFrameBytes;
  }

  /** Largest frame length field that can be a frame at all. */
  get hardMaxFrameBytes(): number {
    return this.cfg.hardMaxFrameBytes;
  }

  /** The earliest retained offset. */
  get start(): number {
    return (this.segments[0] as Segment).base;
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1] as Segment;
  }

  /** Opens (creating) partition `id` under `root`, recovering its last segment. */
  static async open(root: string, id: number, cfg: PartitionConfig): Promise<{ partition: Partition; report: RecoveryReport }> {
    const dir = join(root, `partition-${String(id).padStart(4, '0')}`);
    await mkdir(dir, { recursive: true });
    const p = new Partition(id, dir, cfg);
    const names = (await readdir(dir)).filter((n) => /^\d{20}\.log$/.test(n)).sort();
    const truncated: Record<string, number> = {};
    const sync = cfg.fsync !== 'never';
    for (let i = 0; i < names.length; i++) {
      const seg = new Segment(dir, Number((names[i] as string).slice(0, 20)), cfg.indexIntervalBytes);
      const last = i === names.length - 1;
      const size = await fileSize(seg.logPath);
      if (!last || size >= SEGMENT_HEADER_BYTES) await seg.checkHeader(); // refuses other format versions
      if (last || !(await seg.loadIndexes(size))) {
        const cut = await seg.recover(cfg.hardMaxFrameBytes, sync);
        if (cut > 0) truncated[seg.name] = cut;
        if (!last) await seg.writeIndexes(sync);
        seg.sealed = !last;
      }
      p.segments.push(seg);
    }
    if (p.segments.length === 0) {
      p.segments.push(new Segment(dir, 0, cfg.indexIntervalBytes));
      if (sync) await syncDir(root);
    }
    const active = p.active;
    await active.openForWrite();
    if (sync) await syncDir(dir);
    p.nextOffset = active.nextOffset;
    p.head = active.nextOffset;
    p.visibleSize = active.size;
    for (let i = p.segments.length - 1; i >= 0; i--) {
      const s = p.segments[i] as Segment;
      if (s.count > 0) {
        p.headTs = s.lastTs;
        break;
      }
    }
    return { partition: p, report: { partition: id, truncated } };
  }

  /** Bytes of `seg` that readers may read. */
  limitOf(seg: Segment): number {
    return seg === this.active ? this.visibleSize : seg.size;
  }

  /** The segment that holds `offset` (the last one whose base is ≤ it); throws below the start. */
  segmentFor(offset: number): Segment | undefined {
    this.checkRetained(offset);
    let found: Segment | undefined;
    for (const s of this.segments) {
      if (s.base <= offset) found = s;
      else break;
    }
    return found;
  }

  /** The segment after the one based at `base`. */
  segmentAfter(base: number): Segment | undefined {
    for (const s of this.segments) if (s.base > base) return s;
    return undefined;
  }

  /** Throws `LogTruncatedError` when `offset` is below the retained start. */
  checkRetained(offset: number): void {
    const start = this.start;
    if (offset < start) throw new LogTruncatedError(this.id, { from: offset, to: start }, this.lostWhy);
  }

  /** Total bytes of the partition's segment files. */
  get bytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.size;
    return n;
  }

  /**
   * Queues frames `buf` (holding `count` records, offsets `first…`) for writing; resolves when
   * they are durable under the fsync policy (and visible to readers).
   */
  enqueue(buf: Buffer, first: number, count: number): Promise<void> {
    if (this.closed) return Promise.reject(new LogError('the event log is closed'));
    if (this.failed !== undefined) return Promise.reject(new LogError(`event log partition ${this.id} failed earlier: ${String(this.failed)}`));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ buf, first, count, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        let active = this.active;
        const firstItem = this.queue[0] as Pending;
        if (active.count > 0 && active.size + firstItem.buf.length > this.cfg.segmentBytes) {
          await this.roll(firstItem.first);
          active = this.active;
        }
        // Group commit: everything queued that fits the segment goes in one write.
        let take = 0;
        let bytes = 0;
        for (const item of this.queue) {
          if (take > 0 && active.size + bytes + item.buf.length > this.cfg.segmentBytes) break;
          bytes += item.buf.length;
          take++;
        }
        const batch = this.queue.splice(0, take);
        try {
          const position = active.size;
          const fh = active.handle;
          if (fh === undefined) throw new LogError('segment is not open for writing');
          // One pwritev for the whole group; a short write (rare on files) is finished with pwrite.
          const bufs = batch.map((b) => b.buf);
          let done = bufs.length === 1 ? (await fh.write(bufs[0] as Buffer, 0, bytes, position)).bytesWritten : (await fh.writev(bufs, position)).bytesWritten;
          if (done < bytes) {
            const data = Buffer.concat(bufs, bytes);
            while (done < bytes) done += (await fh.write(data, done, bytes - done, position + done)).bytesWritten;
          }
          if (this.cfg.fsync === 'always') await fh.datasync();
          else this.dirty = true;
          let at = position;
          for (const b of bufs) {
            active.trackBatch(b, b.length, at);
            at += b.length;
          }
        } catch (e) {
          this.failed = e;
          const err = new LogError(`event log partition ${this.id}: append failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
          for (const b of batch) b.reject(err);
          for (const b of this.queue.splice(0)) b.reject(err);
          return;
        }
        this.visibleSize = active.size;
        const last = batch[batch.length - 1] as Pending;
        this.head = last.first + last.count;
        this.headTs = active.lastTs;
        for (const b of batch) b.resolve();
        this.onVisible();
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /** Seals the active segment and starts a new one at `base`; then applies retention. */
  private async roll(base: number): Promise<void> {
    const sync = this.cfg.fsync !== 'never';
    const old = this.active;
    await old.seal(sync);
    this.dirty = false;
    const seg = new Segment(this.dir, base, this.cfg.indexIntervalBytes);
    await seg.openForWrite();
    if (sync) await syncDir(this.dir);
    this.segments.push(seg);
    this.visibleSize = seg.size;
    void this.applyRetention(Date.now()).catch(() => undefined); // runs after the roll, one at a time
  }

  /** Makes written appends durable (the `'interval'` timer and `close` call this). */
  async sync(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    await this.active.handle?.datasync();
  }

  /**
   * Removes or compacts sealed segments as the retention rule says (`now` for age). Runs are
   * serialised: one compaction or removal at a time per partition.
   */
  applyRetention(now: number): Promise<void> {
    const run = this.maintenance.then(() => this.retain(now));
    this.maintenance = run.catch(() => undefined);
    return run;
  }

  private async retain(now: number): Promise<void> {
    const rule = this.cfg.retention;
    if (rule.kind === 'forever') return;
    if (rule.kind === 'compacted') {
      await this.compact();
      return;
    }
    const removed: Segment[] = [];
    if (rule.maxAgeMs !== undefined) {
      while (this.segments.length > 1 && (this.segments[0] as Segment).maxTs < now - rule.maxAgeMs) removed.push(this.segments.shift() as Segment);
    }
    if (rule.maxBytes !== undefined) {
      let total = this.bytes;
      while (this.segments.length > 1 && total > rule.maxBytes) {
        const s = this.segments.shift() as Segment;
        total -= s.size;
        removed.push(s);
      }
    }
    if (removed.length === 0) return;
    const lost = removed[removed.length - 1] as Segment;
    this.lostWhy = `retention ${rule.describe} removed segments up to offset ${lost.nextOffset - 1}`;
    for (const s of removed) await s.remove();
    if (this.cfg.fsync !== 'never') await syncDir(this.dir);
  }

  /** One incremental compaction pass (see `compaction.ts`). */
  private async compact(): Promise<CompactionPass | undefined> {
    const rule = this.cfg.retention.compaction;
    if (rule === undefined) return undefined;
    this.compactor ??= new Compactor(this, rule);
    const pass = await this.compactor.run();
    this.lastCompaction = pass;
    return pass;
  }

  /** The indexing interval new segments use. */
  get indexIntervalBytes(): number {
    return this.cfg.indexIntervalBytes;
  }

  /** Whether files are fsynced (every policy but `'never'`). */
  get syncFiles(): boolean {
    return this.cfg.fsync !== 'never';
  }

  /** Waits for running maintenance, flushes, seals nothing (the active segment stays open). */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing !== undefined) await this.flushing;
    await this.maintenance;
    if (this.cfg.fsync !== 'never') {
      this.dirty = true;
      await this.sync();
    }
    await this.active.handle?.close();
    this.active.handle = undefined;
  }
}
