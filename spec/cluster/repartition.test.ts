/**
 * Repartitioning end to end: the stream is partitioned by user, the pipeline counts per page
 * (keyBy 'byPage' declared in `repartition`), so records go through the intermediate stream
 * `<app>-repartition-byPage`. Two workers run it; one is SIGKILLed after its upstream task has
 * checkpointed, so the survivor restores that upstream task and publishes its records again:
 * JetStream drops the replay by message id — the repartition stream holds every input record
 * exactly once — and the output equals a single-process run of the same module.
 */
import { describe, expect, it } from 'vitest';
import { fromJetStream } from 'tidemark';
import { available } from '../connectors/services.js';
import { drain } from '../connectors/jetstream/fixture.js';
import type { WorkerConfig } from './fixtures/worker.js';
import { checkpointed, clusterFixture, makeEvents, NATS, PG_URL, poll, publishByUser, referenceRun, tableLines, Worker } from './support.js';

const hasServices = (await available('nats')) && (await available('postgres'));

describe.skipIf(!hasServices)('runPartitioned: repartition through an intermediate stream', () => {
  const fx = clusterFixture();

  it('hands records over exactly once across a restore of an upstream task', async () => fx.explained(async () => {
    const P = 4;
    const n = 4_000;
    const stream = await fx.admin.stream('tm_repart');
    await publishByUser(fx.admin, stream, P, makeEvents(n));
    const app = fx.app();
    const checkpointTable = fx.table('tm_ckpt');
    const repartition = `${app}-repartition-byPage`;
    const table = fx.table('tm_out');
    const refTable = fx.table('tm_ref');
    const args = { servers: NATS, stream, partitions: P, table, connection: PG_URL, fetchSize: 8, byPage: true };
    const config = (id: string): WorkerConfig => ({ applicationId: app, instanceId: id, partitions: P, leaseTtlMs: 1_500, everyRecords: 60, checkpointTable, args, repartition: ['byPage'] });
    const [a, b] = ['a', 'b'].map((id) => fx.worker(config(id))) as [Worker, Worker];

    // b's upstream task of a partition it has not finished has checkpointed (and published on).
    await poll('an upstream checkpoint written by b', async () => {
      const cp = await checkpointed(app, checkpointTable);
      return [...b.owned()].some((p) => {
        const restored = b.events.find((e) => e.type === 'restored' && e.partition === p && e['lineage'] === `p${p}`);
        return !b.finished().has(p) && restored !== undefined && (cp.get(p) ?? 0) > ((restored['checkpoint'] as number | undefined) ?? 0);
      }) ? true : undefined;
    });
    b.signal('SIGKILL');
    await b.exited;
    await poll('a finished every partition', () => (a.finished().size === P ? true : undefined), 60_000);
    await a.stop();
    expect(a.failures()).toEqual([]);

    // The hand-off: every input record exactly once in the repartition stream.
    const handed = await drain(fromJetStream<{ o: number; v?: { i: number }; w?: number }>({ servers: NATS, stream: repartition, partitions: P, format: 'msgpack' }), { batchSize: 500 });
    const ids = handed.records.map((r) => r.value.v?.i).filter((i): i is number => i !== undefined);
    expect(ids.length).toBe(n);
    expect(new Set(ids).size).toBe(n);

    expect(await tableLines(table)).toEqual(await referenceRun({ ...args, table: refTable }));
  }), 120_000);
});
