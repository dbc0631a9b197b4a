/**
 * `runPartitioned` in this process: options validated eagerly (naming the function), a lone
 * instance runs every partition and its status says so, and a pipeline keyed by something other
 * than the sources' partition key stops its tasks with a `PartitioningError` instead of
 * processing keys another partition owns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PartitioningError, PlanError, type PartitionedEvent, runPartitioned } from 'tidemark';
import { available, uniqueName } from '../connectors/services.js';
import { JsAdmin } from '../connectors/jetstream/fixture.js';
import clusterModule from './fixtures/module.js';
import { NATS, PG_URL, dropTables, makeEvents, poll, publishByUser, tableLines } from './support.js';

const hasServices = (await available('nats')) && (await available('postgres'));

const base = { module: clusterModule, applicationId: 'app', partitions: 4, nats: { servers: NATS }, checkpoints: { everyRecords: 10 } };

describe('runPartitioned options', () => {
  it('are validated eagerly, naming the function', async () => {
    await expect(runPartitioned({ ...base, applicationId: 'a b' })).rejects.toThrow(/tidemark.runPartitioned: applicationId/);
    await expect(runPartitioned({ ...base, partitions: 3 })).rejects.toThrow(/tidemark.runPartitioned: partitions must be a positive integer dividing keyGroups \(128\)/);
    await expect(runPartitioned({ ...base, partitions: 4, keyGroups: 2 })).rejects.toThrow(PlanError);
    await expect(runPartitioned({ ...base, checkpoints: {} })).rejects.toThrow(/checkpoints needs interval or everyRecords/);
    await expect(runPartitioned({ ...base, leaseTtl: 10 })).rejects.toThrow(/leaseTtl must be at least 300 ms/);
    await expect(runPartitioned({ ...base, module: 'x' as never })).rejects.toThrow(/module must be a function/);
  });
});

describe.skipIf(!hasServices)('runPartitioned in one process', () => {
  let admin: JsAdmin;
  const tables: string[] = [];
  beforeAll(async () => {
    admin = await JsAdmin.connect(NATS);
  });
  afterAll(async () => {
    await admin?.close();
    await dropTables(tables).catch(() => undefined);
  });

  it('a lone instance runs every partition; stop releases them', async () => {
    const stream = await admin.stream('tm_lone');
    await publishByUser(admin, stream, 2, makeEvents(300));
    const table = uniqueName('tm_lone_out');
    tables.push(table);
    const events: PartitionedEvent[] = [];
    const app = await runPartitioned({
      ...base, applicationId: uniqueName('tmapp'), partitions: 2, leaseTtl: 1_000,
      args: { servers: NATS, stream, partitions: 2, table, connection: PG_URL },
      checkpoints: { connection: PG_URL, everyRecords: 50 },
      onEvent: (e) => events.push(e),
    });
    await poll('both partitions finished', () => (events.filter((e) => e.type === 'finished').length === 2 ? true : undefined));
    expect(app.status()).toMatchObject({ instanceId: app.instanceId, partitions: [{ partition: 0, state: 'finished' }, { partition: 1, state: 'finished' }] });
    await app.stop();
    expect(events.filter((e) => e.type === 'released').map((e) => (e as { partition: number }).partition).sort()).toEqual([0, 1]);
    expect((await tableLines(table)).length).toBeGreaterThan(0);
  });

  it('keying by something other than the partition key stops the task with a PartitioningError', async () => {
    const stream = await admin.stream('tm_wrongkey');
    await publishByUser(admin, stream, 2, makeEvents(200)); // partitioned by user…
    const table = uniqueName('tm_wrongkey_out');
    tables.push(table);
    const events: PartitionedEvent[] = [];
    const app = await runPartitioned({
      ...base, applicationId: uniqueName('tmapp'), partitions: 2, leaseTtl: 1_000,
      args: { servers: NATS, stream, partitions: 2, table, connection: PG_URL, byPage: true }, // …keyed by page
      checkpoints: { connection: PG_URL, everyRecords: 50 },
      onEvent: (e) => events.push(e),
    });
    const failed = await poll('a task failed', () => events.find((e): e is Extract<PartitionedEvent, { type: 'failed' }> => e.type === 'failed'));
    await app.stop();
    expect(failed.error).toBeInstanceOf(PartitioningError);
    expect(String((failed.error as Error).message)).toMatch(/keyBy 'byPage': key "page-\d" belongs to partition \d of 2, but this task reads partition \d: .*declare repartition: \['byPage'\]/);
    expect(await tableLines(table)).toEqual([]);
  });
});
