/**
 * `EventLog`: the embedded, durable, replayable event log — Tidemark's default source when there
 * is no broker, as SQLite is for databases. A directory holds one sub-directory per partition of
 * append-only segment files; records of one key always land in the same partition
 * (`hashKey(key) % partitions`), so the log keeps per-key order. One process at a time opens a
 * log (a `LOCK` file names it; a lock left by a dead process is taken over).
 */
import { mkdir, open as openFile, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PlanError } from '../../engine/errors.js';
import { hashKey, keyProblem, type Key } from '../../engine/keys.js';
import type { Sink } from '../../engine/sink.js';
import type { Source } from '../../engine/source.js';
import { isValidTimestamp, timestampProblem } from '../../engine/time.js';
import { FORMAT_VERSION, FrameWriter, HEADER_BYTES, LENGTH_BYTES } from './codec.js';
import { ConsumerStore, checkConsumer } from './consumers.js';
import { type LogRecord, PartitionCursor } from './cursor.js';
import { LogError } from './errors.js';
import { RecordIterator } from './record-iterator.js';
import { type EventLogOptions, type ResolvedOptions, type StartFrom, checkFrom, resolveOptions } from './options.js';
import { type FsyncPolicy, Partition, type RecoveryReport } from './partition.js';
import { type LogSinkOptions, logSink } from './sink.js';
import { type LogSourceOptions, logSource } from './source.js';
import { syncDir, writeDurably } from './segment.js';

/** A record to append. `value: null` is a tombstone under compaction. */
export interface LogInput<V = unknown> {
  readonly key: Key;
  /** Event time, epoch ms (an integer within ±8.64e15). */
  readonly timestamp: number;
  readonly value: V;
}

/** Where an appended record went. */
export interface LogPosition {
  readonly partition: number;
  readonly offset: number;
}

/** Options of `log.read`. */
export interface ReadOptions {
  /** Where to start (default `'earliest'`). */
  readonly from?: StartFrom;
  /** Keep waiting for new records at the head instead of stopping there (default false). */
  readonly follow?: boolean;
}

/** How far one consumer is behind the head of one partition. */
export interface PartitionLag {
  readonly partition: number;
  /** The consumer's next offset (its committed offset, or the retained start when it has none). */
  readonly position: number;
  /** One past the last visible offset. */
  readonly head: number;
  /** Records behind (offsets between position and head; an upper bound on a compacted log). */
  readonly records: number;
  /** Event time behind: the head record's timestamp minus the next unread record's (0 when caught up). */
  readonly eventTime: number;
}

/** How far a consumer is behind, per partition and in total. */
export interface ConsumerLag {
  readonly consumer: string;
  /** Records behind, summed over partitions. */
  readonly records: number;
  /** Event time behind, the largest over partitions. */
  readonly eventTime: number;
  readonly partitions: readonly PartitionLag[];
}

const META = 'log.json';
const LOCK = 'LOCK';
/** Frames are parsed up to this size whatever `maxRecordBytes` is now (it may have been larger). */
const MAX_FRAME = 2 ** 30 + HEADER_BYTES;
const openLogs = new Set<string>();

/**
 * An open event log.
 *
 * @example
 * const log = await EventLog.open<Click>('./data/clicks', { partitions: 4, fsync: 'always' });
 * await log.append([{ key: 'u1', timestamp: Date.now(), value: { page: '/home' } }]);
 * for await (const r of log.read({ from: 'earliest' })) console.log(r.partition, r.offset, r.value);
 * await log.close();
 */
export class EventLog<V = unknown> {
  /** Increases whenever records become visible in any partition. */
  private version = 0;
  private waiters: (() => void)[] = [];
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly writer = new FrameWriter();
  private readonly consumers: ConsumerStore;
  /** The exclusive writer (an exactly-once sink while its pipeline runs), if any. */
  private exclusive: { readonly owner: object; readonly description: string } | undefined;

  private constructor(
    /** The log's directory (absolute). */
    readonly dir: string,
    private readonly opts: ResolvedOptions,
    private readonly parts: readonly Partition[],
    /** What recovery cut off when the log was opened (torn tails after a crash). */
    readonly recovery: readonly RecoveryReport[],
  ) {
    this.consumers = new ConsumerStore(join(dir, 'consumers'), opts.fsync !== 'never');
    for (const p of parts) {
      p.onVisible = () => {
        this.version++;
        const w = this.waiters;
        this.waiters = [];
        for (const f of w) f();
      };
    }
    if (opts.fsync === 'interval') {
      this.timer = setInterval(() => void this.sync().catch(() => undefined), opts.fsyncIntervalMs);
      this.timer.unref();
    }
  }

