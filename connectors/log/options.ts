/**
 * Options of `EventLog.open`, validated eagerly (messages name `tidemark.EventLog.open`), and
 * the start positions readers and sources accept.
 */
import { PlanError } from '../../engine/errors.js';
import { type Duration, toMillis } from '../../engine/time.js';
import type { FsyncPolicy, RetentionRule } from './partition.js';

/**
 * What the log keeps: everything (`'forever'`, the default), the latest record per key
 * (`'compacted'`; a `null` value is a tombstone), or sealed segments within an age (measured by
 * the segment's largest record timestamp against the wall clock) and/or a total size per
 * partition. The active segment is never removed.
 */
export type Retention = 'forever' | 'compacted' | { readonly maxAge?: Duration; readonly maxBytes?: number };

/** Options of `EventLog.open`. */
export interface EventLogOptions {
  /** Number of partitions (default 1). Fixed when the log is created; reopening with another number fails. */
  readonly partitions?: number;
  /**
   * When `append` resolves: `'always'` after `fdatasync` (concurrent appends share one write and
   * one sync), `'interval'` after the write, with a sync every `fsyncIntervalMs` (default), or
   * `'never'` after the write (the OS decides).
   */
  readonly fsync?: FsyncPolicy;
  /** Milliseconds between syncs under `fsync: 'interval'` (default 1000). */
  readonly fsyncIntervalMs?: number;
  /** What the log keeps (default `'forever'`). */
  readonly retention?: Retention;
  /** Segment size before rolling to a new one (default 64 MiB). */
  readonly segmentBytes?: number;
  /** Bytes between sparse index entries (default 4096). */
  readonly indexIntervalBytes?: number;
  /**
   * Largest encoded record (key + value) `append` accepts (default 1 MiB). Readers enforce it
   * too: a larger record on disk (written under a larger limit, or a corrupt length) is an
   * error from `read()` and a dead letter from `source()`, with its position.
   */
  readonly maxRecordBytes?: number;
  /**
   * With `retention: 'compacted'`: how long a tombstone (a `null` value) is kept after it was
   * written, in event time — it is dropped when compaction rewrites its segment and the
   * partition's newest record is more than this later (default one day, `'P1D'`). Consumers
   * that are less than this far behind see every delete.
   */
  readonly tombstoneRetention?: Duration;
  /**
   * With `retention: 'compacted'`: the least share of dead records (superseded by a later record
   * of the same key), from 0 to 1, that makes a sealed segment worth rewriting (default 0.5).
   */
  readonly minDirtyRatio?: number;
}

/** Options after validation. */
export interface ResolvedOptions {
  readonly partitions: number;
  readonly fsync: FsyncPolicy;
  readonly fsyncIntervalMs: number;
  readonly retention: RetentionRule;
  readonly segmentBytes: number;
  readonly indexIntervalBytes: number;
  readonly maxRecordBytes: number;
}

const WHERE = 'tidemark.EventLog.open';

function positiveInt(v: unknown, name: string, dflt: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new PlanError(`${WHERE}: ${name} must be an integer from 1 to ${max}, got ${String(v)}`);
  }
  return v;
}

/** Validates `EventLog.open` options. */
export function resolveOptions(options: EventLogOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new PlanError(`${WHERE}: options must be an object`);
  const fsync = options.fsync ?? 'interval';
  if (fsync !== 'always' && fsync !== 'interval' && fsync !== 'never') {
    throw new PlanError(`${WHERE}: fsync must be 'always', 'interval' or 'never', got ${String(fsync)}`);
  }
  return {
    partitions: positiveInt(options.partitions, 'partitions', 1, 4096),
    fsync,
    fsyncIntervalMs: positiveInt(options.fsyncIntervalMs, 'fsyncIntervalMs', 1000),
    retention: resolveRetention(options.retention ?? 'forever', options),
    segmentBytes: positiveInt(options.segmentBytes, 'segmentBytes', 64 << 20, 2 ** 31),
    indexIntervalBytes: positiveInt(options.indexIntervalBytes, 'indexIntervalBytes', 4096),
    maxRecordBytes: positiveInt(options.maxRecordBytes, 'maxRecordBytes', 1 << 20, 2 ** 30),
  };
}

const DAY_MS = 86_400_000;

