/**
 * `fromRedisStream(options)`: Redis Streams as a source, through a consumer group. Several
 * streams are the source's partitions (per-partition watermarks). Delivery is at-least-once:
 * entries are acknowledged (`XACK`) only after the pipeline has processed them; on start the
 * consumer first re-reads its own unacknowledged entries, then claims (`XAUTOCLAIM`) the entries
 * other consumers left pending for longer than `claimIdleMs` — a crashed consumer's work is
 * taken over, and nothing read is ever lost.
 *
 * Replayable: chunks carry `{ ids: [[stream, id], …] }`, the last id read as new per stream. A run
 * restored from a checkpoint sets the group's cursor back to the saved ids (`XGROUP SETID`), so
 * the checkpoint — not the group's acknowledgements — decides what is read again; give a
 * checkpointed pipeline its own group with one consumer (see docs/connectors.md).
 */
import type { Redis } from 'ioredis';
import { PlanError, SourceError } from '../../engine/errors.js';
import type { Source, SourceChunk, SourceContext, SourceDeadLetter, SourceReader } from '../../engine/source.js';
import { connectRedis, type RedisConnectionOptions, type RedisTarget, redisTarget, safeMessage } from './connection.js';
import { checkDecoding, decodeEntry, DEFAULT_MAX_RECORD_BYTES, type RedisStreamFormat, type RedisStreamTimestamp } from './decode.js';
import { compareIds, parseAutoClaim, parseReadGroup, type RawEntry } from './replies.js';

/** Options of `fromRedisStream`. */
export interface FromRedisStreamOptions<T> extends RedisConnectionOptions {
  /** One stream key, or several: stream `i` is partition `i`. */
  readonly streams: string | readonly string[];
  /** The consumer group (created with `XGROUP CREATE … MKSTREAM` when missing). */
  readonly group: string;
  /** This consumer's name in the group; a restart under the same name re-reads its pending entries. */
  readonly consumer: string;
  /**
   * Where a NEW group starts: `'0'` (the beginning, default), `'$'` (only entries appended from
   * now on) or an entry id (`'1700000000000-0'`: entries after it). An existing group keeps its
   * position; this option does not move it.
   */
  readonly from?: string;
  /** How fields become a record (default `'json'`: the JSON document in `field`). */
  readonly format?: RedisStreamFormat<T>;
  /** The field `'json'` and `'string'` formats read (default `'data'`). */
  readonly field?: string;
  /** Event time (default `'id'`: the millisecond part of the entry id). */
  readonly timestamp?: RedisStreamTimestamp<T>;
  /** Entries per read (`COUNT`; default: the pipeline's batch size). */
  readonly count?: number;
  /** With `follow`, how long one `XREADGROUP` blocks waiting for entries (default 1000 ms). */
  readonly blockMs?: number;
  /**
   * Claim entries another consumer of the group has left unacknowledged for at least this long
   * (default 60 000 ms); `false` never claims. Too small a value steals entries from consumers
   * that are merely slow (they are then processed twice — still at-least-once).
   */
  readonly claimIdleMs?: number | false;
  /** With `follow`, how often to look for entries to claim (default: half of `claimIdleMs`, at least 100 ms). */
  readonly claimIntervalMs?: number;
  /** Entries larger than this (field names and values, bytes) are dead letters (default 1 MiB). */
  readonly maxRecordBytes?: number;
  /**
   * `false` (default): read what the streams held when the reader opened, then end — the run
   * completes. Entries appended meanwhile may be included in the last read. `true`: keep reading
   * (blocking) until `signal` aborts.
   */
  readonly follow?: boolean;
  /** Ends the input (the run then completes normally); entries read but not yet emitted stay pending. */
  readonly signal?: AbortSignal;
}

/** One entry read from a Redis stream. */
export interface RedisStreamRecord<T> {
  /** The stream key. */
  readonly stream: string;
  /** The index of the stream in `streams`. */
  readonly partition: number;
  /** The entry id (`ms-seq`): use it to de-duplicate redeliveries. */
  readonly id: string;
  readonly value: T;
  /** True when the entry had been delivered before (this consumer's pending entries, or claimed). */
  readonly redelivered: boolean;
}

interface StreamState {
  readonly key: string;
  readonly partition: number;
  /** Cursor through this consumer's pending entries; null once they are all re-read. */
  pendingCursor: string | null;
  /** Last entry id at open (drain mode); undefined when the stream was empty. */
  endId: string | undefined;
  /** Drain mode: every entry there at open has been delivered to the group. */
  drained: boolean;
}

