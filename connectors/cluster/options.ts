/**
 * Options of `runPartitioned`, validated eagerly with messages naming the function.
 */
import type { PoolConfig } from 'pg';
import type { Pipeline } from '../../index.js';
import { PlanError } from '../../engine/errors.js';
import { DEFAULT_KEY_GROUPS } from '../../engine/key-groups.js';
import { type Duration, toMillis } from '../../engine/time.js';
import type { TableName } from '../postgres/sql.js';
import { type JetStreamConnection, type JetStreamConnectionOptions, connectionOf } from '../jetstream/connection.js';
import { checkPartitions } from './partitioning.js';

export const WHERE = 'tidemark.runPartitioned';

/** A pipeline module: adds sources, operators and sinks to `p` (the same module runs single- and multi-process). */
export type PartitionedModule = (p: Pipeline, args: unknown) => void | Promise<void>;

/** The shared checkpoint store (PostgreSQL): one lineage per partition, `<applicationId>/p<partition>`. */
export interface PartitionedCheckpointOptions {
  /** A connection string or `pg` pool config (default: `pg`'s environment variables). */
  readonly connection?: string | PoolConfig;
  /** The table (default `tidemark_checkpoints`). */
  readonly table?: TableName;
  /** Periodic checkpoints kept per partition (default 3). */
  readonly keep?: number;
  /** Take a checkpoint every `interval` (per task). */
  readonly interval?: Duration;
  /** Take a checkpoint every this many records (per task). */
  readonly everyRecords?: number;
}

/** Options of {@link runPartitioned}. */
export interface RunPartitionedOptions {
  /** The pipeline module; called once per task with a fresh `Pipeline` and `args`. */
  readonly module: PartitionedModule;
  readonly args?: unknown;
  /** The application: every instance with the same id shares its partitions (letters, digits, `-`, `_`). */
  readonly applicationId: string;
  /** The fixed partition count of the sources (a power of two dividing `keyGroups`). */
  readonly partitions: number;
  /** Key groups (default 128); producers must use the same (`partitionFor`). */
  readonly keyGroups?: number;
  /** The NATS server(s) holding the lease bucket (and the repartition streams). */
  readonly nats: JetStreamConnectionOptions;
  readonly checkpoints: PartitionedCheckpointOptions;
  /** How long a lease lasts without renewal (default 10 s); renewed every third of it. */
  readonly leaseTtl?: Duration;
  /** This instance's name (default: host, pid and a random suffix); unique among live instances. */
  readonly instanceId?: string;
  /** keyBy nodes (by name) whose key is not the sources' partition key: records go through a repartition stream. */
  readonly repartition?: readonly string[];
  /** JetStream's duplicate window of repartition streams (default 10 minutes): a replay within it is de-duplicated. */
  readonly repartitionDuplicateWindow?: Duration;
  /** Records per batch in every task (default 1024). */
  readonly batchSize?: number;
  /** Lease, task and membership events (claims, releases, takeovers, failures). */
  readonly onEvent?: (event: PartitionedEvent) => void;
}

/** What happened to a partition or to the membership. */
export type PartitionedEvent =
  | { readonly type: 'claimed'; readonly partition: number; readonly token: number }
  | { readonly type: 'started'; readonly partition: number; readonly token: number }
  /** A task's sub-topology (`lineage`) restored from `checkpoint` (undefined: it had none, and starts from the beginning). */
  | { readonly type: 'restored'; readonly partition: number; readonly lineage: string; readonly checkpoint: number | undefined }
  | { readonly type: 'finished'; readonly partition: number }
  | { readonly type: 'released'; readonly partition: number }
  | { readonly type: 'lost'; readonly partition: number; readonly reason: string }
  | { readonly type: 'fenced'; readonly partition: number; readonly error: unknown }
  | { readonly type: 'failed'; readonly partition: number; readonly error: unknown }
  | { readonly type: 'members'; readonly members: readonly string[] }
  | { readonly type: 'lease-error'; readonly error: unknown };

/** Validated checkpoint settings. */
export interface ResolvedCheckpoints {
  readonly store: { readonly connection?: string | PoolConfig; readonly table?: TableName; readonly keep?: number };
  readonly intervalMs: number | undefined;
  readonly everyRecords: number | undefined;
}

