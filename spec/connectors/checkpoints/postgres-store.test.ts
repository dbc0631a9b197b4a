/**
 * postgresCheckpoints against the local PostgreSQL: write / latest / load / list, pruning to the
 * last `keep` periodic checkpoints (savepoints kept), applications isolated in one table, corrupt
 * rows refused with a CheckpointError, credentials kept out of errors, options validated eagerly.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_FORMAT, CheckpointError, type CheckpointMeta, type CheckpointState, PlanError, postgresCheckpoints } from 'tidemark';
import { available, uniqueName } from '../services.js';

const URL = 'postgres://postgres@127.0.0.1:5432/test';
const up = await available('postgres');

const state: CheckpointState = {
  sources: { src: { position: { offset: 42, line: 3 }, replayable: true, watermark: 1000, partitions: [[0, 1000]], read: 7 } },
  operators: { count: { kind: 'aggregate', version: 1, state: { big: 2n ** 70n, list: [1, 'a', null] } } },
};
const meta = (id: number, type: CheckpointMeta['type'] = 'checkpoint'): CheckpointMeta => ({ format: CHECKPOINT_FORMAT, id, type, takenAt: 1_000 * id });

describe.skipIf(!up)('postgresCheckpoints', () => {
  let db: pg.Client;
  const table = uniqueName('tm_ckpt');
  beforeAll(async () => {
    db = new pg.Client({ connectionString: URL });
    await db.connect();
  });
  afterAll(async () => {
    await db?.query(`DROP TABLE IF EXISTS "${table}"`);
    await db?.end();
  });

  it('validates its options eagerly, naming the function', () => {
    expect(() => postgresCheckpoints({ application: '' })).toThrow(/tidemark.postgresCheckpoints: application/);
    expect(() => postgresCheckpoints({ application: 'a', keep: 0 })).toThrow(PlanError);
    expect(() => postgresCheckpoints({ application: 'a', table: 'a.b' })).toThrow(/schema/);
  });

  it('writes, lists, loads and returns the latest; prunes old periodic checkpoints but keeps savepoints', async () => {
    const store = postgresCheckpoints({ connection: URL, table, application: 'app-a', keep: 2 });
    try {
      expect(await store.latest()).toBeUndefined();
      const bytes = store.encodeState(state);
      for (const id of [1, 2]) await store.write(meta(id), bytes, { out: { run: 'r', epoch: id } });
      const sp = await store.write(meta(3, 'savepoint'), bytes, {});
      expect(sp).toMatchObject({ id: 3, type: 'savepoint', location: expect.stringContaining(table) });
      for (const id of [4, 5]) await store.write(meta(id), bytes, {});
      expect((await store.list()).map((i) => [i.id, i.type])).toEqual([[3, 'savepoint'], [4, 'checkpoint'], [5, 'checkpoint']]);
      const latest = await store.latest();
      expect(latest).toMatchObject({ id: 5, type: 'checkpoint', takenAt: 5000, sinks: {} });
      expect(latest?.sources).toEqual(state.sources);
      expect(latest?.operators).toEqual(state.operators);
      expect(await store.load(3)).toMatchObject({ id: 3, type: 'savepoint' });
      await expect(store.load(1)).rejects.toThrow(/no checkpoint or savepoint 1/);
      // another application in the same table sees nothing of app-a
      const other = postgresCheckpoints({ connection: URL, table, application: 'app-b' });
      expect(await other.latest()).toBeUndefined();
      expect(await other.list()).toEqual([]);
      await other.close?.();
    } finally {
      await store.close?.();
    }
  });

  it('keeps sink handles and rewrites an id taken again (a restored run continuing the numbering)', async () => {
    const store = postgresCheckpoints({ connection: URL, table, application: 'app-c' });
    try {
      await store.write(meta(1), store.encodeState(state), { out: { file: 'x', base: 1 } });
      await store.write(meta(1), store.encodeState(state), { out: { file: 'y', base: 2 } });
      expect((await store.load(1)).sinks).toEqual({ out: { file: 'y', base: 2 } });
    } finally {
      await store.close?.();
    }
  });

  it('refuses a corrupt row with a CheckpointError saying where and why', async () => {
    const store = postgresCheckpoints({ connection: URL, table, application: 'app-d' });
    try {
      await store.write(meta(7), store.encodeState(state), {});
      await db.query(`UPDATE "${table}" SET bytes = set_byte(bytes, length(bytes) - 1, (get_byte(bytes, length(bytes) - 1) + 1) % 256) WHERE application = 'app-d' AND id = 7`);
      await expect(store.latest()).rejects.toThrow(CheckpointError);
      await expect(store.load(7)).rejects.toThrow(/app-d\/7 is refused: its checksum does not match/);
      await db.query(`UPDATE "${table}" SET bytes = '\\x0102'::bytea WHERE application = 'app-d' AND id = 7`);
      await expect(store.load(7)).rejects.toThrow(/shorter than its header/);
    } finally {
      await store.close?.();
    }
  });

  it('never puts the password in its errors', async () => {
    const store = postgresCheckpoints({ connection: 'postgres://tm_nobody:s3cr3t-pw@127.0.0.1:5432/test', table, application: 'x' });
    const error = await store.latest().then(() => undefined, (e: unknown) => e);
    await store.close?.();
    expect(error).toBeInstanceOf(CheckpointError);
    expect(String((error as Error).message)).not.toContain('s3cr3t-pw');
    expect((error as Error).cause).toBeUndefined();
  });
});
