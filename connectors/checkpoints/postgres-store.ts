/**
 * Checkpoints in a PostgreSQL table, for processes without a durable local disk. One row per
 * checkpoint — `(application, id, type, taken_at, bytes, created_at)` — where `bytes` is the
 * shared checkpoint format (header, CRC-32, msgpack body; see `codec.ts`), so a row that was
 * modified or truncated is refused exactly like a corrupt file. A checkpoint is written in one
 * transaction: the insert and the pruning of older periodic checkpoints commit together, so a
 * crash leaves the previous checkpoints intact and this one absent. Several applications share a
 * table; each sees only its own rows.
 *
 * Fencing (`fence`, used by multi-process runs): the store's first read advances the scope's row
 * in `tidemark_fences` to its token, and every write checks it in the write's transaction, so a
 * store whose owner was superseded can no longer write (see `connectors/postgres/fence.ts`).
 */
import pg from 'pg';
import { inTransaction } from '../postgres/transaction.js';
import { type Checkpoint, type CheckpointInfo, CheckpointError, type CheckpointStore, PlanError } from '../../index.js';
import { scrub, secretsOf } from '../postgres/errors.js';
import { quoteTable, type TableName } from '../postgres/sql.js';
import { decodeCheckpoint, encodeCheckpoint, stateEncoder } from './codec.js';
import { FencedError, checkFence, isConcurrentCreate, enforceFence, fenceTableDdl, fenceTableFor } from '../postgres/fence.js';
import type { FenceToken } from '../../engine/sink.js';

/** Options of `postgresCheckpoints`. */
export interface PostgresCheckpointOptions {
  /**
   * A connection string (`postgres://user@host:5432/db`) or a `pg` pool config; omitted: `pg`'s
   * environment variables (`PGHOST`, `PGUSER`, `PGPASSWORD`…). Never appears in errors or logs.
   */
  readonly connection?: string | pg.PoolConfig;
  /** The table (created if missing; default `tidemark_checkpoints`): one identifier, or `{ schema, name }`. */
  readonly table?: TableName;
  /** Whose checkpoints these are: a name unique to the pipeline (several may share the table). */
  readonly application: string;
  /** Periodic checkpoints to keep per application (default 3; savepoints are always kept). */
  readonly keep?: number;
  /**
   * Fencing: the first read (`latest`, `load`, `list`) advances the scope's fence row to `token`
   * (refused if a newer token holds it), and every `write` is refused with a `FencedError` once a
   * newer token has advanced it. Set by multi-process runs (`runPartitioned`), one per partition.
   */
  readonly fence?: FenceToken;
}

const WHERE = 'tidemark.postgresCheckpoints';

/**
 * A checkpoint store in PostgreSQL.
 *
 * @example
 * const p = new Pipeline({ checkpoints: {
 *   store: postgresCheckpoints({ connection: process.env.DATABASE_URL, application: 'sessions' }),
 *   interval: '10s',
 * } });
 */
