/**
 * Task and instance lifecycle in one process: a sub-topology that fails stops the whole task at
 * once (a following upstream does not keep the lease beside a dead downstream), and a graceful
 * `stop()` keeps renewing the leases while a long final checkpoint drains, so the checkpoint is
 * accepted and the lease actually released before `released` is reported.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseTable, type PartitionedEvent, type Pipeline, type Sink, fromJetStream, forEach, runPartitioned } from 'tidemark';
import { available, uniqueName } from '../connectors/services.js';
import { JsAdmin } from '../connectors/jetstream/fixture.js';
import { NATS, PG_URL, dropTables, poll } from './support.js';

const hasServices = (await available('nats')) && (await available('postgres'));

interface Ev { readonly i: number; readonly page: string; readonly ts: number }

describe.skipIf(!hasServices)('runPartitioned task lifecycle', () => {
  let admin: JsAdmin;
  const tables: string[] = [];
  const apps: string[] = [];
  beforeAll(async () => {
    admin = await JsAdmin.connect(NATS);
  });
  afterAll(async () => {
    for (const id of apps) {
      await admin?.jsm.streams.delete(`KV_tidemark_${id}`).catch(() => undefined);
      await admin?.jsm.streams.delete(`${id}-repartition-byPage`).catch(() => undefined);
    }
    await admin?.close();
    await dropTables(tables).catch(() => undefined);
  });
  const setup = async (prefix: string, n: number): Promise<{ stream: string; applicationId: string; table: string }> => {
    const stream = await admin.stream(prefix);
    await admin.publishJson(() => `${stream}.0`, Array.from({ length: n }, (_, i): Ev => ({ i, page: `pg${i % 3}`, ts: i * 10 })));
    const applicationId = uniqueName('tmlife');
    apps.push(applicationId);
    const table = uniqueName('tm_life_ckpt');
    tables.push(table);
    return { stream, applicationId, table };
  };

  it('a failing downstream stage stops the following upstream stage: the task fails at once', async () => {
    const { stream, applicationId, table } = await setup('tm_stagefail', 50);
    const events: PartitionedEvent[] = [];
    const module = (p: Pipeline): void => {
      p.source(fromJetStream<Ev>({ servers: NATS, stream, partitions: 1, follow: true, timestamp: (e) => e.ts }), { name: 'ev' })
        .keyBy((e) => e.page, { name: 'byPage' })
        .map((e) => {
          if (e.i === 20) throw new Error('boom downstream');
          return e;
        }, { name: 'boom' })
        .sink(forEach(() => undefined), { name: 'out' });
    };
    const app = await runPartitioned({
      module, applicationId, partitions: 1, nats: { servers: NATS }, repartition: ['byPage'], leaseTtl: 900,
      checkpoints: { connection: PG_URL, table, everyRecords: 5 }, onEvent: (e) => events.push(e),
    });
    try {
      const failed = await poll('the task failed', () => events.find((e) => e.type === 'failed'), 15_000);
      expect(String((failed as { error: Error }).error.message)).toMatch(/boom downstream/);
    } finally {
      await app.stop();
    }
  }, 30_000);

  it('stop() renews the leases while a final checkpoint outlasts the TTL, then releases them', async () => {
    const { stream, applicationId, table } = await setup('tm_slowstop', 20);
    const events: PartitionedEvent[] = [];
    const ttl = 600;
    let wrote = 0;
    let slow = false;
    let precommits = 0;
    // A sink whose pre-commit becomes slow (3 TTLs) once stop() is called: the final checkpoint drains long.
    const slowSink: Sink<Ev> = {
      kind: 'slow',
      guarantee: 'at-least-once',
      write(values) {
        wrote += values.length;
      },
      async preCommit() {
        if (slow) {
          await new Promise((r) => setTimeout(r, 3 * ttl));
          precommits++;
        }
        return null;
      },
      commit() {
        return undefined;
      },
    };
    const module = (p: Pipeline): void => {
      p.source(fromJetStream<Ev>({ servers: NATS, stream, partitions: 1, follow: true, timestamp: (e) => e.ts }), { name: 'ev' })
        .sink(slowSink, { name: 'out' });
    };
    const app = await runPartitioned({
      module, applicationId, partitions: 1, nats: { servers: NATS }, leaseTtl: ttl,
      checkpoints: { connection: PG_URL, table, everyRecords: 5 }, onEvent: (e) => events.push(e),
    });
    await poll('the input was written', () => (wrote === 20 ? true : undefined), 15_000);
    slow = true;
    const started = performance.now();
    await app.stop();
    expect(precommits).toBe(1); // the final checkpoint did drain that long
    expect(performance.now() - started).toBeGreaterThan(3 * ttl);
    expect(events.filter((e) => e.type === 'fenced' || e.type === 'lost' || e.type === 'failed')).toEqual([]);
    expect(events.filter((e) => e.type === 'released')).toEqual([{ type: 'released', partition: 0 }]);
    const leases = await LeaseTable.open(admin.nc, `tidemark_${applicationId}`, ttl, () => performance.now());
    expect((await leases.read(0)).owner).toBeUndefined();
  }, 30_000);
});