interface Settings<T> {
  readonly where: string;
  readonly target: RedisTarget;
  readonly keys: readonly string[];
  readonly group: string;
  readonly consumer: string;
  readonly from: string;
  readonly format: RedisStreamFormat<T>;
  readonly field: string;
  readonly timestamp: RedisStreamTimestamp<T>;
  readonly count: number | undefined;
  readonly blockMs: number;
  readonly claimIdleMs: number | false;
  readonly claimIntervalMs: number;
  readonly maxRecordBytes: number;
  readonly follow: boolean;
  readonly signal: AbortSignal | undefined;
}

/** A Redis stream source's position (in checkpoints): per stream key, the last entry id read as new. */
export interface RedisStreamPosition {
  readonly ids: readonly (readonly [string, string])[];
}

/** Reads `ctx.resume` as a position, or fails saying why it cannot be used. */
function resumeOf(resume: unknown, where: string): Map<string, string> | undefined {
  if (resume === undefined) return undefined;
  const r = resume as Partial<RedisStreamPosition> | null;
  const valid = r !== null && typeof r === 'object' && Array.isArray(r.ids)
    && r.ids.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && typeof e[1] === 'string' && ID.test(e[1]));
  if (!valid) throw new SourceError(`${where}: cannot resume from checkpoint position ${JSON.stringify(resume)} (expected { ids: [[stream, id], …] })`);
  return new Map(r.ids as [string, string][]);
}

const ABORTED = Symbol('aborted');
const ID = /^\d+(-\d+)?$/;

/**
 * Reads Redis streams through a consumer group. Records are `RedisStreamRecord`s carrying their
 * event time (the entry id's milliseconds unless `timestamp` says otherwise), so the pipeline
 * needs no `timestamp` option. `reader.ack(chunk)` runs `XACK` after the chunk's effects
 * downstream; records held in window state are acknowledged before their window fires, so exact
 * recovery of window state needs checkpoints (the source is replayable). Undecodable, oversized or badly timed
 * entries become dead letters with `{ stream, id, partition }` and are acknowledged too, so they
 * do not come back; so are pending entries deleted from the stream before they were processed.
 *
 * @example
 * p.source(fromRedisStream<Click>({ url: 'redis://127.0.0.1:6379', streams: ['clicks-a', 'clicks-b'],
 *   group: 'sessions', consumer: 'worker-1' }), { watermark: boundedOutOfOrderness(5_000) })
 *   .map((r) => r.value);
 */
export function fromRedisStream<T = unknown>(options: FromRedisStreamOptions<T>): Source<RedisStreamRecord<T>> {
  const settings = validate(options);
  return {
    kind: 'redis-stream',
    providesTimestamps: true,
    providesWatermarks: false,
    replayable: true,
    open: (ctx) => new RedisStreamReader(settings, ctx),
  };
}

function validate<T>(options: FromRedisStreamOptions<T>): Settings<T> {
  const where = 'tidemark.fromRedisStream';
  if (options === null || typeof options !== 'object') throw new PlanError(`${where}: expected an options object`);
  const keys = typeof options.streams === 'string' ? [options.streams] : options.streams;
  if (!Array.isArray(keys) || keys.length === 0 || keys.some((k) => typeof k !== 'string' || k === '')) {
    throw new PlanError(`${where}: streams must be a stream key or a non-empty array of keys`);
  }
  if (new Set(keys).size !== keys.length) throw new PlanError(`${where}: streams lists a key twice`);
  for (const name of ['group', 'consumer'] as const) {
    if (typeof options[name] !== 'string' || options[name] === '') throw new PlanError(`${where}: ${name} must be a non-empty string`);
  }
  const from = options.from ?? '0';
  if (typeof from !== 'string' || (from !== '$' && !ID.test(from))) {
    throw new PlanError(`${where}: from must be '0', '$' or an entry id like '1700000000000-0', got ${String(from)}`);
  }
  const format = options.format ?? 'json';
  const field = options.field ?? 'data';
  const timestamp = options.timestamp ?? 'id';
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  checkDecoding(format, field, timestamp, maxRecordBytes, where);
  const positive = (name: string, v: unknown): void => {
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < 1)) throw new PlanError(`${where}: ${name} must be a positive integer, got ${String(v)}`);
  };
  positive('count', options.count);
  positive('blockMs', options.blockMs);
  positive('claimIntervalMs', options.claimIntervalMs);
  const claimIdleMs = options.claimIdleMs ?? 60_000;
  if (claimIdleMs !== false && (!Number.isInteger(claimIdleMs) || claimIdleMs < 0)) {
    throw new PlanError(`${where}: claimIdleMs must be a non-negative integer or false, got ${String(claimIdleMs)}`);
  }
  const follow = options.follow ?? false;
  if (typeof follow !== 'boolean') throw new PlanError(`${where}: follow must be a boolean`);
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new PlanError(`${where}: signal must be an AbortSignal`);
  return {
    where,
    target: redisTarget(options, where),
    keys,
    group: options.group,
    consumer: options.consumer,
    from,
    format,
    field,
    timestamp,
    count: options.count,
    blockMs: options.blockMs ?? 1000,
    claimIdleMs,
    claimIntervalMs: options.claimIntervalMs ?? Math.max(100, Math.floor((claimIdleMs === false ? 0 : claimIdleMs) / 2)),
    maxRecordBytes,
    follow,
    signal,
  };
}

