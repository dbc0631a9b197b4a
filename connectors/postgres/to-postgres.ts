/**
 * `toPostgres({ connection, table, mode })`: a PostgreSQL sink. `'upsert-windows'` keeps one row
 * per (key, window): panes upsert it, retractions delete it, each batch in one transaction, so a
 * late pane updates its row and the rows of sessions merged away disappear in the same commit as
 * the merged session appears. `'append'` inserts every record. Uses `pg`.
 */
import pg from 'pg';
import { PlanError } from '../../engine/errors.js';
import type { Sink } from '../../engine/sink.js';
import type { WindowResult } from '../../index.js';
import { postgresError, secretsOf } from './errors.js';
import { boundText, checkType, keyText, quoteIdent, quoteTable, toJson, type TableName } from './sql.js';

/** Options shared by both modes. */
interface ToPostgresCommon {
  /**
   * A connection string (`postgres://user@host:5432/db`) or a `pg` pool config. Omitted: `pg`'s
   * environment variables (`PGHOST`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`…). Never appears in errors.
   */
  readonly connection?: string | pg.PoolConfig;
  /** The table: one identifier (quoted as given, case kept), or `{ schema, name }`. */
  readonly table: TableName;
  /** Create the table (and its key) if it does not exist. Default false: the table must exist. */
  readonly createTable?: boolean;
  /** Rows per statement (a write of more rows runs several statements in its one transaction). Default 1000. */
  readonly batchSize?: number;
  /**
   * Typed value columns: column name → SQL type (`{ total: 'numeric(12,2)', n: 'bigint' }`),
   * filled by `mapping`. Without them the value goes to one `value jsonb` column.
   */
  readonly columns?: Readonly<Record<string, string>>;
}

/** `'upsert-windows'`: one row per (key, window start, window end). */
export interface ToPostgresWindowsOptions<K, R> extends ToPostgresCommon {
  readonly mode: 'upsert-windows';
  /** The typed columns' values for a result (requires `columns`). */
  readonly mapping?: (value: R, result: WindowResult<K, R>) => Readonly<Record<string, unknown>>;
}

/** `'append'`: one row per record. */
export interface ToPostgresAppendOptions<T> extends ToPostgresCommon {
  readonly mode: 'append';
  /** The row of a record (requires `columns`); default `{ event_time, value }` with the value as jsonb. */
  readonly mapping?: (value: T, timestamp: number) => Readonly<Record<string, unknown>>;
}

const WHERE = 'tidemark.toPostgres';
const WINDOW_COLUMNS = ['key', 'window_start', 'window_end', 'pane_index', 'pane_timing', 'pane_final', 'updated_at'];
/** PostgreSQL's limit on parameters per statement. */
const MAX_PARAMS = 65_535;

/** A pending change to one window's row within a batch. */
interface RowChange<K, R> {
  /** Delete the stored row if its pane index is at most this (a retraction). */
  deleteUpTo?: number;
  /** The pane to store. */
  upsert?: WindowResult<K, R>;
}

/**
 * A PostgreSQL sink.
 *
 * **`mode: 'upsert-windows'`** takes `WindowResult`s and keeps one row per (key, window):
 * `key text, window_start bigint, window_end bigint, pane_index integer, pane_timing text,
 * pane_final boolean, value jsonb` (or the typed `columns`), `updated_at timestamptz`, primary
 * key `(key, window_start, window_end)` (a table you create yourself needs that unique key).
 * - The key column holds the key's canonical text: strings as they are, numbers / bigints as exact
 *   decimal text, arrays as JSON (`["u1",3]`) — so `1`, `'1'` and `1n` share a row.
 * - Window bounds are epoch ms; the global window's ±∞ are stored as the bigint extremes.
 * - Each `write` is one transaction. Within it, results apply in order: a pane upserts its row
 *   (a stored row with a higher pane index is kept — a replayed older pane never overwrites a newer
 *   one); a retraction (`retraction: true`) **deletes** the row of the pane it retracts (if the
 *   stored pane index is not newer). Retractions delete rather than subtract: use accumulating
 *   panes (with or without retractions); discarding panes would overwrite totals with deltas.
 *
 * **`mode: 'append'`** inserts every record: `event_time bigint, value jsonb` by default, or the
 * row `mapping` returns for the declared `columns`.
 *
 * `write` resolves after COMMIT (backpressure); a failed statement rolls the batch back and fails
 * the run with a {@link PostgresError} (credentials scrubbed). `close` ends the pool; `abort` rolls
 * back a batch still in flight, then ends the pool. bigints in jsonb values are stored exactly.
 *
 * @example
 * p.source(fromArray(clicks), { timestamp: (c) => c.ts, watermark: boundedOutOfOrderness(1_000) })
 *   .keyBy((c) => c.user).window(session(30_000)).aggregate(count())
 *   .sink(toPostgres({ connection: 'postgres://app@db/analytics', table: 'sessions', mode: 'upsert-windows', createTable: true }));
 */
