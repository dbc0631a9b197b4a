/**
 * `runPartitioned` in this process: options validated eagerly (naming the function), a lone
 * instance runs every partition and its status says so, and a pipeline keyed by something other
 * than the sources' partition key stops its tasks with a `PartitioningError` instead of
 * processing keys another partition owns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseTable, PartitioningError, type Pipeline, PlanError, type PartitionedEvent, count, forEach, fromArray, fromJetStream, partitionFor, runPartitioned, tumbling } from 'tidemark';
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

  // The module's plan is built and checked before connecting: these fail without any service.
  const events = (partitions: number) => fromJetStream<{ user: string; page: string; ts: number }>({ servers: NATS, stream: 'S', partitions, timestamp: (e) => e.ts });
  const check = (module: (p: Pipeline) => void, extra: { repartition?: string[] } = {}) => runPartitioned({ ...base, module, ...extra });

  it('refuses sources that are not partitioned, or partitioned differently', async () => {
    await expect(check((p) => {
      p.source(fromArray([1, 2]), { timestamp: (x) => x, name: 'numbers' }).keyBy((x) => x).window(tumbling(10)).aggregate(count());
    })).rejects.toThrow(/source 'numbers' \(array\) is not partitioned; every source of a partitioned run must be/);
    await expect(check((p) => {
      p.source(events(2), { name: 'events' });
    })).rejects.toThrow(/source 'events' \(jetstream\) has 2 partitions, but the run has 4/);
  });

  it('refuses a repartition that names no keyBy, and a node combining streams across the cut', async () => {
    await expect(check((p) => {
      p.source(events(4)).keyBy((e) => e.page, { name: 'byPage' });
    }, { repartition: ['byUser'] })).rejects.toThrow(/repartition names 'byUser', which is not a keyBy of the pipeline/);
    await expect(check((p) => {
      const s = p.source(events(4), { name: 'events' });
      const repartitioned = s.keyBy((e) => e.page, { name: 'byPage' }).map((e) => e, { name: 'after' });
      repartitioned.union(s).keyBy((e) => e.user, { name: 'byUser' });
    }, { repartition: ['byPage'] })).rejects.toThrow(/combines streams of different sub-topologies \(after keyBy 'byPage' and the sources\)/);
  });
});

describe.skipIf(!hasServices)('runPartitioned in one process', () => {
  let admin: JsAdmin;
  const tables: string[] = [];
  const apps: string[] = [];
  const appId = (): string => {
    const id = uniqueName('tmapp');
    apps.push(id);
    return id;
  };
  beforeAll(async () => {
    admin = await JsAdmin.connect(NATS);
  });
  afterAll(async () => {
    for (const id of apps) await admin?.jsm.streams.delete(`KV_tidemark_${id}`).catch(() => undefined);
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
      ...base, applicationId: appId(), partitions: 2, leaseTtl: 1_000,
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

  it('two instances in one process share the partitions; a stolen lease is lost at the next renewal', async () => {
    const stream = await admin.stream('tm_two');
    await publishByUser(admin, stream, 4, makeEvents(400));
    const table = uniqueName('tm_two_out');
    tables.push(table);
    const applicationId = appId();
    const log: { who: string; e: PartitionedEvent }[] = [];
    const start = (who: string) => runPartitioned({
      ...base, applicationId, instanceId: who, partitions: 4, leaseTtl: 900,
      args: { servers: NATS, stream, partitions: 4, table, connection: PG_URL },
      checkpoints: { connection: PG_URL, everyRecords: 50 },
      onEvent: (e) => log.push({ who, e }),
    });
    const a = await start('a');
    const b = await start('b');
    await poll('two partitions each, all finished', () => {
      const sa = a.status().partitions;
      const sb = b.status().partitions;
      return sa.length === 2 && sb.length === 2 && [...sa, ...sb].every((x) => x.state === 'finished') ? true : undefined;
    });
    expect(new Set([...a.status().partitions, ...b.status().partitions].map((x) => x.partition)).size).toBe(4);
    // a thief overwrites one of a's leases (as a successor would after it expired)
    const victim = (a.status().partitions[0] as { partition: number }).partition;
    const thief = await LeaseTable.open(admin.nc, `tidemark_${applicationId}`, 60_000, () => performance.now());
    await thief.kv.put(`lease.${victim}`, new TextEncoder().encode(JSON.stringify({ owner: 'thief', nonce: thief.nonce, token: 1 })));
    await poll('a lost it', () => (log.some((x) => x.who === 'a' && x.e.type === 'lost' && x.e.partition === victim) ? true : undefined));
    await poll('a forgot it', () => (a.status().partitions.every((x) => x.partition !== victim) ? true : undefined));
    expect(b.status().partitions.every((x) => x.partition !== victim)).toBe(true); // held by the thief
    await Promise.all([a.stop(), b.stop()]);
    expect(log.filter((x) => x.e.type === 'failed')).toEqual([]);
  });

  it('keying by something other than the partition key stops the task with a PartitioningError', async () => {
    const stream = await admin.stream('tm_wrongkey');
    await publishByUser(admin, stream, 2, makeEvents(200)); // partitioned by user…
    const table = uniqueName('tm_wrongkey_out');
    tables.push(table);
    const events: PartitionedEvent[] = [];
    const app = await runPartitioned({
      ...base, applicationId: appId(), partitions: 2, leaseTtl: 1_000,
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

  it('a few records published to the wrong partition go to the dead letters with the reason; the task goes on', async () => {
    const stream = await admin.stream('tm_mispub');
    const users = Array.from({ length: 60 }, (_, i) => ({ user: `u${i}`, page: 'x', ts: i }));
    await admin.publishJson((i) => `${stream}.${partitionFor((users[i] as { user: string }).user, 2)}`, users);
    const stray = users.find((u) => partitionFor(u.user, 2) === 0) as { user: string };
    await admin.publishJson(() => `${stream}.1`, [{ user: stray.user, page: 'x', ts: 100 }]); // mis-published
    const table = uniqueName('tm_mispub_ckpt');
    tables.push(table);
    const events: PartitionedEvent[] = [];
    const dead: string[] = [];
    let processed = 0;
    const app = await runPartitioned({
      module: (p) => {
        p.source(fromJetStream<{ user: string; ts: number }>({ servers: NATS, stream, partitions: 2, timestamp: (e) => e.ts }), { name: 'ev' })
          .keyBy((e) => e.user, { name: 'byUser' })
          .sink(forEach(() => {
            processed++;
          }), { name: 'out' });
        p.deadLetters().sink(forEach((d) => {
          dead.push(d.reason);
        }), { name: 'dead' });
      },
      applicationId: appId(), partitions: 2, nats: { servers: NATS }, leaseTtl: 1_000,
      checkpoints: { connection: PG_URL, table, everyRecords: 50 },
      onEvent: (e) => events.push(e),
    });
    await poll('both partitions finished', () => (events.filter((e) => e.type === 'finished').length === 2 ? true : undefined));
    await app.stop();
    expect(events.filter((e) => e.type === 'failed')).toEqual([]);
    expect(processed).toBe(60);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatch(new RegExp(`keyBy 'byUser': key "${stray.user}" belongs to partition 0 of 2, but this task reads partition 1`));
  });
});
