/**
 * `log.source(…)`: the event log as a partitioned pipeline source. Each log partition is a
 * source partition (its own watermark; the source's is their minimum). A run starts from an
 * offset, a timestamp, or a named consumer's committed offsets; the consumer's offsets are
 * committed after chunks have been processed downstream (`reader.ack`). Consumer lag is
 * measured as the pipeline reads, and a lag objective reports breaches and recoveries.
 *
 * The source is replayable: every records and dead-letters chunk carries the position after it,
 * `{ [partition]: next offset }` for every partition the source reads, and a restored run
 * (`ctx.resume`) continues each partition right after its saved offset. Where a run starts, per
 * partition: the checkpoint's position, else the consumer's committed offset, else `from`. The
 * reader keeps one batch read ahead per partition and hands out the one that starts with the
 * smallest timestamp, so a resumed read hands out records in the same order as an uninterrupted
 * one (and a restored pipeline's output is the same, not merely the same set).
 *
 * A committed offset covers what left the pipeline, not records held in window state: after a
 * restart from committed offsets, windows that were open are rebuilt only from records after the
 * commit. Checkpoints make a restart exact; consumer commits stay at-least-once bookkeeping
 * (progress and lag for operators), and a restore never reads them.
 */
import { PlanError, SourceError } from '../../engine/errors.js';
import type { Source, SourceChunk, SourceDeadLetter, SourceReader } from '../../engine/source.js';
import { type Duration, toMillis } from '../../engine/time.js';
import { checkConsumer } from './consumers.js';
import type { CursorProblem, LogRecord, PartitionCursor } from './cursor.js';
import type { EventLog } from './event-log.js';
import { type StartFrom, checkFrom } from './options.js';

/** A lag a consumer must stay within; exceeding either bound is a breach. */
export interface LagObjective {
  /** Records behind the head, summed over partitions. */
  readonly maxRecords?: number;
  /** Event time behind the head (the largest over partitions). */
  readonly maxEventTime?: Duration;
}

/** A lag objective was breached, or the lag is back within it. */
export interface LagEvent {
  readonly kind: 'breach' | 'recovered';
  readonly consumer: string | undefined;
  /** Records behind the head, summed over partitions. */
  readonly records: number;
  /** Event time behind the head, in ms (largest over partitions). */
  readonly eventTime: number;
  readonly objective: { readonly maxRecords?: number; readonly maxEventTime?: number };
  readonly partitions: readonly { readonly partition: number; readonly records: number; readonly eventTime: number }[];
}

/** Options of `log.source`. */
export interface LogSourceOptions {
  /**
   * Where to start (default `'earliest'`). With `consumer`, partitions the consumer has
   * committed start at its offsets and `from` applies to the others. A run restored from a
   * checkpoint ignores both for the partitions the checkpoint saved: it continues right after
   * the saved offsets.
   */
  readonly from?: StartFrom;
  /** A named consumer: resume from its committed offsets and commit as the pipeline goes. */
  readonly consumer?: string;
  /** Wait for new records at the head instead of ending the run there (default false). */
  readonly follow?: boolean;
  /**
   * Commit the consumer's offsets after processed chunks (default true with `consumer`). Window
   * state is not covered: only checkpoints make a restart exact (a restored run starts from the
   * checkpoint's offsets, not the consumer's).
   */
  readonly autoCommit?: boolean;
  /** Least milliseconds between auto-commits (default 1000; 0 commits after every chunk). The last position is always committed when the run ends. */
  readonly commitIntervalMs?: number;
  /** The lag this consumer must stay within. */
  readonly lagObjective?: LagObjective;
  /** Called on a breach of `lagObjective` and when the lag is back within it. */
  readonly onLag?: (event: LagEvent) => void;
  /** Where breaches and recoveries are logged (default `console.warn`). */
  readonly logger?: (message: string) => void;
}

