/**
 * `fromJetStream(options)`: a NATS JetStream stream read as a replayable, partitioned log.
 *
 * Design (see also `partition-feed.ts`):
 * - Partitions are subjects: `subjects[i]` is partition `i`, or `partitions: n` reads the subjects
 *   `<prefix>.0 … <prefix>.<n−1>` (prefix defaults to the stream name); with neither, the whole
 *   stream is partition 0. Every records chunk names its partition, so each partition has its own
 *   watermark (and idleness), and `reader.partitions` declares them all at open.
 * - Shares: with `partitions: n` (a count) the source declares `partitionCount: n`, and a run that
 *   assigns it a share (`SourceContext.partitions`, e.g. one task of `runPartitioned`) reads only
 *   those partitions; its positions then name only them.
 * - A position is a stream sequence: per partition, the last sequence consumed. `positions()`
 *   reports the positions of what has left the pipeline (acknowledged chunks); `from: { positions }`
 *   resumes just after them. Correctness rests on these recorded sequences, never on JetStream
 *   acknowledgements: each partition reads with an ephemeral ordered consumer that takes no acks
 *   (`ack_policy: none`), so no `ack_wait` expires and no `max_ack_pending` fills during a long
 *   window, and nothing is redelivered.
 * - End of input: without `follow`, the read ends at the stream's last sequence when the source
 *   opened; with `follow: true` it never ends (until `signal` aborts, which ends input cleanly).
 * - Replayable: every chunk carries `{ stream, sequences: [[partition, sequence], …] }` — the last
 *   sequence emitted per partition — so a run restored from a checkpoint starts each partition's
 *   consumer just after its saved sequence. A saved sequence below the stream's first retained
 *   message fails the run, naming the sequences that were removed (never a silent skip).
 * - Bad input (undecodable, larger than `maxRecordBytes`, a bad timestamp) becomes a dead letter
 *   with `{ stream, subject, sequence, partition }`; the position still advances past it.
 */
