/**
 * `toPostgres({ connection, table, mode })`: a PostgreSQL sink. `'upsert-windows'` keeps one row
 * per (key, window): panes upsert it, retractions delete it, each batch in one transaction, so a
 * late pane updates its row and the rows of sessions merged away disappear in the same commit as
 * the merged session appears. `'append'` inserts every record. Uses `pg`.
 */
import { randomBytes } from 'node:crypto';
import { Packr } from 'msgpackr';
import pg from 'pg';
import { inTransaction } from './transaction.js';
import { PlanError } from '../../engine/errors.js';
import type { Sink } from '../../engine/sink.js';
import type { WindowResult } from '../../index.js';
import { PostgresError, postgresError, secretsOf } from './errors.js';
import { FencedError, enforceFence, isConcurrentCreate, fenceTableDdl, fenceTableFor } from './fence.js';
import type { FenceToken } from '../../engine/sink.js';
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
  /**
   * `'at-least-once'` (default): each write commits at once. `'exactly-once'`: writes are staged
   * (table `tidemark_sink_staging`) and applied, with the epoch's fence row in
   * `tidemark_sink_epochs`, in one transaction when the checkpoint is durable — so after a crash
   * and restore the table holds exactly what an uninterrupted run writes. Rows become visible per
   * checkpoint (at the end of a run without checkpoints).
   */
  readonly delivery?: 'at-least-once' | 'exactly-once';
}

/** The handle of a pre-committed epoch: staged writes `from` (exclusive) … `to` of run lineage `run`. */
interface PostgresEpochHandle {
  readonly run: string;
  readonly from: number;
  readonly to: number;
}

function isEpochHandle(h: unknown): h is PostgresEpochHandle {
  const x = h as Partial<PostgresEpochHandle> | null;
  const n = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  return x !== null && typeof x === 'object' && typeof x.run === 'string' && n(x.from) && n(x.to) && (x.from as number) <= (x.to as number);
}