export function toPostgres<K, R>(options: ToPostgresWindowsOptions<K, R>): Sink<WindowResult<K, R>>;
export function toPostgres<T>(options: ToPostgresAppendOptions<T>): Sink<T>;
export function toPostgres(options: ToPostgresWindowsOptions<unknown, unknown> | ToPostgresAppendOptions<unknown>): Sink<unknown> {
  if (options === null || typeof options !== 'object') throw new PlanError(`${WHERE}: expected options { connection, table, mode }`);
  const { mode, connection, createTable = false, batchSize = 1000, columns, mapping } = options;
  if (mode !== 'upsert-windows' && mode !== 'append') throw new PlanError(`${WHERE}: mode must be 'upsert-windows' or 'append', got '${String(mode)}'`);
  if (connection !== undefined && typeof connection !== 'string' && (connection === null || typeof connection !== 'object')) {
    throw new PlanError(`${WHERE}: connection must be a connection string or a pg pool config`);
  }
  const table = quoteTable(options.table, WHERE);
  if (typeof createTable !== 'boolean') throw new PlanError(`${WHERE}: createTable must be a boolean`);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new PlanError(`${WHERE}: batchSize must be a positive integer, got ${String(batchSize)}`);
  if (mapping !== undefined && typeof mapping !== 'function') throw new PlanError(`${WHERE}: mapping must be a function`);
  if ((mapping === undefined) !== (columns === undefined)) {
    throw new PlanError(`${WHERE}: columns and mapping go together — columns declare the typed columns, mapping fills them`);
  }
  const typed: [string, string, string][] = []; // [name, quoted, type]
  if (columns !== undefined) {
    if (columns === null || typeof columns !== 'object') throw new PlanError(`${WHERE}: columns must be an object { name: 'sql type' }`);
    for (const [name, type] of Object.entries(columns)) {
      if (mode === 'upsert-windows' && WINDOW_COLUMNS.includes(name)) throw new PlanError(`${WHERE}: column '${name}' is reserved in upsert-windows mode`);
      typed.push([name, quoteIdent(name, WHERE, 'column'), checkType(type, name, WHERE)]);
    }
    if (typed.length === 0) throw new PlanError(`${WHERE}: columns must declare at least one column`);
  }
  const valueCols = typed.length > 0 ? typed.map((c) => c[1]) : ['"value"'];
  const secrets = secretsOf(connection);
  const config: pg.PoolConfig = typeof connection === 'string' ? { connectionString: connection } : { ...(connection ?? {}) };
  config.max ??= 1;

  // ---- SQL ---------------------------------------------------------------------------------
  const valueDdl = typed.length > 0 ? typed.map(([, q, t]) => `${q} ${t}`).join(', ') : '"value" jsonb';
  const ddl = mode === 'upsert-windows'
    ? `CREATE TABLE IF NOT EXISTS ${table} ("key" text NOT NULL, "window_start" bigint NOT NULL, "window_end" bigint NOT NULL, `
      + `"pane_index" integer NOT NULL, "pane_timing" text NOT NULL, "pane_final" boolean NOT NULL, ${valueDdl}, `
      + `"updated_at" timestamptz NOT NULL DEFAULT now(), PRIMARY KEY ("key", "window_start", "window_end"))`
    : `CREATE TABLE IF NOT EXISTS ${table} (${typed.length > 0 ? valueDdl : '"event_time" bigint NOT NULL, "value" jsonb'})`;
  const insertCols = mode === 'upsert-windows'
    ? ['"key"', '"window_start"', '"window_end"', '"pane_index"', '"pane_timing"', '"pane_final"', ...valueCols]
    : typed.length > 0 ? valueCols : ['"event_time"', '"value"'];
  const rowsPerStatement = Math.max(1, Math.min(batchSize, Math.floor(MAX_PARAMS / insertCols.length)));
  const upsertTail = ` ON CONFLICT ("key", "window_start", "window_end") DO UPDATE SET `
    + ['"pane_index"', '"pane_timing"', '"pane_final"', ...valueCols].map((c) => `${c} = EXCLUDED.${c}`).join(', ')
    + `, "updated_at" = now() WHERE cur."pane_index" <= EXCLUDED."pane_index"`;
  const insertSql = (rows: number): string => {
    const tuples: string[] = [];
    for (let r = 0, p = 1; r < rows; r++) {
      tuples.push(`(${insertCols.map(() => `$${p++}`).join(', ')})`);
    }
    return mode === 'upsert-windows'
      ? `INSERT INTO ${table} AS cur (${insertCols.join(', ')}) VALUES ${tuples.join(', ')}${upsertTail}`
      : `INSERT INTO ${table} (${insertCols.join(', ')}) VALUES ${tuples.join(', ')}`;
  };
  const deleteSql = `DELETE FROM ${table} AS cur USING unnest($1::text[], $2::bigint[], $3::bigint[], $4::integer[]) AS d(k, s, e, i) `
    + `WHERE cur."key" = d.k AND cur."window_start" = d.s AND cur."window_end" = d.e AND cur."pane_index" <= d.i`;

  /** The typed columns' values of one mapped row, in column order. */
  const mapped = (row: Readonly<Record<string, unknown>>): unknown[] => {
    if (row === null || typeof row !== 'object') throw new TypeError('mapping must return an object { column: value }');
    for (const k of Object.keys(row)) {
      if (!typed.some((c) => c[0] === k)) throw new TypeError(`mapping returned column '${k}', which is not declared in columns`);
    }
    return typed.map(([name]) => row[name] ?? null);
  };

  // ---- state -------------------------------------------------------------------------------
  let pool: pg.Pool | undefined;
  let poolError: unknown;
  let inFlight: Promise<void> | undefined;
  let aborted = false;

  const fail = (what: string, e: unknown): never => {
    throw postgresError(WHERE, what, e, secrets);
  };

  const getPool = (): pg.Pool => {
    if (pool === undefined) {
      try {
        pool = new pg.Pool(config);
      } catch (e) {
        fail('connecting', e);
      }
      // an idle connection that breaks must not crash the process; the next write reports it
      (pool as pg.Pool).on('error', (e) => {
        poolError = e;
      });
    }
    return pool as pg.Pool;
  };

  /** Runs `body` in one transaction; rolls back on error or when the sink was aborted meanwhile. */
  const transaction = async (what: string, body: (client: pg.PoolClient) => Promise<void>): Promise<void> => {
    if (poolError !== undefined) {
      const e = poolError;
      poolError = undefined;
      fail('the connection', e);
    }
    let client: pg.PoolClient;
    try {
      client = await getPool().connect();
    } catch (e) {
      return fail('connecting', e);
    }
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await body(client);
      if (aborted) {
        await client.query('ROLLBACK');
        fail(what, new Error('the run was aborted; the batch was rolled back'));
      }
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch((r: unknown) => {
        broken = r instanceof Error ? r : new Error(String(r));
      });
      fail(what, e);
    } finally {
      client.release(broken);
    }
  };

  const insertRows = async (client: pg.PoolClient, rows: unknown[][]): Promise<void> => {
    for (let i = 0; i < rows.length; i += rowsPerStatement) {
      const part = rows.slice(i, i + rowsPerStatement);
      await client.query(insertSql(part.length), part.flat());
    }
  };

  const windowRow = (r: WindowResult<unknown, unknown>, key: string): unknown[] => {
    const head = [key, boundText(r.window.start), boundText(r.window.end), r.pane.index, r.pane.timing, r.pane.final];
    if (typed.length > 0) return [...head, ...mapped((mapping as NonNullable<ToPostgresWindowsOptions<unknown, unknown>['mapping']>)(r.value, r))];
    return [...head, toJson(r.value) ?? null];
  };

  const writeWindows = (values: readonly WindowResult<unknown, unknown>[]): Promise<void> => {
    // Collapse the batch to one change per row, applying results in order.
    const changes = new Map<string, { key: string; window: WindowResult<unknown, unknown>['window']; change: RowChange<unknown, unknown> }>();
    for (const r of values) {
      if (r === null || typeof r !== 'object' || r.window === undefined || r.pane === undefined) {
        return Promise.reject(postgresError(WHERE, 'writing', new TypeError('upsert-windows mode takes window results { key, window, value, pane }'), secrets));
      }
      const key = keyText(r.key as never);
      const id = `${key}\u0000${r.window.start}\u0000${r.window.end}`;
      let entry = changes.get(id);
      if (entry === undefined) {
        entry = { key, window: r.window, change: {} };
        changes.set(id, entry);
      }
      const c = entry.change;
      if (r.retraction === true) {
        if (c.upsert !== undefined && c.upsert.pane.index > r.pane.index) continue; // retracts an older pane
        delete c.upsert;
        c.deleteUpTo = Math.max(c.deleteUpTo ?? -1, r.pane.index);
      } else if (c.upsert === undefined || c.upsert.pane.index <= r.pane.index) {
        c.upsert = r;
      }
    }
    const del: [string[], string[], string[], number[]] = [[], [], [], []];
    const rows: unknown[][] = [];
    try {
      for (const { key, window: w, change } of changes.values()) {
        if (change.deleteUpTo !== undefined) {
          del[0].push(key);
          del[1].push(boundText(w.start));
          del[2].push(boundText(w.end));
          del[3].push(change.deleteUpTo);
        }
        if (change.upsert !== undefined) rows.push(windowRow(change.upsert, key));
      }
    } catch (e) {
      return Promise.reject(postgresError(WHERE, 'mapping a result', e, secrets));
    }
    return transaction('writing window results', async (client) => {
      if (del[0].length > 0) await client.query(deleteSql, del);
      await insertRows(client, rows);
    });
  };

  const writeAppend = (values: readonly unknown[], timestamps: readonly number[]): Promise<void> => {
    const rows: unknown[][] = [];
    try {
      for (let i = 0; i < values.length; i++) {
        rows.push(typed.length > 0
          ? mapped((mapping as NonNullable<ToPostgresAppendOptions<unknown>['mapping']>)(values[i], timestamps[i] as number))
          : [timestamps[i], toJson(values[i]) ?? null]);
      }
    } catch (e) {
      return Promise.reject(postgresError(WHERE, 'mapping a record', e, secrets));
    }
    return transaction('appending records', (client) => insertRows(client, rows));
  };

  const settle = async (): Promise<void> => {
    if (inFlight !== undefined) await inFlight.catch(() => undefined);
  };
  const end = async (): Promise<void> => {
    const p = pool;
    pool = undefined;
    if (p !== undefined) await p.end().catch(() => undefined);
  };

  return {
    kind: `postgres(${mode})`,
    async open() {
      aborted = false;
      await transaction('opening', async (client) => {
        if (createTable) {
          await client.query(ddl);
          return;
        }
        const found = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [table]);
        if (found.rows[0]?.t == null) throw new Error(`table ${table} does not exist (pass createTable: true to create it)`);
      });
    },
    write(values, timestamps) {
      if (values.length === 0) return undefined;
      if (aborted) return Promise.reject(postgresError(WHERE, 'writing', new Error('the sink was aborted'), secrets));
      const p = mode === 'upsert-windows'
        ? writeWindows(values as readonly WindowResult<unknown, unknown>[])
        : writeAppend(values, timestamps);
      inFlight = p;
      return p;
    },
    async close() {
      await settle();
      await end();
    },
    async abort() {
      aborted = true;
      await settle();
      await end();
    },
  };
}