function resolveRetention(r: Retention, options: EventLogOptions): RetentionRule {
  if (r !== 'compacted') {
    for (const name of ['tombstoneRetention', 'minDirtyRatio'] as const) {
      if (options[name] !== undefined) throw new PlanError(`${WHERE}: ${name} applies only to retention: 'compacted'`);
    }
  }
  if (r === 'forever') return { kind: 'forever', describe: 'forever' };
  if (r === 'compacted') {
    const tombstoneRetentionMs = options.tombstoneRetention === undefined ? DAY_MS : toMillis(options.tombstoneRetention, `${WHERE}: tombstoneRetention`);
    if (!(tombstoneRetentionMs >= 0)) throw new PlanError(`${WHERE}: tombstoneRetention must not be negative`);
    const minDirtyRatio = options.minDirtyRatio ?? 0.5;
    if (typeof minDirtyRatio !== 'number' || !(minDirtyRatio >= 0 && minDirtyRatio <= 1)) {
      throw new PlanError(`${WHERE}: minDirtyRatio must be a number from 0 to 1, got ${String(minDirtyRatio)}`);
    }
    return { kind: 'compacted', describe: 'compacted', compaction: { tombstoneRetentionMs, minDirtyRatio } };
  }
  if (r === null || typeof r !== 'object') {
    throw new PlanError(`${WHERE}: retention must be 'forever', 'compacted' or { maxAge?, maxBytes? }, got ${String(r)}`);
  }
  const maxAgeMs = r.maxAge === undefined ? undefined : toMillis(r.maxAge, `${WHERE}: retention.maxAge`);
  if (maxAgeMs !== undefined && maxAgeMs < 0) throw new PlanError(`${WHERE}: retention.maxAge must not be negative`);
  const maxBytes = r.maxBytes === undefined ? undefined : positiveInt(r.maxBytes, 'retention.maxBytes', 0);
  if (maxAgeMs === undefined && maxBytes === undefined) {
    throw new PlanError(`${WHERE}: retention needs maxAge and/or maxBytes (or use 'forever' / 'compacted')`);
  }
  const parts = [...(maxAgeMs === undefined ? [] : [`age > ${maxAgeMs} ms`]), ...(maxBytes === undefined ? [] : [`size > ${maxBytes} bytes`])];
  return { kind: 'limits', ...(maxAgeMs === undefined ? {} : { maxAgeMs }), ...(maxBytes === undefined ? {} : { maxBytes }), describe: parts.join(', ') };
}

/**
 * Where a read starts: the earliest retained record, the current head (only new records), one
 * offset (single-partition logs), an offset per partition (`{ 0: 120, 3: 7 }`: only the listed
 * partitions are read), or the first record at or after a timestamp in every partition.
 */
export type StartFrom = 'earliest' | 'latest' | number | { readonly [partition: number]: number } | { readonly timestamp: number };

/** Checks a `from` option against `partitions`; returns it normalised. */
export function checkFrom(from: unknown, partitions: number, where: string): StartFrom {
  if (from === 'earliest' || from === 'latest') return from;
  if (typeof from === 'number') {
    if (!Number.isSafeInteger(from) || from < 0) throw new PlanError(`${where}: from offset must be a non-negative integer, got ${from}`);
    if (partitions !== 1) throw new PlanError(`${where}: the log has ${partitions} partitions; give offsets per partition as { [partition]: offset }`);
    return from;
  }
  if (from !== null && typeof from === 'object') {
    const o = from as Record<string, unknown>;
    if ('timestamp' in o) {
      if (typeof o['timestamp'] !== 'number' || !Number.isFinite(o['timestamp'])) throw new PlanError(`${where}: from.timestamp must be a finite number (epoch ms)`);
      return { timestamp: o['timestamp'] };
    }
    const out: Record<number, number> = {};
    for (const [k, v] of Object.entries(o)) {
      const p = Number(k);
      if (!Number.isInteger(p) || p < 0 || p >= partitions) throw new PlanError(`${where}: from names partition '${k}', but the log has partitions 0..${partitions - 1}`);
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new PlanError(`${where}: from[${k}] must be a non-negative integer offset, got ${String(v)}`);
      out[p] = v;
    }
    return out;
  }
  throw new PlanError(`${where}: from must be 'earliest', 'latest', an offset, { [partition]: offset } or { timestamp }, got ${String(from)}`);
}
