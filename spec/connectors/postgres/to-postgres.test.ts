/**
 * toPostgres against the local PostgreSQL: window results upserted per (key, window) — late panes
 * update their row, retractions delete merged-away sessions in the same transaction — append
 * mode, typed columns, exact bigint keys and values, identifier quoting, credentials kept out of
 * errors, abort rolling back, close ending the pool.
 */
import { inspect } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ManualClock,
  Pipeline,
  PlanError,
  boundedOutOfOrderness,
  count,
  fromArray,
  globalWindow,
  session,
  sum,
  tumbling,
  type WindowResult,
} from 'tidemark';
import { PostgresError, keyText, toPostgres } from 'tidemark';
import { available, uniqueName } from '../services.js';

const URL = 'postgres://postgres@127.0.0.1:5432/test';
const up = await available('postgres');

type R = WindowResult<unknown, unknown>;
const pane = (index: number, timing: 'on-time' | 'late' = 'on-time', final = false) => ({ timing, index, final });
const result = (key: unknown, start: number, end: number, value: unknown, index = 0, retraction = false): R =>
  ({ key, window: { start, end }, value, pane: pane(index), ...(retraction ? { retraction: true as const } : {}) }) as R;

describe.skipIf(!up)('toPostgres', () => {
  let db: pg.Client;
  const tables: string[] = [];
  const table = (prefix = 'tm_pg'): string => {
    const t = uniqueName(prefix);
    tables.push(t);
    return t;
  };
  const q = (t: string): string => `"${t.replace(/"/g, '""')}"`;
  const rows = async (t: string, order = 'window_start, key') =>
    (await db.query(`SELECT key, window_start::text AS s, window_end::text AS e, pane_index, pane_timing, pane_final, value::text AS v FROM ${q(t)} ORDER BY ${order}`)).rows;

  beforeAll(async () => {
    db = new pg.Client({ connectionString: URL });
    await db.connect();
  });
  afterAll(async () => {
    for (const t of tables) await db.query(`DROP TABLE IF EXISTS ${q(t)}`);
    await db.end();
  });

  /** Writes batches through the sink as the runtime would: open, write each batch (awaited), close. */
  async function drive(sink: ReturnType<typeof toPostgres<unknown, unknown>>, batches: R[][]): Promise<void> {
    await sink.open?.({ name: 'pg' });
    for (const b of batches) await sink.write(b, b.map((r) => r.window.end - 1));
    await sink.close?.();
  }

  it('a pipeline upserts one row per (key, window); a late pane updates its row', async () => {
    const t = table();
    const p = new Pipeline({ clock: new ManualClock(), batchSize: 2 });
    const evs = [
      { k: 'a', ts: 100 }, { k: 'b', ts: 200 }, { k: 'a', ts: 900 },
      { k: 'a', ts: 1_500 }, // watermark passes 999: window [0,1000) fires on time
      { k: 'a', ts: 300 }, // late for [0,1000) but admitted: a late pane with the new count
      { k: 'b', ts: 2_500 },
    ];
    p.source(fromArray(evs), { timestamp: (e) => e.ts, watermark: boundedOutOfOrderness(0), name: 'evs' })
      .keyBy((e) => e.k).window(tumbling(1_000), { allowedLateness: 5_000 }).aggregate(count())
      .sink(toPostgres({ connection: URL, table: t, mode: 'upsert-windows', createTable: true }));
    const summary = await p.run();
    expect(summary.sinks).toBeDefined();
    const got = await rows(t);
    expect(got.map((r) => [r.key, r.s, r.e, r.v])).toEqual([
      ['a', '0', '1000', '3'], ['b', '0', '1000', '1'],
      ['a', '1000', '2000', '1'],
      ['b', '2000', '3000', '1'],
    ]);
    const lateRow = got[0] as { pane_index: number; pane_timing: string; pane_final: boolean };
    expect(lateRow).toMatchObject({ pane_index: 1, pane_timing: 'late' }); // the late pane replaced the on-time one
  });

  it('retractions delete the rows of merged-away sessions in the same transaction: totals never double-count', async () => {
    const t = table();
    const sink = toPostgres({ connection: URL, table: t, mode: 'upsert-windows', createTable: true });
    await sink.open?.({ name: 'pg' });
    await sink.write([result('u', 0, 10, 2), result('u', 20, 30, 1), result('v', 0, 10, 5)], [9, 29, 9]);
    const sumOf = async () => Number((await db.query(`SELECT coalesce(sum((value)::numeric), 0) AS s FROM ${q(t)} WHERE key = 'u'`)).rows[0].s);
    expect(await sumOf()).toBe(3);
    // a record at 12 bridges the two sessions: both are retracted, the merged session [0, 30) appears
    await sink.write([result('u', 0, 10, 2, 0, true), result('u', 20, 30, 1, 0, true), result('u', 0, 30, 4)], [9, 29, 29]);
    expect((await rows(t)).map((r) => [r.key, r.s, r.e, r.v])).toEqual([['u', '0', '30', '4'], ['v', '0', '10', '5']]);
    expect(await sumOf()).toBe(4);

    // a failing batch rolls back everything in it, the deletions included
    await expect(sink.write([result('u', 0, 30, 4, 0, true), result('u', 0, 40, 'bad\u0000text')], [29, 39])).rejects.toThrow(PostgresError);
    expect((await rows(t)).map((r) => [r.key, r.s, r.e, r.v])).toEqual([['u', '0', '30', '4'], ['v', '0', '10', '5']]);
    await sink.close?.();
  });

  it.each([1, 1024])('a retracting session pipeline (batch size %d): merged-away sessions vanish, totals never double-count', async (batchSize) => {
    const t = table();
    const p = new Pipeline({ clock: new ManualClock(), batchSize });
    const evs = [{ k: 'a', ts: 0 }, { k: 'a', ts: 150 }, { k: 'b', ts: 10 }, { k: 'a', ts: 400 }, { k: 'a', ts: 80 }]; // 80 bridges [0,100) and [150,250)
    p.source(fromArray(evs), { timestamp: (e) => e.ts, watermark: boundedOutOfOrderness(0) })
      .keyBy((e) => e.k).window(session(100), { allowedLateness: 1_000, accumulation: 'retracting' }).aggregate(count())
      .sink(toPostgres({ connection: URL, table: t, mode: 'upsert-windows', createTable: true }));
    await p.run();
    expect((await rows(t, 'key, window_start')).map((r) => [r.key, r.s, r.e, r.v])).toEqual([
      ['a', '0', '250', '3'], ['a', '400', '500', '1'], ['b', '10', '110', '1'],
    ]);
    const total = (await db.query(`SELECT sum((value)::int)::int AS n FROM ${q(t)}`)).rows[0].n;
    expect(total).toBe(evs.length);
  });

  it('applies results in order within a batch, and never lets an older pane or retraction undo a newer pane', async () => {
    const t = table();
    const sink = toPostgres({ connection: URL, table: t, mode: 'upsert-windows', createTable: true });
    await drive(sink, [
      // pane 0, its retraction, pane 1 of the same window — and a window retracted then re-created
      [result('a', 0, 10, 1, 0), result('a', 0, 10, 1, 0, true), result('a', 0, 10, 2, 1), result('b', 0, 10, 7, 0)],
      // a replayed older pane does not overwrite pane 1; a retraction of pane 0 does not delete pane 1
      [result('a', 0, 10, 1, 0), result('a', 0, 10, 1, 0, true), result('b', 0, 10, 7, 0, true)],
      // a retraction then a newer pane of the same window in one batch: the new pane stays
      [result('c', 5, 15, 1, 0), result('c', 5, 15, 1, 0, true), result('c', 5, 15, 3, 1)],
    ]);
    expect((await rows(t)).map((r) => [r.key, r.s, r.v, r.pane_index])).toEqual([['a', '0', '2', 1], ['c', '5', '3', 1]]);
  });

  it('keys: bigints and arrays of them survive exactly; values with bigints are exact jsonb; ±∞ windows are the bigint extremes', async () => {
    const t = table();
    const big = 2n ** 70n;
    const sink = toPostgres({ connection: URL, table: t, mode: 'upsert-windows', createTable: true });
    await drive(sink, [[
      result(big, 0, 10, { total: big, n: 1 }),
      result(['u1', 2n ** 64n, 3, true], 0, 10, [1, 'x']),
      result('plain', 0, 10, null),
      result(-0, 0, 10, 0.5),
      result('global', -Infinity, Infinity, 9),
    ]]);
    const got = await rows(t, 'key');
    const byKey = Object.fromEntries(got.map((r) => [r.key, r]));
    expect(Object.keys(byKey).sort()).toEqual(['0', '1180591620717411303424', '["u1",18446744073709551616,3,true]', 'global', 'plain'].sort());
    expect(byKey['1180591620717411303424']?.v).toBe('{"n": 1, "total": 1180591620717411303424}');
    expect(byKey['plain']?.v).toBe('null');
    expect(byKey['global']).toMatchObject({ s: '-9223372036854775808', e: '9223372036854775807', v: '9' });
    expect(keyText(['a"b', 1n])).toBe('["a\\"b",1]');
  });

  it('a real global-window and session pipeline writes to the table', async () => {
    const t = table();
    const p = new Pipeline({ clock: new ManualClock() });
    const s = p.source(fromArray([{ k: 1n, ts: 0, v: 2 }, { k: 1n, ts: 5, v: 3 }, { k: 2n, ts: 100, v: 4 }]), { timestamp: (e) => e.ts, watermark: boundedOutOfOrderness(0) });
    s.keyBy((e) => e.k).window(session(10)).aggregate(sum((e) => e.v))
      .sink(toPostgres({ connection: URL, table: t, mode: 'upsert-windows', createTable: true }));
    await p.run();
    expect((await rows(t)).map((r) => [r.key, r.s, r.e, r.v])).toEqual([['1', '0', '15', '5'], ['2', '100', '110', '4']]);
  });

  it('typed value columns through a mapping function', async () => {
    const t = table();
    const sink = toPostgres<string, { sum: number; n: number }>({
      connection: URL, table: t, mode: 'upsert-windows', createTable: true,
      columns: { total: 'numeric(12,2)', n: 'bigint', currency: 'text' },
      mapping: (v, r) => ({ total: v.sum, n: v.n, currency: r.key === 'eu' ? 'EUR' : 'USD' }),
    });
    await sink.open?.({ name: 'pg' });
    await sink.write([{ key: 'eu', window: { start: 0, end: 10 }, value: { sum: 12.5, n: 3 }, pane: pane(0) }], [9]);
    await sink.close?.();
    const got = (await db.query(`SELECT key, total::text AS total, n::text AS n, currency, pg_typeof(total)::text AS tt FROM ${q(t)}`)).rows;
    expect(got).toEqual([{ key: 'eu', total: '12.50', n: '3', currency: 'EUR', tt: 'numeric' }]);

    const bad = toPostgres<string, number>({ connection: URL, table: t, mode: 'upsert-windows', columns: { total: 'numeric' }, mapping: () => ({ nope: 1 }) });
    await bad.open?.({ name: 'pg' });
    await expect(bad.write([result('x', 0, 10, 1) as WindowResult<string, number>], [9])).rejects.toThrow(/not declared in columns/);
    await bad.close?.();
  });

  it('append mode: batched inserts (several statements per write), jsonb by default or typed columns', async () => {
    const t = table();
    const sink = toPostgres<{ id: number; big: bigint }>({ connection: URL, table: t, mode: 'append', createTable: true, batchSize: 3 });
    await sink.open?.({ name: 'pg' });
    const values = Array.from({ length: 10 }, (_, i) => ({ id: i, big: 2n ** 60n + BigInt(i) }));
    const w = sink.write(values, values.map((v) => 1_000 + v.id));
    expect(w).toBeInstanceOf(Promise); // backpressure: the runtime awaits it
    await w;
    await sink.close?.();
    const got = (await db.query(`SELECT event_time::text AS t, value::text AS v FROM ${q(t)} ORDER BY event_time`)).rows;
    expect(got).toHaveLength(10);
    expect(got[9]).toEqual({ t: '1009', v: '{"id": 9, "big": 1152921504606846985}' });

    const t2 = table();
    const p = new Pipeline({ clock: new ManualClock() });
    p.source(fromArray([{ user: 'a', amount: 3 }, { user: 'b', amount: 4 }]), { timestamp: () => 5 })
      .sink(toPostgres({ connection: URL, table: { schema: 'public', name: t2 }, mode: 'append', createTable: true,
        columns: { at: 'bigint', user: 'text', amount: 'integer' },
        mapping: (r: { user: string; amount: number }, ts) => ({ at: ts, user: r.user, amount: r.amount }) }));
    await p.run();
    expect((await db.query(`SELECT at::int, "user", amount FROM ${q(t2)} ORDER BY "user"`)).rows).toEqual([{ at: 5, user: 'a', amount: 3 }, { at: 5, user: 'b', amount: 4 }]);
  });

  it('quotes identifiers: hostile table and column names are just names', async () => {
    const t = table('tm "q"; DROP TABLE x; --');
    const sink = toPostgres<number>({ connection: URL, table: t, mode: 'append', createTable: true, columns: { 'we"ird col': 'integer' }, mapping: (v) => ({ 'we"ird col': v }) });
    await sink.open?.({ name: 'pg' });
    await sink.write([1, 2], [0, 0]);
    await sink.close?.();
    expect((await db.query(`SELECT count(*)::int AS n FROM ${q(t)}`)).rows[0].n).toBe(2);
  });

  it('validates options eagerly, naming the factory', () => {
    const bad: [unknown, RegExp][] = [
      [{ connection: URL, table: 't', mode: 'merge' }, /mode must be/],
      [{ connection: URL, table: 'a.b', mode: 'append' }, /schema, name/],
      [{ connection: URL, table: '', mode: 'append' }, /non-empty/],
      [{ connection: URL, table: 't', mode: 'append', columns: { a: 'int' } }, /columns and mapping go together/],
      [{ connection: URL, table: 't', mode: 'append', columns: { a: "text default 'x'" }, mapping: () => ({}) }, /unsupported type/],
      [{ connection: URL, table: 't', mode: 'upsert-windows', columns: { key: 'text' }, mapping: () => ({}) }, /reserved/],
      [{ connection: URL, table: 't', mode: 'append', batchSize: 0 }, /batchSize/],
    ];
    for (const [opts, msg] of bad) {
      expect(() => toPostgres(opts as never)).toThrow(PlanError);
      expect(() => toPostgres(opts as never)).toThrow(msg);
      expect(() => toPostgres(opts as never)).toThrow(/tidemark\.toPostgres/);
    }
  });

  it('a missing table without createTable fails at open with a clear message', async () => {
    const sink = toPostgres({ connection: URL, table: uniqueName('tm_missing'), mode: 'append' });
    await expect(sink.open?.({ name: 'pg' })).rejects.toThrow(/does not exist \(pass createTable: true/);
    await sink.abort?.(new Error('test'));
  });

  it('credentials never appear in errors', async () => {
    const secret = 'Sup3r-Secret-pw';
    const conns = [
      `postgres://postgres:${secret}@127.0.0.1:5432/${uniqueName('tm_no_such_db')}`,
      { host: '127.0.0.1', port: 5432, user: 'postgres', password: secret, database: uniqueName('tm_no_such_db') },
      `postgres://postgres:${secret}@[not-a-host/test`,
    ];
    for (const connection of conns) {
      const sink = toPostgres({ connection, table: 't', mode: 'append' });
      const err = await Promise.resolve(sink.open?.({ name: 'pg' })).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(PostgresError);
      const shown = `${String(err)} ${inspect(err, { depth: 5 })} ${JSON.stringify(err)} ${(err as Error).stack ?? ''}`;
      expect(shown).not.toContain(secret);
      expect(shown).toMatch(/tidemark\.toPostgres: (opening|connecting) failed/);
      await sink.abort?.(err);
    }
  });

  it('abort rolls back a batch in flight; close ends the pool', async () => {
    const t = table();
    const app = uniqueName('tm_app');
    const sink = toPostgres<number>({ connection: { connectionString: URL, application_name: app }, table: t, mode: 'append', createTable: true });
    await sink.open?.({ name: 'pg' });
    await sink.write([1], [1]);
    const inFlight = sink.write([2, 3], [2, 3]) as Promise<void>;
    const aborted = sink.abort?.(new Error('run failed'));
    await expect(inFlight).rejects.toThrow(/rolled back/);
    await aborted;
    expect((await db.query(`SELECT value::int AS v FROM ${q(t)}`)).rows).toEqual([{ v: 1 }]);

    const sink2 = toPostgres<number>({ connection: { connectionString: URL, application_name: app }, table: t, mode: 'append' });
    await sink2.open?.({ name: 'pg' });
    const connections = async () => (await db.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [app])).rows[0].n as number;
    expect(await connections()).toBe(1);
    await sink2.close?.();
    for (let i = 0; i < 200 && (await connections()) > 0; i++) await new Promise((r) => setImmediate(r));
    expect(await connections()).toBe(0);
  });
});