/** Validated options. */
export interface ResolvedOptions {
  readonly module: PartitionedModule;
  readonly args: unknown;
  readonly applicationId: string;
  readonly partitions: number;
  readonly keyGroups: number;
  readonly nats: JetStreamConnection;
  /** The connection options as given (for sources that take them). */
  readonly natsOptions: JetStreamConnectionOptions;
  readonly checkpoints: ResolvedCheckpoints;
  readonly leaseTtlMs: number;
  readonly instanceId: string;
  readonly repartition: readonly string[];
  readonly duplicateWindowMs: number;
  readonly batchSize: number | undefined;
  readonly onEvent: (event: PartitionedEvent) => void;
}

/** Validates `options` (throws a `PlanError` naming `tidemark.runPartitioned`). */
export function resolveOptions(o: RunPartitionedOptions, defaultInstance: string): ResolvedOptions {
  if (o === null || typeof o !== 'object') throw new PlanError(`${WHERE}: expected an options object`);
  if (typeof o.module !== 'function') throw new PlanError(`${WHERE}: module must be a function (p: Pipeline, args) => void | Promise<void>`);
  if (typeof o.applicationId !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(o.applicationId)) {
    throw new PlanError(`${WHERE}: applicationId must be 1–64 letters, digits, '-' or '_', got ${JSON.stringify(o.applicationId)}`);
  }
  const { partitions, keyGroups } = checkPartitions(o.partitions, o.keyGroups ?? DEFAULT_KEY_GROUPS, WHERE);
  if (o.nats === null || typeof o.nats !== 'object') throw new PlanError(`${WHERE}: nats must be connection options { servers, … }`);
  const nats = connectionOf(o.nats, `${WHERE}: nats`);
  const cp = o.checkpoints;
  if (cp === null || typeof cp !== 'object') throw new PlanError(`${WHERE}: checkpoints must be { connection?, table?, keep?, interval?, everyRecords? } (a PostgreSQL store shared by all instances)`);
  const intervalMs = cp.interval === undefined ? undefined : toMillis(cp.interval, `${WHERE}: checkpoints.interval`);
  if (intervalMs !== undefined && intervalMs <= 0) throw new PlanError(`${WHERE}: checkpoints.interval must be > 0`);
  if (cp.everyRecords !== undefined && (!Number.isSafeInteger(cp.everyRecords) || cp.everyRecords < 1)) throw new PlanError(`${WHERE}: checkpoints.everyRecords must be a positive integer`);
  if (intervalMs === undefined && cp.everyRecords === undefined) throw new PlanError(`${WHERE}: checkpoints needs interval or everyRecords (a takeover resumes from the last checkpoint)`);
  const leaseTtlMs = o.leaseTtl === undefined ? 10_000 : toMillis(o.leaseTtl, `${WHERE}: leaseTtl`);
  if (leaseTtlMs < 300) throw new PlanError(`${WHERE}: leaseTtl must be at least 300 ms, got ${leaseTtlMs} ms`);
  const instanceId = o.instanceId ?? defaultInstance;
  if (typeof instanceId !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(instanceId)) throw new PlanError(`${WHERE}: instanceId must be 1–128 letters, digits, '-' or '_'`);
  const repartition = o.repartition ?? [];
  if (!Array.isArray(repartition) || repartition.some((r) => typeof r !== 'string' || r.length === 0)) throw new PlanError(`${WHERE}: repartition must be a list of keyBy names`);
  const duplicateWindowMs = o.repartitionDuplicateWindow === undefined ? 600_000 : toMillis(o.repartitionDuplicateWindow, `${WHERE}: repartitionDuplicateWindow`);
  if (duplicateWindowMs < 1_000) throw new PlanError(`${WHERE}: repartitionDuplicateWindow must be at least 1 s`);
  if (o.batchSize !== undefined && (!Number.isSafeInteger(o.batchSize) || o.batchSize < 1)) throw new PlanError(`${WHERE}: batchSize must be a positive integer`);
  if (o.onEvent !== undefined && typeof o.onEvent !== 'function') throw new PlanError(`${WHERE}: onEvent must be a function`);
  const listener = o.onEvent;
  return {
    module: o.module, args: o.args, applicationId: o.applicationId, partitions, keyGroups, nats, natsOptions: o.nats,
    checkpoints: {
      store: { ...(cp.connection === undefined ? {} : { connection: cp.connection }), ...(cp.table === undefined ? {} : { table: cp.table }), ...(cp.keep === undefined ? {} : { keep: cp.keep }) },
      intervalMs, everyRecords: cp.everyRecords,
    },
    leaseTtlMs, instanceId, repartition: [...repartition], duplicateWindowMs, batchSize: o.batchSize,
    onEvent: (e) => {
      try {
        listener?.(e);
      } catch {
        // a listener's error must not disturb the run
      }
    },
  };
}