  /**
   * Opens the log in `dir`, creating it if needed, and recovers it: a torn or corrupt tail left
   * by a crash is cut off (see `recovery`), so every record whose append resolved under
   * `fsync: 'always'` is there and no corrupt record is ever returned.
   *
   * @example
   * const log = await EventLog.open('./events', { partitions: 8, fsync: 'interval', retention: { maxAge: 'P7D' } });
   */
  static async open<V = unknown>(dir: string, options: EventLogOptions = {}): Promise<EventLog<V>> {
    const where = 'tidemark.EventLog.open';
    if (typeof dir !== 'string' || dir === '') throw new PlanError(`${where}: dir must be a directory path`);
    const opts = resolveOptions(options);
    const abs = resolve(dir);
    if (openLogs.has(abs)) throw new LogError(`${where}: ${abs} is already open in this process`);
    await mkdir(abs, { recursive: true });
    const partitions = await checkMeta(abs, opts, options.partitions !== undefined, where);
    const resolved = { ...opts, partitions };
    await lock(abs, where);
    openLogs.add(abs);
    try {
      const cfg = {
        segmentBytes: opts.segmentBytes, indexIntervalBytes: opts.indexIntervalBytes, fsync: opts.fsync, retention: opts.retention,
        maxFrameBytes: opts.maxRecordBytes + HEADER_BYTES - LENGTH_BYTES, hardMaxFrameBytes: MAX_FRAME,
      };
      const opened = await Promise.all(Array.from({ length: partitions }, (_, i) => Partition.open(abs, i, cfg)));
      const log = new EventLog<V>(abs, resolved, opened.map((o) => o.partition), opened.map((o) => o.report).filter((r) => Object.keys(r.truncated).length > 0));
      await log.applyRetention();
      return log;
    } catch (e) {
      openLogs.delete(abs);
      await rm(join(abs, LOCK), { force: true });
      throw e;
    }
  }

  /** Number of partitions. */
  get partitions(): number {
    return this.parts.length;
  }

  /** The partition records with `key` go to. */
  partitionOf(key: Key): number {
    return this.parts.length === 1 ? 0 : hashKey(key) % this.parts.length;
  }

  /**
   * Appends records; resolves with each record's partition and offset (in input order) once
   * they are durable under the fsync policy. Records of one key keep their order. A record with
   * a bad key or timestamp, an `undefined` value or more than `maxRecordBytes` encoded rejects the
   * whole call with a `LogError` and nothing is written.
   *
   * @example
   * const [pos] = await log.append([{ key: 'u1', timestamp: 1_700_000_000_000, value: { n: 1 } }]);
   */
  append(records: readonly LogInput<V>[]): Promise<LogPosition[]> {
    const where = 'tidemark.EventLog.append';
    if (this.exclusive !== undefined) {
      return Promise.reject(new LogError(`${where}: the log is being written by ${this.exclusive.description} while its pipeline runs; other appends would break that sink's idempotent commit (append after the pipeline has ended, or write through the pipeline)`));
    }
    return this.appendRecords(records, where);
  }