/** Builds the source of `log.source(options)`. */
export function logSource<V>(log: EventLog<V>, options: LogSourceOptions): Source<LogRecord<V>> {
  const where = 'tidemark.EventLog.source';
  if (options === null || typeof options !== 'object') throw new PlanError(`${where}: options must be an object`);
  const from = checkFrom(options.from ?? 'earliest', log.partitions, where);
  const consumer = options.consumer === undefined ? undefined : checkConsumer(options.consumer, where);
  if (options.follow !== undefined && typeof options.follow !== 'boolean') throw new PlanError(`${where}: follow must be a boolean`);
  if (options.autoCommit !== undefined && typeof options.autoCommit !== 'boolean') throw new PlanError(`${where}: autoCommit must be a boolean`);
  if (options.autoCommit === true && consumer === undefined) throw new PlanError(`${where}: autoCommit needs a consumer name`);
  const interval = options.commitIntervalMs ?? 1000;
  if (!Number.isInteger(interval) || interval < 0) throw new PlanError(`${where}: commitIntervalMs must be a non-negative integer, got ${String(interval)}`);
  const objective = checkObjective(options.lagObjective, where);
  if (options.onLag !== undefined && typeof options.onLag !== 'function') throw new PlanError(`${where}: onLag must be a function`);
  if (options.logger !== undefined && typeof options.logger !== 'function') throw new PlanError(`${where}: logger must be a function`);
  const autoCommit = consumer !== undefined && options.autoCommit !== false;
  const follow = options.follow === true;
  const logger = options.logger ?? ((m: string) => console.warn(m));
  const partitions = typeof from === 'object' && !('timestamp' in from) ? Object.keys(from).map(Number) : Array.from({ length: log.partitions }, (_, i) => i);

  return {
    kind: 'event-log',
    providesTimestamps: true,
    providesWatermarks: false,
    replayable: true,
    open(ctx): SourceReader<LogRecord<V>> {
      const resume = ctx.resume === undefined ? undefined : resumeOffsets(ctx.resume, log, partitions, where);
      let cursors: PartitionCursor[] | undefined;
      /** The position after the last chunk handed out: next offset per partition read. */
      let position: Record<number, number> = {};
      /** Per cursor: its next batch, read ahead and not handed out yet. */
      let ahead: (Batch<V> | undefined)[] = [];
      /** Per cursor: the log's append version when it was last found at the head (not read again until it changes). */
      let atHead: number[] = [];
      let closed = false;
      let wakeClosed: () => void = () => undefined;
      const closing = new Promise<void>((r) => (wakeClosed = r));
      /** Chunks of the batch being handed out (records and dead letters, in offset order). */
      let queued: Pending<V>[] = [];
      let queuedPartition = 0;
      const lag = new Map<number, { records: number; eventTime: number }>();
      const acked = new Map<number, number>();
      let ackedDirty = false;
      let lastCommit = Date.now();
      let breached = false;
      let paused: ReadonlySet<number> = new Set();
      const stats = { lagBreaches: 0, lagRecoveries: 0, lagRecords: 0, lagEventTime: 0, commits: 0 };

      const evaluate = (): void => {
        let records = 0;
        let eventTime = 0;
        for (const l of lag.values()) {
          records += l.records;
          if (l.eventTime > eventTime) eventTime = l.eventTime;
        }
        stats.lagRecords = records;
        stats.lagEventTime = eventTime;
        if (objective === undefined) return;
        const now = (objective.maxRecords !== undefined && records > objective.maxRecords)
          || (objective.maxEventTime !== undefined && eventTime > objective.maxEventTime);
        if (now === breached) return;
        breached = now;
        if (now) stats.lagBreaches++;
        else stats.lagRecoveries++;
        const event: LagEvent = {
          kind: now ? 'breach' : 'recovered', consumer, records, eventTime, objective,
          partitions: [...lag].map(([partition, l]) => ({ partition, ...l })),
        };
        logger(`tidemark: event log ${consumer === undefined ? 'source' : `consumer '${consumer}'`} ${now ? 'breached its lag objective' : 'is back within its lag objective'}: ${records} records and ${eventTime} ms of event time behind the head (objective ${describeObjective(objective)})`);
        options.onLag?.(event);
      };

      const commit = async (): Promise<void> => {
        if (consumer === undefined || !ackedDirty) return;
        ackedDirty = false;
        lastCommit = Date.now();
        await log.commit(consumer, Object.fromEntries(acked));
        stats.commits++;
      };

      const init = async (): Promise<PartitionCursor[]> => {
        // Precedence per partition: the checkpoint's position, the consumer's offsets, `from`.
        const committed = consumer === undefined ? undefined : await log.consumerStore.load(consumer);
        const starts = committed === undefined && resume === undefined ? undefined : { ...committed, ...resume };
        const cs = await log.cursors(from, starts);
        for (const c of cs) position[c.partition] = c.position;
        return cs;
      };

      /** Reads a batch into `ahead` for every cursor without one (unless it is still at the head). */
      const fill = async (cs: readonly PartitionCursor[]): Promise<void> => {
        for (let i = 0; i < cs.length; i++) {
          if (ahead[i] !== undefined || atHead[i] === log.appendVersion) continue;
          const c = cs[i] as PartitionCursor;
          const part = log.partitionAt(c.partition);
          const version = log.appendVersion;
          const { records, problems } = await c.read(ctx.batchSize);
          if (records.length === 0 && problems.length === 0) {
            atHead[i] = version;
            lag.set(part.id, { records: 0, eventTime: 0 });
            continue;
          }
          const first = records[0];
          if (first !== undefined) lag.set(part.id, { records: Math.max(0, part.head - first.offset), eventTime: Math.max(0, part.headTs - first.timestamp) });
          ahead[i] = { chunks: chunksOf(records as LogRecord<V>[], problems, c.position), time: first?.timestamp ?? -Infinity };
        }
      };

      /**
       * The cursor whose read-ahead batch starts with the smallest timestamp (ties: the lower
       * partition) — those paused by watermark alignment only when no other has records. The
       * choice depends only on the log's contents and the positions, so a resumed read hands out
       * records in the same order as an uninterrupted one (and partitions advance together in
       * event time, as Kafka Streams picks the partition with the smallest head timestamp).
       */
      const pick = (cs: readonly PartitionCursor[]): number => {
        let best = -1;
        let bestPaused = true;
        for (let i = 0; i < cs.length; i++) {
          const b = ahead[i];
          if (b === undefined) continue;
          const isPaused = paused.has((cs[i] as PartitionCursor).partition);
          const better = best < 0 || (bestPaused && !isPaused)
            || (bestPaused === isPaused && b.time < (ahead[best] as Batch<V>).time);
          if (better) {
            best = i;
            bestPaused = isPaused;
          }
        }
        return best;
      };

      /** Hands out the next queued chunk with the position after it. */
      const handOut = (): SourceChunk<LogRecord<V>> | undefined => {
        const q = queued.shift();
        if (q === undefined) return undefined;
        position = { ...position, [queuedPartition]: q.next };
        return { ...q.chunk, position };
      };

      const read = async (): Promise<SourceChunk<LogRecord<V>> | null> => {
        if (cursors === undefined) {
          cursors = await init();
          ahead = cursors.map(() => undefined);
          atHead = cursors.map(() => -1);
        }
        const cs = cursors;
        for (;;) {
          const seen = log.appendVersion;
          await fill(cs);
          evaluate();
          const i = pick(cs);
          if (i >= 0) {
            queued = (ahead[i] as Batch<V>).chunks;
            queuedPartition = (cs[i] as PartitionCursor).partition;
            ahead[i] = undefined;
            return handOut() as SourceChunk<LogRecord<V>>;
          }
          if (!follow || closed || log.isClosed) return null;
          if (log.appendVersion === seen) await Promise.race([log.nextAppend(), closing]);
          if (closed || log.isClosed) return null;
        }
      };

      return {
        partitions,
        next() {
          return handOut() ?? read();
        },
        async ack(chunk) {
          if (chunk.kind === 'records' && chunk.partition !== undefined) {
            const last = chunk.values[chunk.values.length - 1];
            if (last !== undefined) acked.set(chunk.partition, last.offset + 1);
            ackedDirty = true;
          } else if (chunk.kind === 'dead-letters') {
            for (const l of chunk.letters) {
              const pos = l.position as { partition?: unknown; offset?: unknown } | undefined;
              if (typeof pos?.partition === 'number' && typeof pos.offset === 'number') {
                acked.set(pos.partition, Math.max(acked.get(pos.partition) ?? 0, pos.offset + 1));
                ackedDirty = true;
              }
            }
          } else return;
          if (autoCommit && (interval === 0 || Date.now() - lastCommit >= interval)) await commit();
        },
        pause(partitions) {
          paused = partitions;
        },
        stats() {
          return { ...stats };
        },
        async close() {
          closed = true;
          wakeClosed();
          const cs = cursors ?? [];
          cursors = [];
          await Promise.all(cs.map((c) => c.close().catch(() => undefined)));
          if (autoCommit && !log.isClosed) await commit();
        },
      };
    },
  };
}