/** The reader of one run: own pending entries, then claims, then new entries. */
class RedisStreamReader<T> implements SourceReader<RedisStreamRecord<T>> {
  readonly partitions: readonly number[];
  private client: Redis | undefined;
  private readonly streams: StreamState[];
  private readonly queue: SourceChunk<RedisStreamRecord<T>>[] = [];
  /** What each emitted chunk acknowledges. */
  private readonly toAck = new WeakMap<object, { key: string; ids: string[] }>();
  private readonly count: number;
  private readonly aborted: Promise<typeof ABORTED> | undefined;
  private ended = false;
  /** Partitions paused by watermark alignment. */
  private paused: ReadonlySet<number> = new Set();

  pause(partitions: ReadonlySet<number>): void {
    this.paused = partitions;
  }
  /** The claim round in progress: index of the stream and its cursor. */
  private claim: { index: number; cursor: string } | undefined;
  private nextClaimAt = 0;
  private redelivered = 0;
  private claimed = 0;
  private acked = 0;
  /** Per stream, the last entry id read as new (`>`): the position attached to chunks. */
  private readonly delivered = new Map<string, string>();
  /** The checkpoint position this run continues from, if restored. */
  private readonly resume: Map<string, string> | undefined;

  constructor(private readonly s: Settings<T>, ctx: SourceContext) {
    this.resume = resumeOf(ctx.resume, s.where);
    this.streams = s.keys.map((key, partition) => ({ key, partition, pendingCursor: '0', endId: undefined, drained: false }));
    this.partitions = this.streams.map((x) => x.partition);
    this.count = s.count ?? ctx.batchSize;
    const signal = s.signal;
    this.aborted = signal === undefined ? undefined : new Promise((resolve) => {
      if (signal.aborted) resolve(ABORTED);
      else signal.addEventListener('abort', () => resolve(ABORTED), { once: true });
    });
  }

  async next(): Promise<SourceChunk<RedisStreamRecord<T>> | null> {
    for (;;) {
      if (this.ended || this.s.signal?.aborted === true) return null;
      const chunk = this.queue.shift();
      if (chunk !== undefined) return chunk;
      const client = this.client ?? (await this.setup());
      if (await this.readOwnPending(client)) continue;
      if (await this.claimStep(client)) continue;
      if (!this.s.follow && this.claim === undefined && this.streams.every((x) => x.drained)) {
        this.ended = true;
        return null;
      }
      await this.readNew(client);
    }
  }

  async ack(chunk: SourceChunk<RedisStreamRecord<T>>): Promise<void> {
    const what = this.toAck.get(chunk);
    if (what === undefined || this.client === undefined) return;
    this.toAck.delete(chunk);
    const n = await this.command('XACK', what.key, () => (this.client as Redis).xack(what.key, this.s.group, ...what.ids));
    this.acked += n;
  }

  close(): void {
    this.ended = true;
    this.client?.disconnect();
  }

  stats(): Record<string, number> {
    return { redelivered: this.redelivered, claimed: this.claimed, acked: this.acked };
  }

