/**
 * `log.sink(…)`: a pipeline sink appending `{ key, timestamp, value }` records to the event log.
 *
 * - `delivery: 'at-least-once'` (default): each write is appended at once; after a restore the
 *   output since the last checkpoint is appended again.
 * - `delivery: 'exactly-once'`: two-phase commit in step with checkpoints (`engine/sink.ts`).
 *   Writes are encoded as log frames into a part file under `<log>/sinks/<sink name>/` (named
 *   after a random run id drawn at every open, so a name is never reused across restarts).
 *   `preCommit(k)` seals the part (later writes open a new one), fsyncs it and the directory and
 *   resolves with the handle `{ run, files, records }`: the parts not committed yet, oldest first
 *   — this one, after those of checkpoints that failed after their pre-commit (a failed savepoint),
 *   whose output is thus committed with the next checkpoint instead of being lost. `commit(k)`
 *   appends the parts to the log idempotently (below), syncs the log whatever its fsync policy,
 *   records epoch k as the last committed one in `state.json` and deletes the parts. A restored
 *   run first finishes a commit the crash interrupted, commits the checkpoint's epoch again (a
 *   no-op when it was), and deletes every other part (the epochs after the checkpoint).
 *
 * Idempotency: while its pipeline runs, an exactly-once sink is the log's only writer (`append`
 * is refused, a second exactly-once sink cannot open; across processes the log's LOCK file).
 * Before appending epoch k it records an intent `{ run, epoch, files, records, headsBefore }`
 * durably in `state.json`. A re-commit after a crash counts, per partition, the records past
 * `headsBefore[p]` — the log writes whole frames in offset order and recovery keeps a prefix, so
 * they are a prefix of the epoch's records for p — checks that they are the epoch's (key and
 * timestamp at each offset; anything else is an error, never a silent duplicate) and appends only
 * the missing suffix. A restore from a checkpoint older than the last committed epoch is refused
 * (its later output is in the log already).
 */
import { randomBytes, createHash } from 'node:crypto';
import { type FileHandle, mkdir, open, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PlanError, describeError } from '../../engine/errors.js';
import { type Key, keyProblem } from '../../engine/keys.js';
import type { DeliveryGuarantee, Sink, SinkContext } from '../../engine/sink.js';
import { isValidTimestamp, timestampProblem } from '../../engine/time.js';
import { FrameWriter, HEADER_BYTES, LENGTH_BYTES, parseFrame, unpack } from './codec.js';
import { LogError } from './errors.js';
import type { EventLog, LogInput } from './event-log.js';
import { syncDir, writeDurably } from './segment.js';

/**
 * Options of `log.sink`.
 *
 * @example
 * const out = await EventLog.open<{ page: string; n: number }>('./data/page-counts', { partitions: 4 });
 * counts.sink(out.sink({ key: (w) => w.key, value: (w) => ({ page: w.key, n: w.value }), delivery: 'exactly-once' }), { name: 'pageCounts' });
 */
export interface LogSinkOptions<T, V> {
  /** The record's key (it picks the partition: records of one key keep their order). */
  readonly key: (value: T) => Key;
  /**
   * The record's timestamp (default: the value's event time in the stream — `window.end − 1`
   * for a window result). Must be an integer epoch ms within ±8.64e15.
   */
  readonly timestamp?: (value: T, eventTime: number) => number;
  /** The value stored (default: the stream's value itself; `null` is a tombstone). */
  readonly value?: (value: T) => V;
  /**
   * `'at-least-once'` (default): append on every write. `'exactly-once'`: append each
   * checkpoint's output once the checkpoint is durable, idempotently (readers see output in
   * checkpoint-sized steps; the log must not be opened with `fsync: 'never'`).
   */
  readonly delivery?: 'exactly-once' | 'at-least-once';
}

/** The handle of a pre-committed epoch (stored in the checkpoint). */
export interface LogEpochHandle {
  /** The run (one per open of the sink) that staged the epoch. */
  readonly run: string;
  /**
   * The part files under `<log>/sinks/<name>/` the commit appends, oldest first: the epoch's own
   * (if it has output) after those of earlier epochs whose checkpoint failed.
   */
  readonly files: readonly string[];
  /** Records in those files. */
  readonly records: number;
}

/** An epoch being appended: what a re-commit needs to append only what is missing. */
interface Intent {
  readonly run: string;
  readonly epoch: number;
  readonly files: readonly string[];
  readonly records: number;
  /** Each partition's head before the append. */
  readonly headsBefore: Readonly<Record<string, number>>;
}