/** A chunk of a read-ahead batch and the partition's next offset once it is handed out. */
interface Pending<V> {
  readonly chunk: Extract<SourceChunk<LogRecord<V>>, { kind: 'records' | 'dead-letters' }>;
  readonly next: number;
}

/** One partition's read-ahead batch, split into chunks, and the timestamp it starts with. */
interface Batch<V> {
  readonly chunks: Pending<V>[];
  readonly time: number;
}

/**
 * Splits one cursor batch into chunks in offset order — a problem at offset `o` comes before the
 * records from `o` on — each with the partition's next offset after it: the first offset of the
 * next chunk, or `end` (the cursor's next offset) after the last. A checkpoint between two of
 * them then resumes exactly at the second (a dead letter is re-read and reported once).
 */
function chunksOf<V>(records: LogRecord<V>[], problems: readonly CursorProblem[], end: number): Pending<V>[] {
  const partition = records[0]?.partition ?? problems[0]?.partition;
  const recordsChunk = (values: LogRecord<V>[]): Pending<V>['chunk'] => ({ kind: 'records', values, timestamps: values.map((v) => v.timestamp), partition: partition as number });
  if (problems.length === 0) return [{ chunk: recordsChunk(records), next: end }];
  const out: Pending<V>[] = [];
  let r = 0;
  let q = 0;
  const problemNext = (): boolean => q < problems.length && (r >= records.length || (problems[q] as CursorProblem).offset <= (records[r] as LogRecord<V>).offset);
  while (r < records.length || q < problems.length) {
    if (problemNext()) {
      const from = q;
      while (problemNext()) q++;
      const next = r < records.length ? (records[r] as LogRecord<V>).offset : end;
      out.push({ chunk: { kind: 'dead-letters', letters: problems.slice(from, q).map(letter) }, next });
    } else {
      const from = r;
      while (r < records.length && !problemNext()) r++;
      const next = q < problems.length ? (problems[q] as CursorProblem).offset : end;
      out.push({ chunk: recordsChunk(records.slice(from, r)), next });
    }
  }
  return out;
}

