/**
 * The repartition hand-off's own de-duplication (independent of JetStream's duplicate window): the
 * downstream reader drops a record whose counter it has passed for its origin — a replay published
 * under new message ids, as after an outage longer than the window — and anything carrying an
 * older fencing token than the newest seen from that origin (a zombie's in-flight publishes). The
 * repartition stream is written by hand here; the upstream task of the run reads an empty stream.
 * Idleness crosses the cut: an upstream partition without input (idle source) does not hold the
 * downstream watermark back, so windows fire with `follow: true`. Also: cuts whose upstream is not
 * deterministic are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Pipeline, PlanError, boundedOutOfOrderness, count, encodeMsgpack, forEach, fromJetStream, runPartitioned, tumbling } from 'tidemark';
import { available, uniqueName } from '../connectors/services.js';
import { JsAdmin } from '../connectors/jetstream/fixture.js';
import { NATS, PG_URL, dropTables, poll } from './support.js';

const hasServices = (await available('nats')) && (await available('postgres'));

interface Ev { readonly page: string; readonly ts: number }

describe('repartition cuts with a nondeterministic upstream', () => {
  const events = (stream: string) => fromJetStream<Ev & { user: string }>({ servers: NATS, stream, partitions: 2, timestamp: (e) => e.ts });
  const check = (module: (p: Pipeline) => void) => runPartitioned({
    module, applicationId: 'app', partitions: 2, nats: { servers: NATS }, checkpoints: { everyRecords: 10 }, repartition: ['byPage'],
  });

  it('refuses two sources before the cut', async () => {
    await expect(check((p) => {
      p.source(events('A'), { name: 'a' }).union(p.source(events('B'), { name: 'b' })).keyBy((e) => e.page, { name: 'byPage' });
    })).rejects.toThrow(/repartition 'byPage' reads 2 sources \(.*\); the order of a union depends on timing/);
  });

  it('refuses a window (timing-dependent lateness) before the cut, naming it', async () => {
    const err = await check((p) => {
      p.source(events('A'), { name: 'a' }).keyBy((e) => e.user, { name: 'byUser' }).window(tumbling(10)).aggregate(count(), { name: 'perUser' })
        .keyBy((c) => String(c), { name: 'byPage' });
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanError);
    expect(String((err as Error).message)).toMatch(/repartition 'byPage' needs a deterministic upstream .* but '.*' \(window:tumbling\) comes before it/);
  });

  it('accepts stateless steps before the cut', async () => {
    // (fails later, connecting: the plan itself passes)
    const err = await runPartitioned({
      module: (p) => {
        p.source(events('A'), { name: 'a' }).map((e) => e).filter(() => true).keyBy((e) => e.page, { name: 'byPage' });
      },
      applicationId: 'app', partitions: 2, nats: { servers: '127.0.0.1:1', reconnect: { maxAttempts: 0 } }, checkpoints: { everyRecords: 10 }, repartition: ['byPage'],
    }).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(PlanError);
  });
});

describe.skipIf(!hasServices)('repartition reader de-duplication', () => {
  let admin: JsAdmin;
  const tables: string[] = [];
  let applicationId = '';
  const apps: string[] = [];
  beforeAll(async () => {
    admin = await JsAdmin.connect(NATS);
  });
  afterAll(async () => {
    await admin?.jsm.streams.delete(`KV_tidemark_${applicationId}`).catch(() => undefined);
    await admin?.jsm.streams.delete(`${applicationId}-repartition-byPage`).catch(() => undefined);
    for (const id of apps) {
      await admin?.jsm.streams.delete(`KV_tidemark_${id}`).catch(() => undefined);
      await admin?.jsm.streams.delete(`${id}-repartition-byPage`).catch(() => undefined);
    }
    await admin?.close();
    await dropTables(tables).catch(() => undefined);
  });

  it('drops replays (new message ids) by counter and a zombie\'s publishes by token', async () => {
    const stream = await admin.stream('tm_handoff'); // empty: the run's upstream hands nothing over
    applicationId = uniqueName('tmhand');
    const repartition = `${applicationId}-repartition-byPage`;
    await admin.jsm.streams.add({ name: repartition, subjects: [`${repartition}.*`] });
    const K = 1_000_000_000; // above any lease token of the run: the hand-written origin wins
    const rec = (k: number, n: number, page: string) => ({ o: 0, k, n, v: { page, ts: n }, t: n });
    const messages = [
      rec(K, 0, 'a'), rec(K, 1, 'b'), rec(K, 2, 'c'),
      rec(K + 1, 1, 'b'), rec(K + 1, 2, 'c'), // the successor's replay (dropped: counters passed)
      rec(K, 3, 'zombie'), // the old owner, after the successor was seen (dropped: older token)
      rec(K + 1, 3, 'd'),
      { o: 0, k: K + 1, w: Infinity },
    ];
    let i = 0;
    for (const m of messages) await admin.js.publish(`${repartition}.0`, encodeMsgpack(m), { msgID: `hand-${i++}` }); // every id distinct
    const table = uniqueName('tm_hand_ckpt');
    tables.push(table);
    const seen: string[] = [];
    const app = await runPartitioned({
      module: (p) => {
        p.source(fromJetStream<Ev>({ servers: NATS, stream, partitions: 1, timestamp: (e) => e.ts }), { name: 'ev' })
          .keyBy((e) => e.page, { name: 'byPage' })
          .sink(forEach((e: Ev) => {
            seen.push(e.page);
          }), { name: 'out' });
      },
      applicationId, partitions: 1, nats: { servers: NATS }, repartition: ['byPage'], leaseTtl: 1_000,
      checkpoints: { connection: PG_URL, table, everyRecords: 100 },
    });
    try {
      await poll('the partition finished', () => (app.status().partitions.some((x) => x.state === 'finished') ? true : undefined), 20_000);
    } finally {
      await app.stop();
    }
    expect(seen).toEqual(['a', 'b', 'c', 'd']);
  }, 30_000);

  it('an idle upstream partition does not stall the downstream watermark (follow: true)', async () => {
    const stream = await admin.stream('tm_idle');
    // every record in partition 0; partition 1 stays empty (its source turns idle)
    await admin.publishJson(() => `${stream}.0`, Array.from({ length: 30 }, (_, i): Ev => ({ page: `pg${i % 3}`, ts: i * 100 })));
    const id = uniqueName('tmidle');
    apps.push(id);
    const table = uniqueName('tm_idle_ckpt');
    tables.push(table);
    const fired: string[] = [];
    const app = await runPartitioned({
      module: (p) => {
        p.source(fromJetStream<Ev>({ servers: NATS, stream, partitions: 2, follow: true, timestamp: (e) => e.ts }),
          { name: 'ev', watermark: boundedOutOfOrderness(0, { idleTimeout: 300 }) })
          .keyBy((e) => e.page, { name: 'byPage' })
          .window(tumbling(1_000))
          .aggregate(count(), { name: 'perPage' })
          .sink(forEach((c: unknown) => {
            fired.push(JSON.stringify(c));
          }), { name: 'out' });
      },
      applicationId: id, partitions: 2, nats: { servers: NATS }, repartition: ['byPage'], leaseTtl: 1_000,
      checkpoints: { connection: PG_URL, table, everyRecords: 100 },
    });
    try {
      // the window [0, 1000) of each page fires once the watermark passes 1000: only if partition 1's idleness is handed over
      await poll('a window fired downstream', () => (fired.length > 0 ? true : undefined), 20_000);
    } finally {
      await app.stop();
    }
  }, 30_000);
});