/** `state.json`: the run that opened the sink last, the last committed epoch, an unfinished commit. */
interface SinkState {
  readonly run: string | null;
  readonly last: { readonly run: string; readonly epoch: number } | null;
  readonly pending: Intent | null;
}

const WHERE = 'tidemark.EventLog.sink';
const RUN = /^[0-9a-f]{16}$/;
const PART = /^[0-9a-f]{16}-\d+\.part$/;
/** Largest frame a part file may hold (as the log reads any frame up to this size). */
const MAX_FRAME = 2 ** 30 + HEADER_BYTES;
const EMPTY: SinkState = { run: null, last: null, pending: null };

/** Builds the sink of `log.sink(options)`. */
export function logSink<T, V>(log: EventLog<V>, options: LogSinkOptions<T, V>): Sink<T> {
  if (options === null || typeof options !== 'object') throw new PlanError(`${WHERE}: options must be an object`);
  if (typeof options.key !== 'function') throw new PlanError(`${WHERE}: key must be a function from a value to its log key`);
  if (options.timestamp !== undefined && typeof options.timestamp !== 'function') throw new PlanError(`${WHERE}: timestamp must be a function (value, eventTime) => epoch ms`);
  if (options.value !== undefined && typeof options.value !== 'function') throw new PlanError(`${WHERE}: value must be a function`);
  const delivery = options.delivery ?? 'at-least-once';
  if (delivery !== 'exactly-once' && delivery !== 'at-least-once') {
    throw new PlanError(`${WHERE}: delivery must be 'exactly-once' or 'at-least-once', got ${String(delivery)}`);
  }
  if (log.isClosed) throw new PlanError(`${WHERE}: the event log is closed`);
  const { key, timestamp, value } = options;
  /** The records of one write, in order. */
  const recordsOf = (values: readonly T[], timestamps: readonly number[]): LogInput<V>[] => values.map((v, i) => ({
    key: key(v),
    timestamp: timestamp === undefined ? (timestamps[i] as number) : timestamp(v, timestamps[i] as number),
    value: value === undefined ? (v as unknown as V) : value(v),
  }));
  if (delivery === 'at-least-once') {
    return {
      kind: 'event-log',
      guarantee: 'at-least-once',
      async write(values, timestamps) {
        if (values.length > 0) await log.append(recordsOf(values, timestamps));
      },
    };
  }
  if (log.fsyncPolicy === 'never') {
    throw new PlanError(`${WHERE}: delivery 'exactly-once' needs a log opened with fsync 'always' or 'interval' (this one has 'never': committed output could be lost)`);
  }
  return exactlyOnce(log, recordsOf);
}

interface Part {
  readonly name: string;
  readonly handle: Promise<FileHandle>;
  records: number;
  tail: Promise<void>;
}