export function postgresCheckpoints(options: PostgresCheckpointOptions): CheckpointStore {
  if (options === null || typeof options !== 'object') throw new PlanError(`${WHERE}: expected options { connection?, table?, application, keep? }`);
  const { connection, application } = options;
  if (connection !== undefined && typeof connection !== 'string' && (connection === null || typeof connection !== 'object')) {
    throw new PlanError(`${WHERE}: connection must be a connection string or a pg pool config`);
  }
  if (typeof application !== 'string' || application.length === 0) throw new PlanError(`${WHERE}: application must be a non-empty string`);
  const keep = options.keep ?? 3;
  if (!Number.isSafeInteger(keep) || keep < 1) throw new PlanError(`${WHERE}: keep must be a positive integer, got ${String(options.keep)}`);
  const table = quoteTable(options.table ?? 'tidemark_checkpoints', WHERE);
  const secrets = secretsOf(connection);
  const config: pg.PoolConfig = typeof connection === 'string' ? { connectionString: connection } : { ...(connection ?? {}) };
  config.max ??= 2;
  const fence = checkFence(options.fence, WHERE);
  const fences = fenceTableFor(options.table ?? 'tidemark_checkpoints', WHERE);
  let fenced: Promise<void> | undefined;

  let pool: pg.Pool | undefined;
  let ready: Promise<void> | undefined;
  const fail = (what: string, e: unknown): never => {
    if (e instanceof CheckpointError || e instanceof FencedError) throw e;
    const err = e as { message?: unknown; code?: unknown } | null;
    const message = typeof err?.message === 'string' ? err.message : String(e);
    const code = typeof err?.code === 'string' ? ` (${err.code})` : '';
    // the driver's error is not attached: it may carry the connection parameters
    throw new CheckpointError(scrub(`${WHERE}: ${what} failed: ${message}${code}`, secrets));
  };
  const location = (id: number): string => `postgres:${table}/${application}/${id}`;

  const getPool = (): pg.Pool => {
    if (pool === undefined) {
      pool = new pg.Pool(config);
      pool.on('error', () => undefined); // an idle connection that breaks: the next query reports it
    }
    return pool;
  };
  const ddls = [
    `CREATE TABLE IF NOT EXISTS ${table} (application text NOT NULL, id bigint NOT NULL, `
      + `type text NOT NULL CHECK (type IN ('checkpoint', 'savepoint')), taken_at double precision NOT NULL, `
      + `bytes bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (application, id))`,
    ...(fence === undefined ? [] : [fenceTableDdl(fences)]),
  ];
  const ensureTable = (): Promise<void> => {
    ready ??= (async () => {
      for (const ddl of ddls) {
        // two stores creating a table at once: the loser sees a unique violation on pg_type (or a duplicate type)
        await getPool().query(ddl).catch((e: unknown) => {
          if (!isConcurrentCreate(e)) throw e;
        });
      }
    })().catch((e: unknown) => {
      ready = undefined;
      fail(`creating table ${table}`, e);
    });
    return ready;
  };
  /** Creates the table; with a fence, also advances the scope's row to this store's token (once, before the first read). */
  const claimFence = (): Promise<void> => {
    if (fence === undefined) return ensureTable();
    fenced ??= (async () => {
      await ensureTable();
      await inTransaction(await getPool().connect(), (c) => enforceFence(c, fences, fence, true, `${WHERE}: taking over '${application}'`));
    })().catch((e: unknown) => {
      fenced = undefined;
      throw e;
    });
    return fenced;
  };
  const query = async <R extends pg.QueryResultRow>(what: string, sql: string, params: unknown[]): Promise<pg.QueryResult<R>> => {
    try {
      await claimFence();
      return await getPool().query<R>(sql, params);
    } catch (e) {
      return fail(what, e);
    }
  };
  const decodeRow = (row: { id: string; bytes: Buffer } | undefined, id?: number): Checkpoint | undefined => {
    if (row === undefined) return undefined;
    const where = location(Number(row.id));
    const checkpoint = decodeCheckpoint(new Uint8Array(row.bytes.buffer, row.bytes.byteOffset, row.bytes.byteLength), where);
    if (checkpoint.id !== Number(row.id) || (id !== undefined && checkpoint.id !== id)) {
      throw new CheckpointError(`checkpoint ${where} is refused: it holds checkpoint ${checkpoint.id}, not ${row.id}`);
    }
    return checkpoint;
  };

  return {
    kind: 'postgres',
    encodeState: stateEncoder(),
    async write(meta, state, sinks): Promise<CheckpointInfo> {
      const bytes = encodeCheckpoint(meta, state, sinks);
      let client: pg.PoolClient;
      try {
        await ensureTable();
        client = await getPool().connect();
      } catch (e) {
        return fail('connecting', e);
      }
      try {
        await inTransaction(client, async (c) => {
          if (fence !== undefined) await enforceFence(c, fences, fence, false, `${WHERE}: writing checkpoint ${meta.id} of '${application}'`);
          await c.query(
            `INSERT INTO ${table} (application, id, type, taken_at, bytes) VALUES ($1, $2, $3, $4, $5) `
            + 'ON CONFLICT (application, id) DO UPDATE SET type = EXCLUDED.type, taken_at = EXCLUDED.taken_at, bytes = EXCLUDED.bytes, created_at = now()',
            [application, meta.id, meta.type, meta.takenAt, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)],
          );
          await c.query(
            `DELETE FROM ${table} WHERE application = $1 AND type = 'checkpoint' AND id NOT IN `
            + `(SELECT id FROM ${table} WHERE application = $1 AND type = 'checkpoint' ORDER BY id DESC LIMIT $2)`,
            [application, keep],
          );
        });
      } catch (e) {
        fail(`writing checkpoint ${meta.id}`, e);
      }
      return { id: meta.id, type: meta.type, takenAt: meta.takenAt, bytes: bytes.length, location: location(meta.id) };
    },
    async latest(): Promise<Checkpoint | undefined> {
      const r = await query<{ id: string; bytes: Buffer }>('reading the latest checkpoint', `SELECT id, bytes FROM ${table} WHERE application = $1 ORDER BY id DESC LIMIT 1`, [application]);
      return decodeRow(r.rows[0]);
    },
    async load(id: number): Promise<Checkpoint> {
      if (!Number.isSafeInteger(id)) throw new PlanError(`${WHERE}: a checkpoint id is an integer, got ${String(id)}`);
      const r = await query<{ id: string; bytes: Buffer }>(`reading checkpoint ${id}`, `SELECT id, bytes FROM ${table} WHERE application = $1 AND id = $2`, [application, id]);
      const found = decodeRow(r.rows[0], id);
      if (found === undefined) throw new PlanError(`${WHERE}: there is no checkpoint or savepoint ${id} of application '${application}' in ${table}`);
      return found;
    },
    async list(): Promise<CheckpointInfo[]> {
      const r = await query<{ id: string; type: Checkpoint['type']; taken_at: number; size: number }>(
        'listing checkpoints',
        `SELECT id, type, taken_at, octet_length(bytes) AS size FROM ${table} WHERE application = $1 ORDER BY id`,
        [application],
      );
      return r.rows.map((row) => ({ id: Number(row.id), type: row.type, takenAt: Number(row.taken_at), bytes: Number(row.size), location: location(Number(row.id)) }));
    },
    async close(): Promise<void> {
      const p = pool;
      pool = undefined;
      ready = undefined;
      await p?.end().catch(() => undefined);
    },
  };
}