import { jetstreamManager, jetstream } from '@nats-io/jetstream';
import type { JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { PlanError, SourceError } from '../../engine/errors.js';
import type { Source, SourceChunk, SourceContext, SourceDeadLetter, SourceReader } from '../../engine/source.js';
import { timestampProblem } from '../../engine/time.js';
import { checkFormat, decoderFor, payloadPrefix, type JetStreamDecode, type JetStreamMessageMeta } from './codec.js';
import { connectionOf, describeRedacted, openConnection, type JetStreamConnection, type JetStreamConnectionOptions } from './connection.js';
import { PartitionFeed } from './partition-feed.js';
import { checkStart, startPositions, type JetStreamStart, type ResolvedStart } from './start.js';

const WHERE = 'tidemark.fromJetStream';
const MiB = 1024 * 1024;

/** Options of {@link fromJetStream}. */
export interface FromJetStreamOptions<T> extends JetStreamConnectionOptions {
  /** The stream to read. */
  readonly stream: string;
  /** One subject (wildcards allowed) per partition: `subjects[i]` is partition `i`. */
  readonly subjects?: readonly string[];
  /** Numbered partitions on subjects `<prefix>.<n>`: a count (`0…n−1`) or the ids to read. */
  readonly partitions?: number | readonly number[];
  /** Subject prefix of numbered partitions (default: the stream name). */
  readonly prefix?: string;
  /** Where to start (default `'earliest'`). */
  readonly from?: JetStreamStart;
  /** Keep reading new messages instead of ending at the stream's last sequence at open. */
  readonly follow?: boolean;
  /** Payload format (default `'json'`); a function may throw to dead-letter a message. */
  readonly format?: JetStreamDecode<T>;
  /**
   * Event time of a record: `'stored'` (default: when JetStream stored the message) or a function
   * of the record and message; invalid results make dead letters with the message's position.
   */
  readonly timestamp?: 'stored' | ((record: T, meta: JetStreamMessageMeta) => number);
  /** Payloads larger than this become dead letters without being decoded (default 1 MiB). */
  readonly maxRecordBytes?: number;
  /**
   * Messages per pull request per partition (default: the pipeline's batch size, at most 256, and
   * at most 64 MiB / the server's `max_payload`, so one pull cannot bring in more than 64 MiB).
   */
  readonly fetchSize?: number;
  /** Aborting ends the input cleanly (windows flush), e.g. to stop a `follow` read. */
  readonly signal?: AbortSignal;
}

/** A JetStream source: a `Source` that also reports its current positions. */
export interface JetStreamSource<T> extends Source<T> {
  /**
   * `{ [partition]: sequence }`: the last stream sequence per partition whose records (and dead
   * letters) have been processed downstream. Pass as `from: { positions }` to resume after them.
   */
  positions(): Record<number, number>;
}

/**
 * Reads a JetStream stream as a partitioned, replayable log of records `T`, timestamped with the
 * time JetStream stored each message (or by `timestamp`).
 *
 * @example
 * const orders = p.source(fromJetStream<Order>({
 *   servers: '127.0.0.1:4222', stream: 'ORDERS', partitions: 4, from: 'earliest',
 * }), { watermark: boundedOutOfOrderness(5_000) });
 * // later: fromJetStream({ …, from: { positions: source.positions() } })
 */
export function fromJetStream<T = unknown>(options: FromJetStreamOptions<T>): JetStreamSource<T> {
  if (options === null || typeof options !== 'object') throw new PlanError(`${WHERE}: expected an options object`);
  const conn = connectionOf(options, WHERE);
  const stream = options.stream;
  if (typeof stream !== 'string' || !/^[^\s.*>]+$/.test(stream)) throw new PlanError(`${WHERE}: stream must be a stream name (no spaces, '.', '*' or '>'), got ${String(stream)}`);
  const subjects = partitionSubjects(options, stream);
  const ids = [...subjects.keys()];
  const start = checkStart(options.from, ids, WHERE);
  const format = options.format ?? 'json';
  checkFormat(format, WHERE);
  const timestamp = options.timestamp ?? 'stored';
  if (timestamp !== 'stored' && typeof timestamp !== 'function') throw new PlanError(`${WHERE}: timestamp must be 'stored' or a function (record, meta) => epoch ms`);
  const maxRecordBytes = options.maxRecordBytes ?? MiB;
  if (!Number.isSafeInteger(maxRecordBytes) || maxRecordBytes < 1) throw new PlanError(`${WHERE}: maxRecordBytes must be a positive integer`);
  if (options.fetchSize !== undefined && (!Number.isInteger(options.fetchSize) || options.fetchSize < 1 || options.fetchSize > 10_000)) {
    throw new PlanError(`${WHERE}: fetchSize must be an integer in 1…10000`);
  }
  if (options.follow !== undefined && typeof options.follow !== 'boolean') throw new PlanError(`${WHERE}: follow must be a boolean`);
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new PlanError(`${WHERE}: signal must be an AbortSignal`);
  const settings: ReaderSettings<T> = {
    conn, stream, subjects, start, follow: options.follow === true, decode: decoderFor(format),
    formatName: typeof format === 'function' ? 'custom' : format, timestamp, maxRecordBytes,
    fetchSize: options.fetchSize, signal: options.signal,
  };
  let current: JetStreamReader<T> | undefined;
  return {
    kind: 'jetstream',
    providesTimestamps: true,
    providesWatermarks: false,
    replayable: true,
    // Numbered partitions `0…n−1` given as a count can be shared out (`SourceContext.partitions`).
    ...(typeof options.partitions === 'number' ? { partitionCount: options.partitions } : {}),
    open(ctx) {
      current = new JetStreamReader(settings, ctx);
      return current;
    },
    positions: () => current?.positions() ?? {},
  };
}

/** Partition id → subject filter (`undefined`: the whole stream). */
function partitionSubjects(o: Pick<FromJetStreamOptions<unknown>, 'subjects' | 'partitions' | 'prefix'>, stream: string): Map<number, string | undefined> {
  if (o.subjects !== undefined && o.partitions !== undefined) throw new PlanError(`${WHERE}: give subjects or partitions, not both`);
  if (o.subjects !== undefined) {
    if (!Array.isArray(o.subjects) || o.subjects.length === 0 || o.subjects.some((s) => typeof s !== 'string' || !/^[^\s]+$/.test(s))) {
      throw new PlanError(`${WHERE}: subjects must be a non-empty list of subjects (one per partition)`);
    }
    if (new Set(o.subjects).size !== o.subjects.length) throw new PlanError(`${WHERE}: subjects must not repeat`);
    return new Map(o.subjects.map((s, i) => [i, s]));
  }
  if (o.partitions === undefined) {
    if (o.prefix !== undefined) throw new PlanError(`${WHERE}: prefix needs partitions`);
    return new Map([[0, undefined]]);
  }
  const prefix = o.prefix ?? stream;
  if (typeof prefix !== 'string' || !/^[^\s*>]+$/.test(prefix)) throw new PlanError(`${WHERE}: prefix must be a subject without wildcards`);
  const p = o.partitions;
  const list = typeof p === 'number'
    ? (Number.isInteger(p) && p >= 1 && p <= 100_000 ? Array.from({ length: p }, (_, i) => i) : undefined)
    : Array.isArray(p) && p.length > 0 && p.every((x) => Number.isInteger(x) && x >= 0) && new Set(p).size === p.length ? [...p] : undefined;
  if (list === undefined) throw new PlanError(`${WHERE}: partitions must be a count ≥ 1 or a non-empty list of distinct partition numbers ≥ 0`);
  return new Map(list.map((id) => [id, `${prefix}.${id}`]));
}

interface ReaderSettings<T> {
  readonly conn: JetStreamConnection;
  readonly stream: string;
  readonly subjects: ReadonlyMap<number, string | undefined>;
  readonly start: ResolvedStart;
  readonly follow: boolean;
  readonly decode: (data: Uint8Array, meta: JetStreamMessageMeta) => T;
  readonly formatName: string;
  readonly timestamp: 'stored' | ((record: T, meta: JetStreamMessageMeta) => number);
  readonly maxRecordBytes: number;
  readonly fetchSize: number | undefined;
  readonly signal: AbortSignal | undefined;
}

/** The reader of one run. */
class JetStreamReader<T> implements SourceReader<T> {
  readonly partitions: readonly number[];
  private nc: NatsConnection | undefined;
  private feeds: PartitionFeed[] = [];
  private opening: Promise<void> | undefined;
  private readonly queue: SourceChunk<T>[] = [];
  /** The partition and last sequence each emitted chunk covers (recorded on ack). */
  private readonly covers = new WeakMap<object, { partition: number; sequence: number }>();
  private readonly acked = new Map<number, number>();
  /** The last sequence emitted per partition (the position attached to each chunk). */
  private readonly emitted = new Map<number, number>();
  private waiter: (() => void) | undefined;
  private rr = 0;
  private ended = false;
  /** Partitions paused by watermark alignment (their feeds fill their bounded buffers, then stop pulling). */
  private paused: ReadonlySet<number> = new Set();

  pause(partitions: ReadonlySet<number>): void {
    this.paused = partitions;
    this.wake();
  }

  constructor(private readonly s: ReaderSettings<T>, private readonly ctx: SourceContext) {
    const share = ctx.partitions;
    if (share !== undefined) {
      const unknown = share.filter((p) => !s.subjects.has(p));
      if (unknown.length > 0) throw new SourceError(`${WHERE}: the run assigned partition(s) ${unknown.join(', ')} of stream '${s.stream}', which this source does not have (${[...s.subjects.keys()].join(', ')})`);
    }
    this.partitions = share === undefined ? [...s.subjects.keys()] : [...share];
    s.signal?.addEventListener('abort', this.wake, { once: true });
  }

  private readonly wake = (): void => {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  };

  private async open(): Promise<void> {
    const { conn, stream } = this.s;
    const nc = await openConnection(conn, WHERE, (m) => new SourceError(m));
    this.nc = nc;
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(stream);
      const last = info.state.last_seq;
      const resumed = resumeOf(this.ctx.resume, stream);
      const starts = await startPositions(this.s.start, this.partitions, jsm, stream, last);
      const firstRetained = Math.max(0, info.state.first_seq - 1);
      const start = this.s.start;
      for (const p of this.partitions) {
        const saved = resumed?.get(p);
        let after = saved ?? starts.get(p) ?? 0;
        const checked = saved !== undefined || (resumed === undefined && start.kind === 'positions' && start.positions.has(p));
        if (checked && after < firstRetained) {
          // Messages after a saved position that the stream no longer holds: fail, naming them.
          const subject = this.s.subjects.get(p);
          throw new SourceError(`${WHERE}: cannot continue partition ${p}${subject === undefined ? '' : ` (subject '${subject}')`} of stream '${stream}' after sequence ${after}: `
            + `the stream now starts at sequence ${info.state.first_seq}, so messages ${after + 1}…${firstRetained} were removed (limits, max_age or a purge) before this pipeline processed them`
            + `${subject === undefined ? '' : ' (those on this subject are lost; the stream does not say which they were)'}. `
            + 'Restore from a newer checkpoint, or start without it to accept the loss.');
        }
        // A fresh start below the first retained message starts at it (and its positions say so).
        if (!checked) after = Math.max(after, firstRetained);
        starts.set(p, after);
      }
      for (const [p, seq] of starts) {
        this.acked.set(p, seq);
        this.emitted.set(p, seq);
      }
      // Memory per partition: one pull in flight (fetchSize messages of at most the server's
      // max_payload) plus the buffer (2 × fetchSize messages or 8 MiB).
      const maxPayload = nc.info?.max_payload ?? MiB;
      const fetchSize = this.s.fetchSize ?? Math.max(1, Math.min(256, this.ctx.batchSize, Math.floor((64 * MiB) / maxPayload)));
      const cfg = {
        js: jetstream(nc), stream, fetchSize, bufferCap: fetchSize * 2, bufferBytes: 8 * MiB,
        end: this.s.follow ? Infinity : last, wake: this.wake,
      };
      this.feeds = this.partitions.map((p) => new PartitionFeed(p, this.s.subjects.get(p), starts.get(p) ?? 0, cfg));
      for (const f of this.feeds) f.start();
    } catch (e) {
      if (e instanceof SourceError) throw e;
      throw new SourceError(`${WHERE}: cannot read stream '${stream}': ${describeRedacted(e, conn.secrets)}`);
    }
  }

  /** The position after a chunk: every partition's last emitted sequence. */
  private position(): JetStreamPosition {
    return { stream: this.s.stream, sequences: [...this.emitted] };
  }

  async next(): Promise<SourceChunk<T> | null> {
    const queued = this.queue.shift();
    if (queued !== undefined) return queued;
    if (this.ended) return null;
    await (this.opening ??= this.open());
    for (;;) {
      if (this.s.signal?.aborted === true) return this.end();
      const failed = this.feeds.find((f) => f.error !== undefined);
      if (failed !== undefined) {
        throw new SourceError(`${WHERE}: reading partition ${failed.id} of stream '${this.s.stream}' failed: ${describeRedacted(failed.error, this.s.conn.secrets)}`);
      }
      const n = this.feeds.length;
      // Paused partitions are skipped while another partition can make progress.
      const skipPaused = this.paused.size > 0 && this.feeds.some((f) => !this.paused.has(f.id) && !f.done);
      for (let k = 0; k < n; k++) {
        const f = this.feeds[(this.rr + k) % n] as PartitionFeed;
        if (f.buffer.length === 0 || (skipPaused && this.paused.has(f.id))) continue;
        this.rr = (this.rr + k + 1) % n;
        this.chunks(f.id, f.take(this.ctx.batchSize));
        return this.queue.shift() ?? null;
      }
      if (this.feeds.every((f) => f.done)) return this.end();
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  private end(): null {
    this.ended = true;
    return null;
  }

  /** Decodes one partition's messages into records and dead-letter chunks, in sequence order. */
  private chunks(partition: number, msgs: readonly JsMsg[]): void {
    const { stream, decode, timestamp, maxRecordBytes, formatName } = this.s;
    let values: T[] = [];
    let times: number[] = [];
    let letters: SourceDeadLetter[] = [];
    let lastSeq = 0;
    const flushRecords = (): void => {
      if (values.length === 0) return;
      this.emitted.set(partition, lastSeq);
      const chunk: SourceChunk<T> = { kind: 'records', values, timestamps: times, partition, position: this.position() };
      this.covers.set(chunk, { partition, sequence: lastSeq });
      this.queue.push(chunk);
      values = [];
      times = [];
    };
    const flushLetters = (): void => {
      if (letters.length === 0) return;
      this.emitted.set(partition, lastSeq);
      const chunk: SourceChunk<T> = { kind: 'dead-letters', letters, position: this.position() };
      this.covers.set(chunk, { partition, sequence: lastSeq });
      this.queue.push(chunk);
      letters = [];
    };
    for (const m of msgs) {
      const meta = metaOf(m, stream, partition);
      const position = { stream, subject: m.subject, sequence: m.seq, partition };
      const reject = (reason: string): void => {
        flushRecords();
        letters.push({ value: payloadPrefix(m.data), reason, position });
        lastSeq = m.seq;
      };
      if (m.data.length > maxRecordBytes) {
        reject(`payload of ${m.data.length} bytes exceeds maxRecordBytes (${maxRecordBytes})`);
        continue;
      }
      let value: T;
      try {
        value = decode(m.data, meta);
      } catch (e) {
        reject(`undecodable ${formatName} payload: ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
      let t: number;
      try {
        t = timestamp === 'stored' ? meta.storedAt : timestamp(value, meta);
      } catch (e) {
        reject(`timestamp function threw: ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
      const problem = timestampProblem(t);
      if (problem !== undefined) {
        reject(problem);
        continue;
      }
      flushLetters();
      values.push(value);
      times.push(t);
      lastSeq = m.seq;
    }
    flushRecords();
    flushLetters();
  }

  ack(chunk: SourceChunk<T>): void {
    const c = this.covers.get(chunk);
    if (c !== undefined && c.sequence > (this.acked.get(c.partition) ?? 0)) this.acked.set(c.partition, c.sequence);
  }

  /** `{ [partition]: last sequence processed downstream }`. */
  positions(): Record<number, number> {
    return Object.fromEntries(this.acked);
  }

  stats(): Record<string, number> {
    const out: Record<string, number> = { consumerResets: this.feeds.reduce((n, f) => n + f.resets, 0) };
    for (const [p, seq] of this.acked) out[`position.${p}`] = seq;
    return out;
  }

  async close(): Promise<void> {
    this.ended = true;
    this.s.signal?.removeEventListener('abort', this.wake);
    await Promise.all(this.feeds.map((f) => f.close()));
    await this.nc?.close().catch(() => undefined);
  }
}

/** A JetStream source's position (in checkpoints): the last sequence emitted per partition. */
export interface JetStreamPosition {
  readonly stream: string;
  readonly sequences: readonly (readonly [number, number])[];
}

/** Reads `ctx.resume` (a position of this stream), or fails saying why it cannot be used. */
function resumeOf(resume: unknown, stream: string): Map<number, number> | undefined {
  if (resume === undefined) return undefined;
  const r = resume as Partial<JetStreamPosition> | null;
  const valid = r !== null && typeof r === 'object' && typeof r.stream === 'string' && Array.isArray(r.sequences)
    && r.sequences.every((e) => Array.isArray(e) && e.length === 2 && e.every((x) => Number.isSafeInteger(x) && (x as number) >= 0));
  if (!valid) throw new SourceError(`${WHERE}: cannot resume from checkpoint position ${JSON.stringify(resume)} (expected { stream, sequences })`);
  if (r.stream !== stream) throw new SourceError(`${WHERE}: the checkpoint holds a position in stream '${r.stream}', but this source reads '${stream}'`);
  return new Map(r.sequences as [number, number][]);
}

/** The message's metadata (headers converted lazily: most decoders never look). */
function metaOf(m: JsMsg, stream: string, partition: number): JetStreamMessageMeta {
  const meta = { stream, subject: m.subject, sequence: m.seq, partition, storedAt: Number(m.timestampNanos / 1_000_000n) };
  const h = m.headers;
  if (h === undefined) return meta;
  let headers: Record<string, string[]> | undefined;
  return Object.defineProperty(meta, 'headers', {
    enumerable: true,
    get: () => (headers ??= Object.fromEntries(h.keys().map((k) => [k, h.values(k)]))),
  }) as JetStreamMessageMeta;
}