function exactlyOnce<T, V>(log: EventLog<V>, recordsOf: (values: readonly T[], timestamps: readonly number[]) => LogInput<V>[]): Sink<T> {
  /** This sink's identity as the log's exclusive writer (the same across restarts in one process). */
  const owner = {};
  const frames = new FrameWriter();
  let name = '';
  let dir = '';
  let run = '';
  let seq = 0;
  let current: Part | undefined;
  /** Parts sealed by `preCommit` and not committed yet (oldest first), with their records. */
  let sealed: string[] = [];
  const sealedRecords = new Map<string, number>();
  let failure: unknown;
  let state: SinkState = EMPTY;

  const fail = (what: string, e: unknown): never => {
    if (e instanceof LogError || e instanceof PlanError) throw e;
    throw new LogError(`${WHERE} '${name}': ${what} failed: ${describeError(e)}`, { cause: e });
  };

  const save = async (next: SinkState): Promise<void> => {
    await writeDurably(join(dir, 'state.json'), JSON.stringify({ format: 1, ...next }), true);
    await syncDir(dir);
    state = next;
  };

  /** Appends the intent's missing records, syncs the log, records the epoch as committed, drops its part. */
  const finish = async (intent: Intent): Promise<void> => {
    const heads = log.heads();
    const before = (p: number): number => intent.headsBefore[p] ?? (heads[p] as number);
    // Records already in the log past headsBefore, per partition (a prefix of the epoch's).
    const present = new Map<number, number>();
    for (let p = 0; p < log.partitions; p++) {
      const n = (heads[p] as number) - before(p);
      if (n < 0) throw new LogError(`${WHERE} '${name}': partition ${p} ends at offset ${String(heads[p])}, before where epoch ${intent.epoch} was appended (${before(p)}): the log was replaced or lost records`);
      if (n > 0) present.set(p, n);
    }
    if (present.size > 0) await verify(intent, present, before);
    let seen = 0;
    const index = new Map<number, number>();
    for await (const batch of stagedRecords(dir, intent.files)) {
      const missing: LogInput<V>[] = [];
      for (const r of batch as LogInput<V>[]) {
        const p = log.partitionOf(r.key);
        const i = index.get(p) ?? 0;
        index.set(p, i + 1);
        if (i >= (present.get(p) ?? 0)) missing.push(r);
      }
      seen += batch.length;
      if (missing.length > 0) await log.appendAs(owner, missing);
    }
    if (seen !== intent.records) {
      throw new LogError(`${WHERE} '${name}': the staged epoch ${intent.epoch} (${intent.files.join(', ')}) holds ${seen} records, expected ${intent.records}: the staging directory was modified`);
    }
    await log.sync(); // durable whatever the log's fsync policy, before the epoch counts as committed
    await save({ run: state.run, last: { run: intent.run, epoch: intent.epoch }, pending: null });
    await removeParts(intent.files);
  };

  const removeParts = async (files: readonly string[]): Promise<void> => {
    if (files.length === 0) return;
    for (const f of files) await rm(join(dir, f), { force: true });
    await syncDir(dir);
    sealed = sealed.filter((f) => !files.includes(f));
  };

  /**
   * Checks that the `present[p]` records past `before(p)` are the epoch's first records for p
   * (key and timestamp at each offset; offsets removed by compaction or retention are taken as
   * matching). More records than the epoch has for p are another writer's, after the epoch.
   */
  const verify = async (intent: Intent, present: ReadonlyMap<number, number>, before: (p: number) => number): Promise<void> => {
    const inLog = new Map<number, Map<number, { key: Key; timestamp: number }>>();
    for (const [p, n] of present) {
      const upTo = before(p) + Math.min(n, intent.records);
      const found = new Map<number, { key: Key; timestamp: number }>();
      for await (const r of log.read({ from: { [p]: before(p) } })) {
        if (r.offset >= upTo) break;
        found.set(r.offset, { key: r.key, timestamp: r.timestamp });
      }
      inLog.set(p, found);
    }
    const index = new Map<number, number>();
    for await (const batch of stagedRecords(dir, intent.files)) {
      for (const r of batch) {
        const p = log.partitionOf(r.key);
        const i = index.get(p) ?? 0;
        index.set(p, i + 1);
        if (i >= (present.get(p) ?? 0)) continue;
        const offset = before(p) + i;
        const there = inLog.get(p)?.get(offset);
        if (there !== undefined && !(there.timestamp === r.timestamp && sameKey(there.key, r.key))) {
          throw new LogError(`${WHERE} '${name}': partition ${p} holds a record at offset ${offset} that is not epoch ${intent.epoch}'s (key ${describeKey(there.key)}, timestamp ${there.timestamp}): something else appended to the log while the commit was interrupted, so the epoch cannot be completed exactly`);
        }
      }
    }
  };

  const commit = async (id: number, h: unknown): Promise<void> => {
    if (!isHandle(h)) throw new LogError(`${WHERE} '${name}': the handle of epoch ${id} is not an event log epoch handle: ${JSON.stringify(h)}`);
    try {
      if (state.pending !== null) await finish(state.pending);
      const last = state.last;
      if (last !== null && last.run === h.run && last.epoch === id) {
        await removeParts(h.files); // committed already
        return;
      }
      if (h.run !== state.run || (last !== null && last.run === h.run && last.epoch > id)) {
        throw new LogError(`${WHERE} '${name}': cannot commit epoch ${id} of run ${h.run}: the log's last committed epoch is ${last === null ? 'none' : `${last.epoch} of run ${last.run}`} and the sink was last opened by run ${state.run ?? 'none'}. Restoring a checkpoint older than the latest would append its later output twice: restore from the latest checkpoint, or start fresh into a new log`);
      }
      if (h.files.length === 0) {
        await save({ run: state.run, last: { run: h.run, epoch: id }, pending: null });
        return;
      }
      const staged = await readdir(dir);
      const gone = h.files.filter((f) => !staged.includes(f));
      if (gone.length > 0) {
        throw new LogError(`${WHERE} '${name}': epoch ${id} (${gone.join(', ')}) is neither staged nor the last committed epoch: the directory ${dir} was modified`);
      }
      const intent: Intent = { run: h.run, epoch: id, files: h.files, records: h.records, headsBefore: log.heads() };
      await save({ ...state, pending: intent });
      await finish(intent);
    } catch (e) {
      fail(`committing epoch ${id}`, e);
    }
  };

  const part = (): Part => {
    if (current !== undefined) return current;
    const file = `${run}-${++seq}.part`;
    const handle = open(join(dir, file), 'wx', 0o600);
    handle.catch(() => undefined); // reported by the write that awaits it
    current = { name: file, handle, records: 0, tail: Promise.resolve() };
    return current;
  };

  /** Encodes a write as frames (offset field: the record's index in its part); throws for a record the log would refuse. */
  const encode = (records: readonly LogInput<V>[], first: number): Buffer => {
    const max = log.maxRecordBytes;
    frames.reset();
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as LogInput<V>;
      const kp = keyProblem(r.key);
      if (kp !== undefined) throw new LogError(`${WHERE} '${name}': record ${i} of a write: ${kp}`);
      if (!isValidTimestamp(r.timestamp)) throw new LogError(`${WHERE} '${name}': record ${i} of a write: ${timestampProblem(r.timestamp) ?? 'bad timestamp'}`);
      if (r.value === undefined) throw new LogError(`${WHERE} '${name}': record ${i} of a write: value is undefined (use null for a tombstone)`);
      let size: number;
      try {
        size = frames.frame(first + i, r.timestamp, r.key, r.value);
      } catch (e) {
        throw new LogError(`${WHERE} '${name}': record ${i} of a write: value cannot be encoded: ${describeError(e)}`);
      }
      if (size - HEADER_BYTES > max) throw new LogError(`${WHERE} '${name}': record ${i} of a write is ${size - HEADER_BYTES} bytes encoded, over the log's maxRecordBytes (${max})`);
    }
    return frames.take();
  };

  const closePart = async (): Promise<void> => {
    const left = current;
    current = undefined;
    if (left !== undefined) await (await left.handle.catch(() => undefined))?.close().catch(() => undefined);
  };

  return {
    kind: 'event-log',
    guarantee: 'exactly-once' satisfies DeliveryGuarantee,
    async open(ctx: SinkContext) {
      name = ctx.name;
      log.claimWriter(owner, `exactly-once sink '${name}'`);
      try {
        current = undefined;
        failure = undefined;
        sealed = [];
        sealedRecords.clear();
        seq = 0;
        dir = join(log.dir, 'sinks', directoryName(name));
        await mkdir(dir, { recursive: true, mode: 0o700 });
        state = await loadState(join(dir, 'state.json'), name);
        if (state.pending !== null) await finish(state.pending); // a commit the crash interrupted
        const restored = ctx.restored;
        if (restored !== undefined && restored.handle !== undefined) await commit(restored.checkpointId, restored.handle);
        // A fresh run id per open: part names are never reused across restarts.
        run = randomBytes(8).toString('hex');
        for (const f of await readdir(dir)) if (PART.test(f)) await rm(join(dir, f), { force: true }); // epochs after the checkpoint, dead runs
        await save({ run, last: state.last, pending: null });
      } catch (e) {
        log.releaseWriter(owner);
        fail('opening', e);
      }
    },
    write(values, timestamps) {
      if (values.length === 0) return undefined;
      if (failure !== undefined) return Promise.reject(failure);
      let bytes: Buffer;
      try {
        const p = current;
        bytes = encode(recordsOf(values, timestamps), p === undefined ? 0 : p.records);
      } catch (e) {
        return Promise.reject(e); // nothing was staged: the write can be retried
      }
      const p = part();
      p.records += values.length;
      p.tail = p.tail.then(async () => writeAll(await p.handle, bytes)).catch((e: unknown) => {
        failure ??= e;
        return fail('staging a write', e);
      });
      return p.tail;
    },
    preCommit(checkpointId) {
      // Seal synchronously: writes from here on belong to the next epoch.
      const sealing = current;
      current = undefined;
      if (sealing !== undefined) {
        sealed.push(sealing.name);
        sealedRecords.set(sealing.name, sealing.records);
      }
      const files = [...sealed];
      const handle: LogEpochHandle = { run, files, records: files.reduce((n, f) => n + (sealedRecords.get(f) ?? 0), 0) };
      if (sealing === undefined) return handle;
      return (async (): Promise<LogEpochHandle> => {
        try {
          await sealing.tail;
          const h = await sealing.handle;
          try {
            await h.sync();
          } finally {
            await h.close();
          }
          await syncDir(dir);
        } catch (e) {
          fail(`pre-committing epoch ${checkpointId}`, e);
        }
        return handle;
      })();
    },
    commit,
    async close() {
      await closePart();
      log.releaseWriter(owner);
    },
    async abort() {
      // Staged parts stay: a restore commits the checkpoint's epoch and deletes the rest.
      await closePart();
      log.releaseWriter(owner);
    },
  };
}