  private appendRecords(records: readonly LogInput<V>[], where: string): Promise<LogPosition[]> {
    try {
      this.checkOpen(where);
      if (!Array.isArray(records)) throw new LogError(`${where}: expected an array of { key, timestamp, value }`);
      const n = records.length;
      if (n === 0) return Promise.resolve([]);
      const P = this.parts.length;
      const partOf = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const r = records[i] as LogInput<V> | null;
        if (r === null || typeof r !== 'object') throw new LogError(`${where}: record ${i} is not an object`);
        const kp = keyProblem(r.key);
        if (kp !== undefined) throw new LogError(`${where}: record ${i}: ${kp}`);
        if (!isValidTimestamp(r.timestamp)) throw new LogError(`${where}: record ${i}: ${timestampProblem(r.timestamp) ?? 'bad timestamp'}`);
        if (r.value === undefined) throw new LogError(`${where}: record ${i}: value is undefined (use null for a tombstone)`);
        partOf[i] = P === 1 ? 0 : hashKey(r.key) % P;
      }
      // Encode everything first: a bad record rejects the call before anything is queued.
      const out = new Array<LogPosition>(n);
      const batches: { part: Partition; buf: Buffer; count: number }[] = [];
      const max = this.opts.maxRecordBytes;
      const w = this.writer;
      // Record indices grouped by partition, in input order (a counting sort).
      const order = P === 1 ? undefined : byPartition(partOf, P);
      for (let p = 0; p < P; p++) {
        const part = this.parts[p] as Partition;
        let offset = part.nextOffset;
        w.reset();
        const from = order === undefined ? 0 : (order.starts[p] as number);
        const to = order === undefined ? n : (order.starts[p + 1] as number);
        for (let j = from; j < to; j++) {
          const i = order === undefined ? j : (order.index[j] as number);
          const r = records[i] as LogInput<V>;
          let size: number;
          try {
            size = w.frame(offset, r.timestamp, r.key, r.value);
          } catch (e) {
            throw new LogError(`${where}: record ${i}: value cannot be encoded: ${e instanceof Error ? e.message : String(e)}`);
          }
          if (size - HEADER_BYTES > max) throw new LogError(`${where}: record ${i} is ${size - HEADER_BYTES} bytes encoded, over maxRecordBytes (${max})`);
          out[i] = { partition: p, offset };
          offset++;
        }
        if (offset > part.nextOffset) batches.push({ part, buf: w.take(), count: offset - part.nextOffset });
      }
      const pending = batches.map((b) => {
        const first = b.part.nextOffset;
        b.part.nextOffset += b.count;
        return b.part.enqueue(b.buf, first, b.count);
      });
      return (pending.length === 1 ? (pending[0] as Promise<void>) : Promise.all(pending)).then(() => out);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Reads records from `from` (default `'earliest'`) in offset order within each partition
   * (partitions are interleaved chunk by chunk). Stops at the current head, or with
   * `follow: true` waits for new records until the loop is left or the log closed. Reading below
   * what retention kept throws `LogTruncatedError` (naming the lost offsets); a record that is
   * corrupt, undecodable or over `maxRecordBytes` throws `LogCorruptionError` with its position
   * (records before it were yielded). Partitions take turns of up to 256 records; within a turn
   * each step is one already-resolved promise (no I/O).
   *
   * @example
   * for await (const r of log.read({ from: { timestamp: Date.parse('2025-01-01') } })) handle(r);
   */
  read(options: ReadOptions = {}): AsyncIterable<LogRecord<V>> {
    const where = 'tidemark.EventLog.read';
    if (options === null || typeof options !== 'object') throw new PlanError(`${where}: options must be an object`);
    const from = checkFrom(options.from ?? 'earliest', this.parts.length, where);
    const follow = options.follow === true;
    return {
      [Symbol.asyncIterator]: () => {
        this.checkOpen(where);
        return new RecordIterator<V>(this, () => this.cursors(from), follow);
      },
    };
  }

  /**
   * A pipeline source over this log (see `LogSourceOptions`): records are `LogRecord`s with
   * their own timestamps; one partition of the source per log partition. Declare
   * `ordering: 'per-partition'` on `p.source(…)`: the log keeps order per partition, hence per
   * log key.
   *
   * @example
   * p.source(log.source({ consumer: 'billing', follow: false }), { watermark: boundedOutOfOrderness(5_000), ordering: 'per-partition' });
   */
  source(options: LogSourceOptions = {}): Source<LogRecord<V>> {
    return logSource<V>(this, options);
  }

  /**
   * A pipeline sink appending to this log (see `LogSinkOptions`): at-least-once (each write is
   * appended at once) or, with `delivery: 'exactly-once'`, in step with the pipeline's
   * checkpoints — staged per checkpoint and appended once the checkpoint is durable, so that after
   * any crash and restore the log holds exactly an uninterrupted run's output. While an
   * exactly-once sink's pipeline runs it is the log's only writer: `append` is refused.
   *
   * @example
   * counts.sink(out.sink({ key: (w) => w.key, delivery: 'exactly-once' }), { name: 'counts' });
   */
  sink<T = V>(options: LogSinkOptions<T, V>): Sink<T> {
    return logSink<T, V>(this, options);
  }

  /** One past the last visible offset, per partition. */
  heads(): Record<number, number> {
    const out: Record<number, number> = {};
    for (const p of this.parts) out[p.id] = p.head;
    return out;
  }

  /** The earliest retained offset, per partition. */
  starts(): Record<number, number> {
    const out: Record<number, number> = {};
    for (const p of this.parts) out[p.id] = p.start;
    return out;
  }

  /**
   * Records `offsets` (`{ [partition]: next offset to read }`) as `consumer`'s position;
   * partitions not listed keep theirs. Durable before it resolves unless `fsync: 'never'`.
   *
   * @example
   * await log.commit('billing', { 0: 1200, 1: 877 });
   */
  async commit(consumer: string, offsets: Readonly<Record<number, number>>): Promise<void> {
    const where = 'tidemark.EventLog.commit';
    checkConsumer(consumer, where);
    this.checkOpen(where);
    const clean: Record<number, number> = {};
    for (const [k, v] of Object.entries(offsets)) {
      const p = this.parts[Number(k)];
      if (p === undefined || !Number.isInteger(Number(k))) throw new PlanError(`${where}: no partition '${k}' (the log has ${this.parts.length})`);
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > p.nextOffset) {
        throw new PlanError(`${where}: offset for partition ${k} must be an integer from 0 to ${p.nextOffset}, got ${String(v)}`);
      }
      clean[p.id] = v;
    }
    await this.consumers.save(consumer, clean);
  }