  /**
   * Connects, creates the group where missing, and (drain mode) notes each stream's last id.
   * Restored from a checkpoint, the checkpoint owns the group's cursor: it is set back to the saved
   * id (`XGROUP SETID`) so `>` reads deliver again everything after it — including entries the
   * failed run had read and acknowledged — and this consumer's pending entries up to the saved id
   * (processed, by the checkpoint's account) are acknowledged instead of re-read.
   */
  private async setup(): Promise<Redis> {
    const client = await connectRedis(this.s.target, this.s.where, 'source');
    this.client = client;
    for (const st of this.streams) {
      try {
        await client.call('XGROUP', 'CREATE', st.key, this.s.group, this.s.from, 'MKSTREAM');
      } catch (e) {
        if (!(e instanceof Error && e.message.startsWith('BUSYGROUP'))) throw this.failure('XGROUP CREATE', st.key, e);
      }
      const saved = this.resume?.get(st.key);
      if (saved !== undefined) {
        await this.command('XGROUP SETID', st.key, () => client.call('XGROUP', 'SETID', st.key, this.s.group, saved));
        await this.ackPendingUpTo(client, st.key, saved);
        st.pendingCursor = null;
        this.delivered.set(st.key, saved);
      } else {
        this.delivered.set(st.key, await this.groupCursor(client, st.key));
      }
      if (!this.s.follow) {
        const last = await this.command('XREVRANGE', st.key, () => client.xrevrange(st.key, '+', '-', 'COUNT', 1));
        st.endId = last[0]?.[0];
        st.drained = st.endId === undefined;
      }
    }
    return client;
  }

  /** The group's last-delivered-id on `key` (where a fresh reader's `>` reads continue). */
  private async groupCursor(client: Redis, key: string): Promise<string> {
    const groups = await this.command('XINFO GROUPS', key, () => client.call('XINFO', 'GROUPS', key)) as unknown[];
    for (const g of groups) {
      const flat = g as unknown[];
      const field = (name: string): unknown => flat[flat.findIndex((x, i) => i % 2 === 0 && String(x) === name) + 1];
      if (String(field('name')) === this.s.group) return String(field('last-delivered-id') ?? '0-0');
    }
    return '0-0';
  }

  /** Acknowledges this consumer's pending entries with ids up to `id` (restore: processed before the checkpoint). */
  private async ackPendingUpTo(client: Redis, key: string, id: string): Promise<void> {
    let start = '-';
    for (;;) {
      const page = await this.command('XPENDING', key, () => client.call('XPENDING', key, this.s.group, start, id, 1000, this.s.consumer)) as unknown[][];
      const ids = page.map((e) => String(e[0]));
      if (ids.length > 0) this.acked += await this.command('XACK', key, () => client.xack(key, this.s.group, ...ids));
      if (ids.length < 1000) return;
      start = `(${ids[ids.length - 1] as string}`;
    }
  }

  /** The position after the chunks enqueued so far: every stream's last id read as new. */
  private position(): RedisStreamPosition {
    return { ids: [...this.delivered] };
  }

  /** Re-reads one page of this consumer's own pending entries; false once there are none left. */
  private async readOwnPending(client: Redis): Promise<boolean> {
    const st = this.streams.find((x) => x.pendingCursor !== null);
    if (st === undefined) return false;
    const reply = await this.command('XREADGROUP', st.key, () =>
      client.callBuffer('XREADGROUP', 'GROUP', this.s.group, this.s.consumer, 'COUNT', this.count, 'STREAMS', st.key, st.pendingCursor as string));
    const entries = parseReadGroup(reply).get(st.key) ?? [];
    const last = entries[entries.length - 1];
    st.pendingCursor = last === undefined ? null : last.id;
    this.redelivered += entries.length;
    this.enqueue(st, entries, true, []);
    return true;
  }

  /** One page of a claim round (`XAUTOCLAIM`) when one is due; false when there is nothing to do. */
  private async claimStep(client: Redis): Promise<boolean> {
    if (this.s.claimIdleMs === false) return false;
    if (this.claim === undefined) {
      if (performance.now() < this.nextClaimAt) return false;
      this.claim = { index: 0, cursor: '0-0' };
    }
    const round = this.claim;
    const st = this.streams[round.index] as StreamState;
    const reply = await this.command('XAUTOCLAIM', st.key, () =>
      client.callBuffer('XAUTOCLAIM', st.key, this.s.group, this.s.consumer, this.s.claimIdleMs as number, round.cursor, 'COUNT', this.count));
    const { cursor, entries, deleted } = parseAutoClaim(reply);
    this.claimed += entries.length;
    this.redelivered += entries.length;
    this.enqueue(st, entries, true, deleted);
    if (cursor === '0-0') {
      round.index++;
      round.cursor = '0-0';
    } else {
      round.cursor = cursor;
    }
    if (round.index >= this.streams.length) {
      this.claim = undefined;
      this.nextClaimAt = this.s.follow ? performance.now() + this.s.claimIntervalMs : Infinity;
    }
    return true;
  }