/**
 * Checks a checkpoint's position (`{ [partition]: next offset }`) against the log: offsets for
 * partitions the source does not read are ignored; an offset past the head is an error (the log
 * lost records the checkpointed run had read); one below the retained start fails later with
 * `LogTruncatedError`.
 */
function resumeOffsets(saved: unknown, log: EventLog<unknown>, read: readonly number[], where: string): Record<number, number> {
  const bad = (why: string): never => {
    throw new SourceError(`${where}: cannot resume from the checkpoint's position ${describePosition(saved)}: ${why}`);
  };
  if (saved === null || typeof saved !== 'object' || Array.isArray(saved)) return bad('it is not an event log position ({ [partition]: offset })');
  const out: Record<number, number> = {};
  const heads = log.heads();
  for (const [k, v] of Object.entries(saved as Record<string, unknown>)) {
    const p = Number(k);
    const offset = typeof v === 'bigint' ? Number(v) : v;
    if (!Number.isInteger(p) || p < 0) bad(`'${k}' is not a partition`);
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) bad(`the offset for partition ${k} is not a non-negative integer`);
    if (!read.includes(p)) continue; // a partition this source (as configured now) does not read
    const head = heads[p] as number;
    if ((offset as number) > head) {
      bad(`partition ${p} was read up to offset ${String(offset)}, but the log now ends at ${head} — it lost records the checkpointed run had read (replaced, or unsynced appends lost in a machine crash)`);
    }
    out[p] = offset as number;
  }
  return out;
}

function describePosition(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x)) ?? String(v);
  } catch {
    return String(v);
  }
}

function letter(p: CursorProblem): SourceDeadLetter {
  return { value: p.raw, reason: p.reason, position: { partition: p.partition, offset: p.offset, segment: p.segment, byte: p.position } };
}

function checkObjective(o: LagObjective | undefined, where: string): { maxRecords?: number; maxEventTime?: number } | undefined {
  if (o === undefined) return undefined;
  if (o === null || typeof o !== 'object') throw new PlanError(`${where}: lagObjective must be { maxRecords?, maxEventTime? }`);
  if (o.maxRecords === undefined && o.maxEventTime === undefined) throw new PlanError(`${where}: lagObjective needs maxRecords and/or maxEventTime`);
  if (o.maxRecords !== undefined && (!Number.isInteger(o.maxRecords) || o.maxRecords < 0)) {
    throw new PlanError(`${where}: lagObjective.maxRecords must be a non-negative integer, got ${String(o.maxRecords)}`);
  }
  const maxEventTime = o.maxEventTime === undefined ? undefined : toMillis(o.maxEventTime, `${where}: lagObjective.maxEventTime`);
  return { ...(o.maxRecords === undefined ? {} : { maxRecords: o.maxRecords }), ...(maxEventTime === undefined ? {} : { maxEventTime }) };
}

function describeObjective(o: { maxRecords?: number; maxEventTime?: number }): string {
  return [o.maxRecords === undefined ? '' : `≤ ${o.maxRecords} records`, o.maxEventTime === undefined ? '' : `≤ ${o.maxEventTime} ms`].filter((s) => s !== '').join(', ');
}