  /** The offsets `consumer` committed (`{}` when none). */
  async committed(consumer: string): Promise<Record<number, number>> {
    checkConsumer(consumer, 'tidemark.EventLog.committed');
    return this.consumers.load(consumer);
  }

  /**
   * How far `consumer`'s committed offsets are behind the head, in records and in event time.
   *
   * @example
   * const { records, eventTime } = await log.lag('billing');
   */
  async lag(consumer: string): Promise<ConsumerLag> {
    const where = 'tidemark.EventLog.lag';
    checkConsumer(consumer, where);
    this.checkOpen(where);
    const committed = await this.consumers.load(consumer);
    const partitions: PartitionLag[] = [];
    for (const p of this.parts) {
      const position = Math.max(committed[p.id] ?? p.start, p.start);
      const head = p.head;
      let eventTime = 0;
      if (position < head) {
        const c = new PartitionCursor(p, position);
        try {
          const next = (await c.read(1)).records[0];
          if (next !== undefined) eventTime = Math.max(0, p.headTs - next.timestamp);
        } finally {
          await c.close();
        }
      }
      partitions.push({ partition: p.id, position, head, records: Math.max(0, head - position), eventTime });
    }
    return {
      consumer,
      records: partitions.reduce((s, l) => s + l.records, 0),
      eventTime: partitions.reduce((m, l) => Math.max(m, l.eventTime), 0),
      partitions,
    };
  }

  /**
   * Applies retention now (it also runs when a segment rolls and on open). `now` (default
   * `Date.now()`) is the wall-clock time age retention measures against.
   */
  async applyRetention(now = Date.now()): Promise<void> {
    for (const p of this.parts) await p.applyRetention(now);
  }

  /** Makes every written append durable now (whatever the policy). */
  async sync(): Promise<void> {
    await Promise.all(this.parts.map((p) => p.sync()));
  }

  /** Flushes, syncs (unless `fsync: 'never'`), ends following readers and releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
    try {
      await Promise.all(this.parts.map((p) => p.close()));
    } finally {
      openLogs.delete(this.dir);
      await rm(join(this.dir, LOCK), { force: true });
    }
  }

  /** True once `close` was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** @internal The partition objects (sources read them). */
  partitionAt(p: number): Partition {
    const part = this.parts[p];
    if (part === undefined) throw new LogError(`no partition ${p}`);
    return part;
  }

  /** @internal The fsync policy the log was opened with. */
  get fsyncPolicy(): FsyncPolicy {
    return this.opts.fsync;
  }

  /** @internal The largest encoded key + value `append` accepts. */
  get maxRecordBytes(): number {
    return this.opts.maxRecordBytes;
  }

  /**
   * @internal Makes `owner` the log's only writer (an exactly-once sink while its pipeline runs):
   * `append` is refused until `releaseWriter(owner)`; the owner appends with `appendAs`.
   * Claiming again with the same owner is allowed; with another owner it throws.
   */
  claimWriter(owner: object, description: string): void {
    const held = this.exclusive;
    if (held !== undefined && held.owner !== owner) {
      throw new LogError(`${description}: the log at ${this.dir} is already being written by ${held.description}; an exactly-once sink must be the log's only writer`);
    }
    this.checkOpen(description);
    this.exclusive = { owner, description };
  }

  /** @internal Ends `owner`'s exclusive writing (no effect for another owner). */
  releaseWriter(owner: object): void {
    if (this.exclusive?.owner === owner) this.exclusive = undefined;
  }