async function writeAll(h: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += (await h.write(bytes, at, bytes.length - at)).bytesWritten;
}

/**
 * The records of the part files `files`, in order, a buffer's worth at a time (a file is never
 * read whole). A torn or corrupt frame is an error: parts are fsynced before their checkpoint.
 */
async function* stagedRecords(dir: string, files: readonly string[]): AsyncGenerator<LogInput[]> {
  for (const f of files) yield* partRecords(join(dir, f));
}

async function* partRecords(path: string): AsyncGenerator<LogInput[]> {
  const fh = await open(path, 'r');
  try {
    let buf = Buffer.allocUnsafe(1 << 20);
    let len = 0;
    let filePos = 0;
    for (;;) {
      if (len === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, len);
        buf = bigger;
      }
      const { bytesRead } = await fh.read(buf, len, buf.length - len, filePos);
      filePos += bytesRead;
      len += bytesRead;
      const out: LogInput[] = [];
      let at = 0;
      for (;;) {
        const f = parseFrame(buf, at, len, MAX_FRAME - LENGTH_BYTES);
        if (f === 'short') break;
        if (typeof f === 'string') throw new LogError(`${WHERE}: the staged epoch ${path} is corrupt at byte ${filePos - len + at} (${f})`);
        out.push({ key: unpack(buf, f.keyStart, f.valueStart) as Key, timestamp: f.timestamp, value: unpack(buf, f.valueStart, f.end) });
        at = f.end;
      }
      if (out.length > 0) yield out;
      if (bytesRead === 0) {
        if (at < len) throw new LogError(`${WHERE}: the staged epoch ${path} ends inside a record`);
        return;
      }
      buf.copy(buf, 0, at, len);
      len -= at;
    }
  } finally {
    await fh.close();
  }
}

