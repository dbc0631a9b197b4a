/**
 * End to end, exactly-once: a JSON-lines file read by a checkpointed pipeline (map and filter, no
 * operator state) into `toJsonLines` and `toPostgres` with `delivery: 'exactly-once'`. The first
 * run fails deliberately at record K (a map that throws once); a second run with the same
 * checkpoint store restores and finishes. The sinks then hold exactly the output of an
 * uninterrupted run — nothing lost, nothing twice — with the file store and the PostgreSQL store.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CheckpointStore, ManualClock, Pipeline, type RunSummary, fileCheckpoints, fromJsonLines, postgresCheckpoints, toJsonLines, toPostgres } from 'tidemark';
import { available, uniqueName } from '../services.js';

const URL = 'postgres://postgres@127.0.0.1:5432/test';
const pgUp = await available('postgres');

interface In { i: number; ts: number }
interface Out { i: number; sq: number }

const N = 500;
const K = 337;
const dir = mkdtempSync(join(tmpdir(), 'tidemark-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const input = join(dir, 'input.jsonl');
writeFileSync(input, Array.from({ length: N }, (_, i) => `${JSON.stringify({ i, ts: 1_000 + i })}\n`).join(''));
const expected: Out[] = Array.from({ length: N }, (_, i) => i).filter((i) => i % 3 !== 0).map((i) => ({ i, sq: i * i }));

/** One run of the pipeline; `failAt` makes the map throw (once) at that record. */
async function run(store: CheckpointStore, sinks: { file?: string; table?: string }, failAt?: number): Promise<RunSummary> {
  const p = new Pipeline({ clock: new ManualClock(), batchSize: 16, checkpoints: { store, everyRecords: 40 } });
  const out = p.source(fromJsonLines<In>(input, { readChunkBytes: 512 }), { timestamp: (r) => r.ts, name: 'input' })
    .map((r) => {
      if (r.i === failAt) throw new Error(`deliberate failure at record ${failAt}`);
      return r;
    })
    .filter((r) => r.i % 3 !== 0)
    .map((r): Out => ({ i: r.i, sq: r.i * r.i }));
  if (sinks.file !== undefined) out.sink(toJsonLines<Out>(sinks.file, { delivery: 'exactly-once' }), { name: 'file' });
  if (sinks.table !== undefined) {
    out.sink(toPostgres<Out>({ connection: URL, table: sinks.table, mode: 'append', createTable: true, delivery: 'exactly-once' }), { name: 'db' });
  }
  return p.run();
}

const fileLines = (file: string): Out[] => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Out);

describe('exactly-once end to end (JSON lines → JSON lines, file checkpoints)', () => {
  it('a run failing at record K and a restored run write exactly the uninterrupted output', async () => {
    const store = fileCheckpoints(join(dir, 'ckpt-file'));
    const file = join(dir, 'out.jsonl');
    await expect(run(store, { file }, K)).rejects.toThrow(/deliberate failure/);
    const partial = fileLines(file);
    expect(partial.length).toBeGreaterThan(0); // checkpoints before K were committed
    expect(partial).toEqual(expected.slice(0, partial.length));
    expect(partial.length).toBeLessThan(expected.filter((o) => o.i < K).length + 1);
    const latest = await store.latest();
    expect(latest?.sources['input']?.position).toMatchObject({ offset: expect.any(Number), line: expect.any(Number) });
    const summary = await run(store, { file });
    expect(summary.checkpoints?.restoredFrom).toBe(latest?.id);
    expect(summary.guarantees).toEqual({ file: 'exactly-once' });
    expect(fileLines(file)).toEqual(expected);
    // the uninterrupted run, for comparison: byte for byte the same file
    const reference = join(dir, 'reference.jsonl');
    await run(fileCheckpoints(join(dir, 'ckpt-ref')), { file: reference });
    expect(readFileSync(file)).toEqual(readFileSync(reference));
  });
});

describe.skipIf(!pgUp)('exactly-once end to end (JSON lines → PostgreSQL and JSON lines, PostgreSQL checkpoints)', () => {
  let db: pg.Client;
  const table = uniqueName('tm_e2e');
  const application = uniqueName('e2e');
  const ckptTable = uniqueName('tm_e2e_ckpt');
  beforeAll(async () => {
    db = new pg.Client({ connectionString: URL });
    await db.connect();
  });
  afterAll(async () => {
    await db.query(`DROP TABLE IF EXISTS "${table}"`);
    await db.query(`DROP TABLE IF EXISTS "${ckptTable}"`);
    await db.query('DELETE FROM tidemark_sink_staging WHERE sink LIKE $1', [`"${table}"/%`]).catch(() => undefined);
    await db.query('DELETE FROM tidemark_sink_epochs WHERE sink LIKE $1', [`"${table}"/%`]).catch(() => undefined);
    await db?.end();
  });

  it('a run failing at record K and a restored run leave exactly the uninterrupted rows', async () => {
    const store = (): CheckpointStore => postgresCheckpoints({ connection: URL, table: ckptTable, application });
    const file = join(dir, 'out-pg.jsonl');
    await expect(run(store(), { file, table }, K)).rejects.toThrow(/deliberate failure/);
    const rows = async (): Promise<Out[]> => (await db.query<{ value: Out }>(`SELECT value FROM "${table}" ORDER BY event_time`)).rows.map((r) => r.value);
    const partial = await rows();
    expect(partial.length).toBeGreaterThan(0);
    expect(partial).toEqual(expected.slice(0, partial.length));
    const summary = await run(store(), { file, table });
    expect(summary.checkpoints?.restoredFrom).toBeGreaterThan(0);
    expect(summary.guarantees).toEqual({ file: 'exactly-once', db: 'exactly-once' });
    expect(await rows()).toEqual(expected);
    expect(fileLines(file)).toEqual(expected);
    const staged = await db.query('SELECT 1 FROM tidemark_sink_staging WHERE sink LIKE $1', [`"${table}"/%`]);
    expect(staged.rowCount).toBe(0);
  });
});