  /** @internal `append` for the exclusive writer. */
  appendAs(owner: object, records: readonly LogInput<V>[]): Promise<LogPosition[]> {
    const held = this.exclusive;
    if (held?.owner !== owner) return Promise.reject(new LogError('tidemark.EventLog.sink: appending without holding the log\'s writer role'));
    return this.appendRecords(records, held.description);
  }

  /** @internal The consumer offset store. */
  get consumerStore(): ConsumerStore {
    return this.consumers;
  }

  /** @internal The current visibility version (changes when any partition gets records). */
  get appendVersion(): number {
    return this.version;
  }

  /** @internal Resolves when records next become visible or the log closes. */
  nextAppend(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /** @internal Cursors for `from`, one per partition read. */
  async cursors(from: StartFrom, fallback?: Readonly<Record<number, number>>): Promise<PartitionCursor[]> {
    const out: PartitionCursor[] = [];
    const list = typeof from === 'object' && !('timestamp' in from) ? Object.keys(from).map(Number) : this.parts.map((p) => p.id);
    for (const id of list) {
      const p = this.partitionAt(id);
      const given = fallback?.[id];
      if (given !== undefined) {
        p.checkRetained(given);
        out.push(new PartitionCursor(p, given));
      } else if (from === 'earliest') out.push(new PartitionCursor(p, p.start));
      else if (from === 'latest') out.push(new PartitionCursor(p, p.head));
      else if (typeof from === 'number') {
        p.checkRetained(from);
        out.push(new PartitionCursor(p, from));
      } else if ('timestamp' in from) {
        const c = new PartitionCursor(p, p.start);
        await c.seekTime(from.timestamp as number);
        out.push(c);
      } else {
        const o = (from as Record<number, number>)[id] as number;
        p.checkRetained(o);
        out.push(new PartitionCursor(p, o));
      }
    }
    return out;
  }

  private checkOpen(where: string): void {
    if (this.closed) throw new LogError(`${where}: the event log is closed`);
  }
}

/** Indices `0…n-1` grouped by their partition: `index[starts[p] … starts[p+1])` are partition p's. */
function byPartition(partOf: Int32Array, P: number): { starts: Int32Array; index: Int32Array } {
  const starts = new Int32Array(P + 1);
  for (let i = 0; i < partOf.length; i++) {
    const k = (partOf[i] as number) + 1;
    starts[k] = (starts[k] as number) + 1;
  }
  for (let p = 0; p < P; p++) starts[p + 1] = (starts[p + 1] as number) + (starts[p] as number);
  const fill = starts.slice(0, P);
  const index = new Int32Array(partOf.length);
  for (let i = 0; i < partOf.length; i++) {
    const p = partOf[i] as number;
    const at = fill[p] as number;
    index[at] = i;
    fill[p] = at + 1;
  }
  return { starts, index };
}

/** Creates or checks `log.json`; returns the partition count. */
async function checkMeta(dir: string, opts: ResolvedOptions, explicit: boolean, where: string): Promise<number> {
  const path = join(dir, META);
  let meta: { format?: unknown; partitions?: unknown } | undefined;
  try {
    meta = JSON.parse(await readFile(path, 'utf8')) as typeof meta;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new LogError(`${where}: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (meta === undefined) {
    await writeDurably(path, JSON.stringify({ format: FORMAT_VERSION, partitions: opts.partitions }), opts.fsync !== 'never');
    if (opts.fsync !== 'never') await syncDir(dir);
    return opts.partitions;
  }
  if (typeof meta.format === 'number' && meta.format !== FORMAT_VERSION) {
    throw new LogError(`${where}: the log at ${dir} is in event log format ${meta.format}; this version reads format ${FORMAT_VERSION} only (format 1 had CRC-32 frames and no segment header). Replay it with the version that wrote it and append the records to a new log.`);
  }
  if (meta.format !== FORMAT_VERSION || typeof meta.partitions !== 'number') throw new LogError(`${where}: ${path} is not an event log description`);
  if (explicit && meta.partitions !== opts.partitions) {
    throw new PlanError(`${where}: the log at ${dir} has ${meta.partitions} partitions, not ${opts.partitions} (keys would move between partitions)`);
  }
  return meta.partitions;
}

/** Takes the directory's lock file, taking over one left by a process that is gone. */
async function lock(dir: string, where: string): Promise<void> {
  const path = join(dir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await openFile(path, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new LogError(`${where}: ${dir} is open in process ${pid} (its LOCK file)`);
    }
    await rm(path, { force: true }); // left by a process that is gone
  }
  throw new LogError(`${where}: cannot take the lock of ${dir}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
