/**
 * Fencing in PostgreSQL: a checkpoint store or an exactly-once `toPostgres` sink carrying an older
 * token than the newest seen for its scope is refused with a `FencedError` — in the same
 * transaction as the write — once a newer owner has taken the scope over; scopes are independent;
 * a sink keeps one lineage per scope; and a writer paused inside a transaction does not block the
 * new owner for longer than the fence's `holdMs`.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHECKPOINT_FORMAT, type CheckpointMeta, type CheckpointState, FencedError, PlanError, type Sink, type WindowResult, postgresCheckpoints, toPostgres,
} from 'tidemark';
import { available, uniqueName } from '../connectors/services.js';
import { PG_URL } from './support.js';

const up = await available('postgres');

const state: CheckpointState = { sources: {}, operators: {} };
const meta = (id: number): CheckpointMeta => ({ format: CHECKPOINT_FORMAT, id, type: 'checkpoint', takenAt: id });

describe.skipIf(!up)('fencing (PostgreSQL)', () => {
  let db: pg.Client;
  const tables: string[] = [];
  beforeAll(async () => {
    db = new pg.Client(PG_URL);
    await db.connect();
  });
  afterAll(async () => {
    for (const t of tables) await db?.query(`DROP TABLE IF EXISTS "${t}"`);
    await db?.end();
  });

  it('validates the fence option', () => {
    expect(() => postgresCheckpoints({ application: 'a', fence: { scope: '', token: 1 } })).toThrow(PlanError);
    expect(() => postgresCheckpoints({ application: 'a', fence: { scope: 's', token: -1 } })).toThrow(/tidemark.postgresCheckpoints: fence/);
  });

  it('a checkpoint store with a stale token is refused once a newer owner has read the scope', async () => {
    const table = uniqueName('tm_fck');
    tables.push(table);
    const scope = uniqueName('app/p0');
    const old = postgresCheckpoints({ connection: PG_URL, table, application: scope, fence: { scope, token: 5 } });
    const next = postgresCheckpoints({ connection: PG_URL, table, application: scope, fence: { scope, token: 7 } });
    try {
      expect(await old.latest()).toBeUndefined();
      await old.write(meta(1), old.encodeState(state), {});
      // the successor takes over: its first read advances the fence, and sees old's checkpoint 1
      expect((await next.latest())?.id).toBe(1);
      const refused = await old.write(meta(2), old.encodeState(state), {}).then(() => undefined, (e: unknown) => e);
      expect(refused).toBeInstanceOf(FencedError);
      expect(refused).toMatchObject({ scope, token: 5, current: 7 });
      expect(String((refused as Error).message)).toMatch(/refused: scope .* is fenced at token 7, newer than this writer's 5/);
      await next.write(meta(2), next.encodeState(state), {});
      expect((await next.list()).map((i) => i.id)).toEqual([1, 2]);
      // an older owner cannot take the scope back either
      const older = postgresCheckpoints({ connection: PG_URL, table, application: scope, fence: { scope, token: 6 } });
      await expect(older.latest()).rejects.toBeInstanceOf(FencedError);
      await older.close?.();
      // another scope is independent
      const otherScope = uniqueName('app/p1');
      const other = postgresCheckpoints({ connection: PG_URL, table, application: otherScope, fence: { scope: otherScope, token: 1 } });
      expect(await other.latest()).toBeUndefined();
      await other.write(meta(1), other.encodeState(state), {});
      await other.close?.();
    } finally {
      await old.close?.();
      await next.close?.();
    }
  });

  it('an exactly-once toPostgres sink with a stale token cannot stage, commit or write after a newer owner opened', async () => {
    const table = uniqueName('tm_fsink');
    tables.push(table);
    const scope = uniqueName('app/p2');
    const sink = (): Sink<WindowResult<string, number>> => toPostgres<string, number>({ connection: PG_URL, table, mode: 'upsert-windows', createTable: true, delivery: 'exactly-once' });
    const result = (key: string, value: number): WindowResult<string, number> => ({
      key, value, window: { start: 0, end: 10 }, pane: { index: 0, timing: 'on-time', final: true },
    } as unknown as WindowResult<string, number>);
    const a = sink();
    await a.open?.({ name: 'out', fence: { scope, token: 3 } });
    await a.write([result('k1', 1)], [5]);
    const h1 = await a.preCommit?.(1);
    await a.commit?.(1, h1);
    await a.write([result('k2', 2)], [5]);
    const h2 = await a.preCommit?.(2);
    // the successor opens (restoring checkpoint 1): a's epoch 2 is not committed, and never will be
    const b = sink();
    await b.open?.({ name: 'out', fence: { scope, token: 4 }, restored: { checkpointId: 1, handle: h1 } });
    await expect(Promise.resolve(a.commit?.(2, h2))).rejects.toBeInstanceOf(FencedError);
    await expect(Promise.resolve(a.write([result('k3', 3)], [5]))).rejects.toBeInstanceOf(FencedError);
    await b.write([result('k4', 4)], [5]);
    const hb = await b.preCommit?.(2);
    await b.commit?.(2, hb);
    const rows = await db.query<{ key: string }>(`SELECT key FROM "${table}" ORDER BY key`);
    expect(rows.rows.map((r) => r.key)).toEqual(['k1', 'k4']);
    await a.abort?.(new Error('fenced'));
    await b.close?.();
  });

  it('stores and sinks of many partitions creating their tables at once all open (regression: concurrent CREATE TABLE)', async () => {
    const table = uniqueName('tm_fconc');
    const out = uniqueName('tm_fconc_out');
    tables.push(table, out);
    const stores = Array.from({ length: 8 }, (_, p) => postgresCheckpoints({ connection: PG_URL, table, application: `${table}/p${p}`, fence: { scope: `${table}/p${p}`, token: 1 } }));
    const sinks = Array.from({ length: 8 }, () => toPostgres<string, number>({ connection: PG_URL, table: out, mode: 'upsert-windows', createTable: true, delivery: 'exactly-once' }));
    try {
      await Promise.all([
        ...stores.map((st) => st.latest()),
        ...sinks.map((sk, p) => sk.open?.({ name: 'out', fence: { scope: `${table}/p${p}`, token: 1 } })),
      ]);
    } finally {
      await Promise.all([...stores.map((st) => st.close?.()), ...sinks.map((sk) => sk.close?.())]);
    }
  });

  it('a writer paused inside a transaction blocks a new owner for at most holdMs', async () => {
    const table = uniqueName('tm_fhold');
    tables.push(table);
    const scope = uniqueName('app/p3');
    const first = postgresCheckpoints({ connection: PG_URL, table, application: scope, fence: { scope, token: 1, holdMs: 300 } });
    await first.latest();
    // a paused writer: a transaction that took the scope's row and then went idle
    const paused = new pg.Client(PG_URL);
    paused.on('error', () => undefined);
    await paused.connect();
    await paused.query('BEGIN');
    await paused.query('SET LOCAL idle_in_transaction_session_timeout = 300');
    await paused.query('SELECT "token" FROM tidemark_fences WHERE "scope" = $1 FOR SHARE', [scope]);
    const next = postgresCheckpoints({ connection: PG_URL, table, application: scope, fence: { scope, token: 2, holdMs: 300 } });
    // the takeover waits for the paused transaction, which the server ends after 300 ms
    expect(await next.latest()).toBeUndefined();
    await expect(first.write(meta(1), first.encodeState(state), {})).rejects.toBeInstanceOf(FencedError);
    await Promise.all([first.close?.(), next.close?.(), paused.end().catch(() => undefined)]);
  });

  it('the store\'s own transaction, paused after its fence check, is ended by the server after holdMs (enforceFence sets the timeout)', async () => {
    const table = uniqueName('tm_fhold2');
    tables.push(table);
    const scope = uniqueName('app/p4');
    let pauseInsert = false;
    let paused: (() => void) | undefined;
    // A client that "freezes" (never sends, never answers) at the checkpoint INSERT, i.e. after the
    // store's transaction has checked the fence row: the process paused mid-transaction.
    class PausingClient extends pg.Client {
      override query(...args: unknown[]): never {
        const text = typeof args[0] === 'string' ? args[0] : '';
        if (pauseInsert && text.startsWith('INSERT INTO') && text.includes(table)) {
          paused?.();
          return new Promise(() => undefined) as never;
        }
        return (super.query as (...a: unknown[]) => never)(...args);
      }
    }
    const first = postgresCheckpoints({ connection: { connectionString: PG_URL, Client: PausingClient }, table, application: scope, fence: { scope, token: 1, holdMs: 300 } });
    await first.latest();
    pauseInsert = true;
    const reached = new Promise<void>((r) => {
      paused = r;
    });
    void first.write(meta(1), first.encodeState(state), {}).catch(() => undefined);
    await reached;
    const next = postgresCheckpoints({ connection: PG_URL, table, application: scope, fence: { scope, token: 2, holdMs: 300 } });
    // the takeover waits for the frozen transaction (its FOR SHARE lock), which the server ends after 300 ms
    expect(await next.latest()).toBeUndefined();
    await next.close?.();
    await Promise.race([first.close?.(), new Promise((r) => setTimeout(r, 1_000))]);
  }, 20_000);
});
