/**
 * Review 2: toPostgres with delivery 'exactly-once' — staging gaps after a retried write, restores
 * from a checkpoint older than the fence, staging rows of dead runs.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pipeline, type Sink, fromArray, toPostgres } from 'tidemark';
import { available, uniqueName } from '../services.js';

const URL = 'postgres://postgres@127.0.0.1:5432/test';
const up = await available('postgres');

describe.skipIf(!up)('toPostgres exactly-once: regressions found in review', () => {
  let db: pg.Client;
  const schemas: string[] = [];
  const schema = async (): Promise<string> => {
    const s = uniqueName('rv2');
    schemas.push(s);
    await db.query(`CREATE SCHEMA "${s}"`);
    return s;
  };
  beforeAll(async () => {
    db = new pg.Client({ connectionString: URL });
    await db.connect();
  });
  afterAll(async () => {
    for (const s of schemas) await db.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await db?.end();
  });

  const sink = (s: string): Sink<number> => toPostgres<number>({ connection: URL, table: { schema: s, name: 't' }, mode: 'append', createTable: true, delivery: 'exactly-once' });
  const values = async (s: string): Promise<number[]> => (await db.query<{ value: number }>(`SELECT value FROM "${s}".t ORDER BY value`)).rows.map((r) => r.value);
  const staged = async (s: string): Promise<number> => Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${s}".tidemark_sink_staging`)).rows[0]?.n);

  it('a staging write that fails once and succeeds on retry is committed (no gap in the staged sequence)', async () => {
    const s = await schema();
    // The staging table as the sink creates it, plus a trigger that fails the first insert (a transient error).
    await db.query(`CREATE TABLE "${s}".tidemark_sink_staging ("sink" text NOT NULL, "run" text NOT NULL, "seq" bigint NOT NULL, "payload" bytea NOT NULL, "created_at" timestamptz NOT NULL DEFAULT now(), PRIMARY KEY ("sink", "run", "seq"))`);
    await db.query(`CREATE SEQUENCE "${s}".attempts`); // sequences are not rolled back
    await db.query(`CREATE FUNCTION "${s}".flaky() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF nextval('"${s}".attempts') = 1 THEN RAISE EXCEPTION 'transient failure'; END IF;
        RETURN NEW;
      END $$`);
    await db.query(`CREATE TRIGGER flaky BEFORE INSERT ON "${s}".tidemark_sink_staging FOR EACH ROW EXECUTE FUNCTION "${s}".flaky()`);

    const p = new Pipeline({ batchSize: 2, sinkRetry: { attempts: 3, delay: 1 } });
    p.source(fromArray([1, 2, 3, 4, 5, 6]), { timestamp: (v) => v }).sink(sink(s), { name: 'out' });
    // The first staging insert fails, the retry stages the same write under the next sequence number;
    // the epoch's range still starts at the failed number, so its commit must not find a hole.
    await p.run();
    expect(await values(s)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('restoring a checkpoint older than the last committed epoch is refused (not silently duplicated)', async () => {
    const s = await schema();
    const a = sink(s);
    await a.open?.({ name: 'out' });
    await a.write([1, 2], [1, 2]);
    const h1 = await a.preCommit?.(1);
    await a.commit?.(1, h1);
    await a.write([3, 4], [3, 4]);
    const h2 = await a.preCommit?.(2);
    await a.commit?.(2, h2); // epoch 2 is visible
    await a.close?.();
    // A restore from checkpoint 1 (e.g. a savepoint, checkpoints.restore: 1): the restored run
    // produces [3, 4] again. The log sink refuses this; the file sink trims; toPostgres goes on.
    const b = sink(s);
    let refused = false;
    try {
      await b.open?.({ name: 'out', restored: { checkpointId: 1, handle: h1 } });
    } catch {
      refused = true;
    }
    if (!refused) {
      await b.write([3, 4], [3, 4]);
      const h3 = await b.preCommit?.(3);
      await b.commit?.(3, h3);
      await b.close?.();
      // exactly-once: the table must hold an uninterrupted run's output
      expect(await values(s)).toEqual([1, 2, 3, 4]);
    }
  });

  it('a fresh open does not leave the staged writes of a dead run behind forever', async () => {
    const s = await schema();
    const a = sink(s);
    await a.open?.({ name: 'out' });
    await a.write([1, 2], [1, 2]);
    await a.abort?.(new Error('crash before the first checkpoint'));
    expect(await staged(s)).toBe(1);
    // The restart has no checkpoint to restore (none completed): a fresh open with a new run.
    const b = sink(s);
    await b.open?.({ name: 'out' });
    await b.write([1, 2], [1, 2]);
    const h = await b.preCommit?.(1);
    await b.commit?.(1, h);
    await b.close?.();
    expect(await values(s)).toEqual([1, 2]);
    expect(await staged(s)).toBe(0); // the dead run's row is never deleted
  });
});
