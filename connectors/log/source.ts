/**
 * `log.source(…)`: the event log as a partitioned pipeline source. Each log partition is a
 * source partition (its own watermark; the source's is their minimum). A run starts from an
 * offset, a timestamp, or a named consumer's committed offsets; the consumer's offsets are
 * committed after chunks have been processed downstream (`reader.ack`). Consumer lag is
 * measured as the pipeline reads, and a lag objective reports breaches and recoveries.
 *
 * A committed offset covers what left the pipeline, not records held in window state: after a
 * restart from committed offsets, windows that were open are rebuilt only from records after the
 * commit. Resuming windows exactly needs checkpoints (issue 5), which will store these offsets.
 */
import { PlanError } from '../../engine/errors.js';
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
   * committed start at its offsets and `from` applies to the others.
   */
  readonly from?: StartFrom;
  /** A named consumer: resume from its committed offsets and commit as the pipeline goes. */
  readonly consumer?: string;
  /** Wait for new records at the head instead of ending the run there (default false). */
  readonly follow?: boolean;
  /**
   * Commit the consumer's offsets after processed chunks (default true with `consumer`). Window
   * state is not covered: only checkpoints (issue 5) make a restart exact.
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
    open(ctx): SourceReader<LogRecord<V>> {
      let cursors: PartitionCursor[] | undefined;
      let rr = 0;
      let closed = false;
      let wakeClosed: () => void = () => undefined;
      const closing = new Promise<void>((r) => (wakeClosed = r));
      let stash: SourceChunk<LogRecord<V>> | undefined;
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
        const committed = consumer === undefined ? undefined : await log.consumerStore.load(consumer);
        return log.cursors(from, committed);
      };

      const read = async (): Promise<SourceChunk<LogRecord<V>> | null> => {
        cursors ??= await init();
        const cs = cursors;
        for (;;) {
          const seen = log.appendVersion;
          // Round robin over the partitions; those paused by watermark alignment come last, read
          // only when no other partition has records.
          const order: number[] = [];
          for (let k = 0; k < cs.length; k++) {
            const i = (rr + k) % cs.length;
            if (!paused.has((cs[i] as PartitionCursor).partition)) order.push(i);
          }
          for (let k = 0; k < cs.length; k++) {
            const i = (rr + k) % cs.length;
            if (paused.has((cs[i] as PartitionCursor).partition)) order.push(i);
          }
          for (const i of order) {
            const c = cs[i] as PartitionCursor;
            const part = log.partitionAt(c.partition);
            const { records, problems } = await c.read(ctx.batchSize);
            const p = part.id;
            if (records.length === 0 && problems.length === 0) {
              lag.set(p, { records: 0, eventTime: 0 });
              continue;
            }
            rr = i + 1;
            const first = records[0];
            if (first !== undefined) lag.set(p, { records: Math.max(0, part.head - first.offset), eventTime: Math.max(0, part.headTs - first.timestamp) });
            evaluate();
            const chunk: SourceChunk<LogRecord<V>> | undefined = records.length === 0 ? undefined : {
              kind: 'records', values: records as LogRecord<V>[], timestamps: records.map((r) => r.timestamp), partition: p,
            };
            if (problems.length === 0) return chunk as SourceChunk<LogRecord<V>>;
            stash = chunk;
            return { kind: 'dead-letters', letters: problems.map(letter) };
          }
          evaluate();
          if (!follow || closed || log.isClosed) return null;
          if (log.appendVersion === seen) await Promise.race([log.nextAppend(), closing]);
          if (closed || log.isClosed) return null;
        }
      };

      return {
        partitions,
        next() {
          if (stash !== undefined) {
            const s = stash;
            stash = undefined;
            return s;
          }
          return read();
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