/** Reads `state.json` (the empty state when there is none). */
async function loadState(path: string, name: string): Promise<SinkState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY;
    throw e;
  }
  const bad = (): never => {
    throw new LogError(`${WHERE} '${name}': ${path} is not an exactly-once sink state file`);
  };
  let s: Partial<SinkState> & { format?: unknown };
  try {
    s = JSON.parse(text) as typeof s;
  } catch {
    return bad();
  }
  const epochOf = (x: unknown): boolean => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  if (s === null || typeof s !== 'object' || s.format !== 1) bad();
  if (s.run !== null && !(typeof s.run === 'string' && RUN.test(s.run))) bad();
  const last = s.last;
  if (last !== null && !(typeof last === 'object' && last !== undefined && RUN.test(String(last.run)) && epochOf(last.epoch))) bad();
  const p = s.pending;
  if (p !== null && !(typeof p === 'object' && p !== undefined && RUN.test(String(p.run)) && epochOf(p.epoch) && partList(p.files)
    && epochOf(p.records) && typeof p.headsBefore === 'object' && p.headsBefore !== null && Object.values(p.headsBefore).every(epochOf))) bad();
  return { run: s.run ?? null, last: last ?? null, pending: p ?? null };
}

function isHandle(h: unknown): h is LogEpochHandle {
  const x = h as Partial<LogEpochHandle> | null;
  return x !== null && typeof x === 'object' && typeof x.run === 'string' && RUN.test(x.run)
    && partList(x.files)
    && typeof x.records === 'number' && Number.isSafeInteger(x.records) && x.records >= 0;
}

function partList(files: unknown): files is string[] {
  return Array.isArray(files) && files.every((f) => typeof f === 'string' && PART.test(f));
}

/** A directory name for a sink name: the name itself when it is safe, else a cleaned form with a hash. */
function directoryName(name: string): string {
  if (/^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/.test(name)) return name;
  const clean = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[.-]/, '_').slice(0, 80);
  return `${clean}-${createHash('sha256').update(name).digest('hex').slice(0, 12)}`;
}

function sameKey(a: Key, b: Key): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

function describeKey(k: Key): string {
  return JSON.stringify(k, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
}