  /** Reads new entries (`>`) of every stream still open; blocks in follow mode. */
  private async readNew(client: Redis): Promise<void> {
    const live = this.s.follow ? this.streams : this.streams.filter((x) => !x.drained);
    // Watermark alignment: leave paused partitions out while another can make progress.
    const unpaused = live.filter((x) => !this.paused.has(x.partition));
    const open = unpaused.length > 0 ? unpaused : live;
    const args: (string | number)[] = ['GROUP', this.s.group, this.s.consumer, 'COUNT', this.count];
    if (this.s.follow) {
      const untilClaim = this.s.claimIdleMs === false ? this.s.blockMs : Math.max(1, Math.ceil(this.nextClaimAt - performance.now()));
      args.push('BLOCK', Math.min(this.s.blockMs, untilClaim));
    }
    args.push('STREAMS', ...open.map((x) => x.key), ...open.map(() => '>'));
    const read = this.command('XREADGROUP', open.map((x) => x.key).join(', '), () => client.callBuffer('XREADGROUP', ...args));
    let reply: unknown;
    if (this.aborted === undefined) {
      reply = await read;
    } else {
      reply = await Promise.race([read, this.aborted]);
      if (reply === ABORTED) {
        // Entries this read delivers stay pending for this consumer: the next start re-reads them.
        read.catch(() => undefined);
        return;
      }
    }
    const byKey = parseReadGroup(reply);
    for (const st of open) {
      const entries = byKey.get(st.key) ?? [];
      this.enqueue(st, entries, false, [], true);
      if (!this.s.follow) {
        const last = entries[entries.length - 1];
        if (last === undefined || (st.endId !== undefined && compareIds(last.id, st.endId) >= 0)) st.drained = true;
      }
    }
  }

  /**
   * Decodes entries into records and dead-letter chunks in id order, each remembering what to ack
   * and carrying the position after it (`advance`: the entries were read as new, so the stream's
   * position moves to each chunk's last id; pending and claimed entries leave it where it is).
   */
  private enqueue(st: StreamState, entries: readonly RawEntry[], redelivered: boolean, deleted: readonly string[], advance = false): void {
    const s = this.s;
    let values: RedisStreamRecord<T>[] = [];
    let timestamps: number[] = [];
    let valueIds: string[] = [];
    let letters: SourceDeadLetter[] = [];
    let letterIds: string[] = [];
    const flushValues = (): void => {
      if (values.length === 0) return;
      if (advance) this.delivered.set(st.key, valueIds[valueIds.length - 1] as string);
      const chunk: SourceChunk<RedisStreamRecord<T>> = { kind: 'records', values, timestamps, partition: st.partition, position: this.position() };
      this.toAck.set(chunk, { key: st.key, ids: valueIds });
      this.queue.push(chunk);
      values = [];
      timestamps = [];
      valueIds = [];
    };
    const flushLetters = (): void => {
      if (letters.length === 0) return;
      if (advance) this.delivered.set(st.key, letterIds[letterIds.length - 1] as string);
      const chunk: SourceChunk<RedisStreamRecord<T>> = { kind: 'dead-letters', letters, position: this.position() };
      this.toAck.set(chunk, { key: st.key, ids: letterIds });
      this.queue.push(chunk);
      letters = [];
      letterIds = [];
    };
    const letter = (id: string, value: unknown, reason: string): void => {
      flushValues();
      letters.push({ value, reason, position: { stream: st.key, id, partition: st.partition } });
      letterIds.push(id);
    };
    const lost = (id: string): void => letter(id, null, 'entry was deleted from the stream (XDEL or trimming) while pending; its content is lost');
    for (const e of entries) {
      if (e.fields === null) {
        lost(e.id);
        continue;
      }
      const d = decodeEntry(e.id, e.fields, s.format, s.field, s.timestamp, s.maxRecordBytes);
      if (d.ok) {
        flushLetters();
        values.push({ stream: st.key, partition: st.partition, id: e.id, value: d.value, redelivered });
        timestamps.push(d.timestamp);
        valueIds.push(e.id);
      } else {
        letter(e.id, d.preview, d.reason);
      }
    }
    for (const id of deleted) lost(id);
    flushValues();
    flushLetters();
  }

  /** Runs a Redis command; a failure becomes a `SourceError` naming the command and stream (never credentials). */
  private async command<R>(name: string, key: string, run: () => Promise<R>): Promise<R> {
    try {
      return await run();
    } catch (e) {
      throw this.failure(name, key, e);
    }
  }

  private failure(name: string, key: string, e: unknown): SourceError {
    if (e instanceof SourceError) return e;
    return new SourceError(`${this.s.where}: ${name} on '${key}' at ${this.s.target.label} failed: ${safeMessage(e, this.s.target.secrets)}`);
  }
}
