/**
 * toPostgres with `delivery: 'exactly-once'` against the local PostgreSQL: nothing visible before
 * commit, commit idempotent (fence row), a crash between pre-commit and commit repaired by the
 * restore, writes after the checkpoint discarded, upsert/retraction semantics unchanged.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlanError, type Sink, type WindowResult, toPostgres } from 'tidemark';
import { available, uniqueName } from '../services.js';

const URL = 'postgres://postgres@127.0.0.1:5432/test';
const up = await available('postgres');

type R = WindowResult<unknown, unknown>;
const result = (key: string, start: number, value: unknown, index = 0, retraction = false): R =>
  ({ key, window: { start, end: start + 10 }, value, pane: { timing: 'on-time', index, final: false }, ...(retraction ? { retraction: true as const } : {}) }) as R;

describe.skipIf(!up)("toPostgres with delivery: 'exactly-once'", () => {
  let db: pg.Client;
  const tables: string[] = [];
  const table = (): string => {
    const t = uniqueName('tm_eo');
    tables.push(t);
    return t;
  };
  beforeAll(async () => {
    db = new pg.Client({ connectionString: URL });
    await db.connect();
  });
  afterAll(async () => {
    for (const t of tables) {
      await db.query(`DROP TABLE IF EXISTS "${t}"`);
      await db.query('DELETE FROM tidemark_sink_staging WHERE sink LIKE $1', [`"${t}"/%`]).catch(() => undefined);
      await db.query('DELETE FROM tidemark_sink_epochs WHERE sink LIKE $1', [`"${t}"/%`]).catch(() => undefined);
    }
    await db?.end();
  });

  const append = (t: string): Sink<number> => toPostgres<number>({ connection: URL, table: t, mode: 'append', createTable: true, delivery: 'exactly-once' });
  const values = async (t: string): Promise<number[]> =>
    (await db.query<{ value: number }>(`SELECT value FROM "${t}" ORDER BY event_time, value`)).rows.map((r) => r.value);
  const write = async (sink: Sink<number>, vs: number[]): Promise<void> => {
    await sink.write(vs, vs);
  };
  const staged = async (t: string): Promise<number> =>
    Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM tidemark_sink_staging WHERE sink LIKE $1', [`"${t}"/%`])).rows[0]?.n);

  it('declares its guarantee only when configured, and validates delivery', () => {
    expect(toPostgres({ table: 'x', mode: 'append' }).guarantee).toBe('at-least-once');
    expect(toPostgres({ table: 'x', mode: 'append', delivery: 'exactly-once' }).guarantee).toBe('exactly-once');
    expect(toPostgres({ table: 'x', mode: 'append' }).preCommit).toBeUndefined();
    expect(() => toPostgres({ table: 'x', mode: 'append', delivery: 'twice' as never })).toThrow(PlanError);
  });

  it('stages writes until commit; a second commit changes nothing', async () => {
    const t = table();
    const sink = append(t);
    await sink.open?.({ name: 'out' });
    await write(sink, [1, 2]);
    await write(sink, [3]);
    expect(await values(t)).toEqual([]);
    const h1 = await sink.preCommit?.(1);
    expect(JSON.stringify(h1).length).toBeLessThan(100); // the handle is a range, not the rows
    await sink.commit?.(1, h1);
    await sink.commit?.(1, h1);
    expect(await values(t)).toEqual([1, 2, 3]);
    expect(await staged(t)).toBe(0);
    await sink.close?.();
  });

  it('a restore re-commits the checkpoint epoch and discards everything staged after it', async () => {
    const t = table();
    const a = append(t);
    await a.open?.({ name: 'out' });
    await write(a, [1, 2]);
    const h1 = await a.preCommit?.(1);
    await a.commit?.(1, h1);
    await write(a, [3, 4]);
    const h2 = await a.preCommit?.(2); // checkpoint 2 durable, crash before commit
    await write(a, [5, 6]); // after checkpoint 2
    await a.preCommit?.(3); // pre-committed, but checkpoint 3 never completed
    await a.abort?.(new Error('crash'));
    expect(await values(t)).toEqual([1, 2]);
    const b = append(t);
    await b.open?.({ name: 'out', restored: { checkpointId: 2, handle: h2 } });
    expect(await values(t)).toEqual([1, 2, 3, 4]);
    expect(await staged(t)).toBe(0);
    // the replayed input is written again, exactly once
    await write(b, [5, 6]);
    const h3 = await b.preCommit?.(3);
    await b.commit?.(3, h3);
    await b.close?.();
    expect(await values(t)).toEqual([1, 2, 3, 4, 5, 6]);
    // restoring checkpoint 2 again after epoch 3 was committed would write 5, 6 twice: refused
    const c = append(t);
    await expect(c.open?.({ name: 'out', restored: { checkpointId: 2, handle: h2 } })).rejects.toThrow(/already committed epoch 3, after checkpoint 2/);
    await c.abort?.(new Error('refused'));
    expect(await values(t)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('keeps upsert and retraction semantics when applying staged windows', async () => {
    const t = table();
    const sink = toPostgres<unknown, unknown>({ connection: URL, table: t, mode: 'upsert-windows', createTable: true, delivery: 'exactly-once' });
    await sink.open?.({ name: 'w' });
    await sink.write([result('a', 0, 1), result('b', 0, 5)], [9, 9]);
    await sink.write([result('a', 0, 2, 1), result('b', 0, 5, 0, true), result('c', 10, 7)], [9, 9, 19]);
    const h = await sink.preCommit?.(1);
    await sink.commit?.(1, h);
    await sink.close?.();
    const rows = (await db.query<{ key: string; value: number; pane_index: number }>(`SELECT key, value, pane_index FROM "${t}" ORDER BY key`)).rows;
    expect(rows).toEqual([{ key: 'a', value: 2, pane_index: 1 }, { key: 'c', value: 7, pane_index: 0 }]);
  });

  it('two sinks on one table with different names keep separate fences', async () => {
    const t = table();
    const x = append(t);
    const y = append(t);
    await x.open?.({ name: 'x' });
    await y.open?.({ name: 'y' });
    await write(x, [1]);
    await write(y, [2]);
    const hx = await x.preCommit?.(5);
    const hy = await y.preCommit?.(1);
    await x.commit?.(5, hx);
    await y.commit?.(1, hy);
    await x.close?.();
    await y.close?.();
    expect(await values(t)).toEqual([1, 2]);
  });
});