/** Encodes staged writes: exact for bigints, Dates and Buffers in mapped columns. */
const packr = new Packr({ useRecords: false, moreTypes: true, int64AsType: 'bigint' });

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
 * **`delivery: 'exactly-once'`** (either mode; default `'at-least-once'`) takes part in
 * checkpoints: each write is staged durably in `tidemark_sink_staging` (one row per write: the
 * msgpack of its deletes and rows), `preCommit` seals the writes since the last checkpoint as an
 * epoch (the handle `{ run, from, to }` is a range of staged writes — a few bytes in the
 * checkpoint, whatever the epoch's size), and `commit` applies the epoch in one transaction that
 * also moves the sink's fence row in `tidemark_sink_epochs` to the epoch id; a commit whose fence
 * is already at or past the id is skipped, so recovery may repeat it. A restored run re-commits the
 * checkpoint's epoch and deletes the staged writes after it. Both tables are created if missing
 * (in the target table's schema). No `PREPARE TRANSACTION` is needed.
 *
 * **Fencing** (`SinkContext.fence`, given by multi-process runs): the sink keeps one lineage per
 * fence scope, advances the scope's row in `tidemark_fences` when it opens, and checks it in every
 * transaction (writes, staging, commits): once a newer owner has opened, this one's transactions
 * are refused with a `FencedError`.
 *
 * @example
 * p.source(fromArray(clicks), { timestamp: (c) => c.ts, watermark: boundedOutOfOrderness(1_000) })
 *   .keyBy((c) => c.user).window(session(30_000)).aggregate(count())
 *   .sink(toPostgres({ connection: 'postgres://app@db/analytics', table: 'sessions', mode: 'upsert-windows', createTable: true }));
 * events.sink(toPostgres({ table: 'events', mode: 'append', createTable: true, delivery: 'exactly-once' }));
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
  const delivery = options.delivery ?? 'at-least-once';
  if (delivery !== 'at-least-once' && delivery !== 'exactly-once') throw new PlanError(`${WHERE}: delivery must be 'at-least-once' or 'exactly-once', got ${String(delivery)}`);
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
  /** The run's fence (`SinkContext.fence`): every transaction checks it first. */
  let fence: FenceToken | undefined;
  const fenceTable = fenceTableFor(options.table, WHERE);

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
    try {
      await inTransaction(client, async (c) => {
        if (fence !== undefined) await enforceFence(c, fenceTable, fence, false, `${WHERE}: ${what}`);
        await body(c);
        if (aborted) throw new Error('the run was aborted; the batch was rolled back');
      });
    } catch (e) {
      if (e instanceof FencedError) throw e;
      fail(what, e);
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

  /** One write's effect: the rows to delete (window retractions) and the rows to insert/upsert. */
  type Op = { readonly del?: [string[], string[], string[], number[]]; readonly rows: unknown[][] };

  const prepareWindows = (values: readonly WindowResult<unknown, unknown>[]): Op => {
    // Collapse the batch to one change per row, applying results in order.
    const changes = new Map<string, { key: string; window: WindowResult<unknown, unknown>['window']; change: RowChange<unknown, unknown> }>();
    for (const r of values) {
      if (r === null || typeof r !== 'object' || r.window === undefined || r.pane === undefined) {
        throw postgresError(WHERE, 'writing', new TypeError('upsert-windows mode takes window results { key, window, value, pane }'), secrets);
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
      throw postgresError(WHERE, 'mapping a result', e, secrets);
    }
    return del[0].length > 0 ? { del, rows } : { rows };
  };

  const prepareAppend = (values: readonly unknown[], timestamps: readonly number[]): Op => {
    const rows: unknown[][] = [];
    try {
      for (let i = 0; i < values.length; i++) {
        rows.push(typed.length > 0
          ? mapped((mapping as NonNullable<ToPostgresAppendOptions<unknown>['mapping']>)(values[i], timestamps[i] as number))
          : [timestamps[i], toJson(values[i]) ?? null]);
      }
    } catch (e) {
      throw postgresError(WHERE, 'mapping a record', e, secrets);
    }
    return { rows };
  };

  /** Applies one write's effect inside a transaction. */
  const apply = async (client: pg.PoolClient, op: Op): Promise<void> => {
    if (op.del !== undefined) await client.query(deleteSql, op.del);
    await insertRows(client, op.rows);
  };

  // ---- exactly-once: staging and epoch fences ------------------------------------------------
  // Staged writes are rows of (sink, run, seq, payload): the msgpack of one write's effect. An
  // epoch is a range of seq; its commit applies the range in order and moves the (sink, run)
  // fence to the epoch id in the same transaction, so a commit that already happened is skipped.
  const exactlyOnce = delivery === 'exactly-once';
  const schemaOf = typeof options.table === 'object' && options.table !== null ? options.table.schema : undefined;
  const aux = (name: string): string => quoteTable(schemaOf === undefined ? name : { schema: schemaOf, name }, WHERE);
  const fences = aux('tidemark_sink_epochs');
  const staging = aux('tidemark_sink_staging');
  let sinkKey = '';
  let run = '';
  /** Last staging sequence number used, and the last one sealed into an epoch. */
  let seq = 0;
  let sealed = 0;
  let staged: Promise<unknown>[] = [];

  const createAux = async (): Promise<void> => {
    const ddls = [
      `CREATE TABLE IF NOT EXISTS ${fences} ("sink" text NOT NULL, "run" text NOT NULL, "epoch" bigint NOT NULL, `
        + `"updated_at" timestamptz NOT NULL DEFAULT now(), PRIMARY KEY ("sink", "run"))`,
      `CREATE TABLE IF NOT EXISTS ${staging} ("sink" text NOT NULL, "run" text NOT NULL, "seq" bigint NOT NULL, `
        + `"payload" bytea NOT NULL, "created_at" timestamptz NOT NULL DEFAULT now(), PRIMARY KEY ("sink", "run", "seq"))`,
    ];
    for (const ddl of ddls) {
      try {
        await transaction('creating the exactly-once tables', async (client) => {
          await client.query(ddl);
        });
      } catch (e) {
        // another sink created it at the same moment
        if (!(e instanceof PostgresError && isConcurrentCreate(e))) throw e;
      }
    }
  };

  const stage = (op: Op): Promise<void> => {
    const n = ++seq;
    const payload = packr.pack(op);
    // A write that reached the server although the client saw an error is harmless when retried.
    return transaction('staging a write', async (client) => {
      await client.query(
        `INSERT INTO ${staging} ("sink", "run", "seq", "payload") VALUES ($1, $2, $3, $4) ON CONFLICT ("sink", "run", "seq") DO NOTHING`,
        [sinkKey, run, n, payload],
      );
    }).catch((e: unknown) => {
      // Writes reach the sink one at a time and are retried in place: the retry reuses `n`, so
      // an epoch's sequence numbers never have a hole.
      if (seq === n) seq = n - 1;
      throw e;
    });
  };

  const commitEpoch = async (id: number, handle: unknown): Promise<void> => {
    if (!isEpochHandle(handle)) throw new PostgresError(`${WHERE}: the handle of epoch ${id} is not a PostgreSQL epoch handle: ${JSON.stringify(handle)}`);
    const { run: r, from, to } = handle;
    if (from === to) return; // nothing was written in this epoch
    await transaction(`committing epoch ${id}`, async (client) => {
      await client.query(`INSERT INTO ${fences} ("sink", "run", "epoch") VALUES ($1, $2, 0) ON CONFLICT DO NOTHING`, [sinkKey, r]);
      const fence = await client.query<{ epoch: string }>(`SELECT "epoch" FROM ${fences} WHERE "sink" = $1 AND "run" = $2 FOR UPDATE`, [sinkKey, r]);
      if (Number(fence.rows[0]?.epoch ?? 0) < id) {
        let after = from;
        for (;;) {
          const page = await client.query<{ seq: string; payload: Buffer }>(
            `SELECT "seq", "payload" FROM ${staging} WHERE "sink" = $1 AND "run" = $2 AND "seq" > $3 AND "seq" <= $4 ORDER BY "seq" LIMIT 64`,
            [sinkKey, r, after, to],
          );
          for (const row of page.rows) {
            if (Number(row.seq) !== after + 1) throw new Error(`staged write ${after + 1} of epoch ${id} is missing (the staging table was modified)`);
            await apply(client, packr.unpack(row.payload) as Op);
            after = Number(row.seq);
          }
          if (page.rows.length < 64) break;
        }
        if (after !== to) throw new Error(`staged writes ${after + 1}…${to} of epoch ${id} are missing (the staging table was modified)`);
        await client.query(`UPDATE ${fences} SET "epoch" = $3, "updated_at" = now() WHERE "sink" = $1 AND "run" = $2`, [sinkKey, r, id]);
      }
      await client.query(`DELETE FROM ${staging} WHERE "sink" = $1 AND "run" = $2 AND "seq" <= $3`, [sinkKey, r, to]);
    });
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
    guarantee: exactlyOnce ? 'exactly-once' : 'at-least-once',
    async open(ctx) {
      aborted = false;
      staged = [];
      fence = undefined;
      if (ctx.fence !== undefined) {
        // Take the scope over before anything else (restore, discarding staged writes): from here
        // on, every transaction of an older owner of the scope is refused.
        const f = ctx.fence;
        await transaction('creating the fence table', async (client) => {
          await client.query(fenceTableDdl(fenceTable));
        }).catch((e: unknown) => {
          if (!(e instanceof PostgresError && isConcurrentCreate(e))) throw e;
        });
        await transaction(`taking over scope '${f.scope}'`, (client) => enforceFence(client, fenceTable, f, true, `${WHERE}: taking over '${f.scope}'`));
        fence = f;
      }
      await transaction('opening', async (client) => {
        if (createTable) {
          // Several sinks (e.g. the partitions of a multi-process run) may create it at once: the
          // losers of that race see a unique violation, and the table exists.
          await client.query('SAVEPOINT create_table');
          try {
            await client.query(ddl);
          } catch (e) {
            if (!isConcurrentCreate(e)) throw e;
            await client.query('ROLLBACK TO SAVEPOINT create_table');
          }
        } else {
          const found = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [table]);
          if (found.rows[0]?.t == null) throw new Error(`table ${table} does not exist (pass createTable: true to create it)`);
        }
      });
      if (!exactlyOnce) return;
      await createAux();
      // One lineage per fence scope: the partitions of a multi-process run stage and commit apart.
      sinkKey = ctx.fence === undefined ? `${table}/${ctx.name}` : `${table}/${ctx.name}/${ctx.fence.scope}`;
      const restored = ctx.restored;
      if (restored !== undefined && isEpochHandle(restored.handle)) {
        // Commit the checkpoint's epoch again (a no-op if it was), then drop what came after it.
        const h = restored.handle;
        // Epochs committed after this checkpoint cannot be taken back: refuse rather than duplicate.
        let fence: string | undefined;
        await transaction('reading the epoch fence', async (client) => {
          fence = (await client.query<{ epoch: string }>(`SELECT "epoch" FROM ${fences} WHERE "sink" = $1 AND "run" = $2`, [sinkKey, h.run])).rows[0]?.epoch;
        });
        if (fence !== undefined && Number(fence) > restored.checkpointId) {
          throw new PostgresError(`${WHERE}: sink '${ctx.name}' has already committed epoch ${fence}, after checkpoint ${restored.checkpointId}; `
            + 'its output cannot be taken back — restore from the latest checkpoint');
        }
        await commitEpoch(restored.checkpointId, h);
        run = h.run;
        seq = h.to;
        sealed = h.to;
        await transaction('discarding writes after the checkpoint', async (client) => {
          await client.query(`DELETE FROM ${staging} WHERE "sink" = $1 AND "run" = $2 AND "seq" > $3`, [sinkKey, run, h.to]);
        });
      } else {
        run = randomBytes(8).toString('hex');
        seq = 0;
        sealed = 0;
      }
      // Staged writes of other runs of this sink (crashed before a checkpoint) are never committed.
      await transaction('discarding staged writes of earlier runs', async (client) => {
        await client.query(`DELETE FROM ${staging} WHERE "sink" = $1 AND "run" <> $2`, [sinkKey, run]);
      });
    },
    write(values, timestamps) {
      if (values.length === 0) return undefined;
      if (aborted) return Promise.reject(postgresError(WHERE, 'writing', new Error('the sink was aborted'), secrets));
      let op: Op;
      try {
        op = mode === 'upsert-windows' ? prepareWindows(values as readonly WindowResult<unknown, unknown>[]) : prepareAppend(values, timestamps);
      } catch (e) {
        return Promise.reject(e);
      }
      const p = exactlyOnce
        ? stage(op)
        : transaction(mode === 'upsert-windows' ? 'writing window results' : 'appending records', (client) => apply(client, op));
      if (exactlyOnce) staged.push(p.catch(() => undefined));
      inFlight = p;
      return p;
    },
    ...(exactlyOnce ? {
      preCommit(checkpointId: number): Promise<PostgresEpochHandle> {
        // Seal synchronously: writes from here on are staged for the next epoch.
        const handle: PostgresEpochHandle = { run, from: sealed, to: seq };
        sealed = seq;
        const pending = staged;
        staged = [];
        return Promise.all(pending).then(() => {
          if (poolError !== undefined) fail(`pre-committing epoch ${checkpointId}`, poolError);
          return handle;
        });
      },
      commit: commitEpoch,
    } : {}),
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
