/**
 * Scale-out end to end (issue 7): three worker processes share the 8 partitions of a JetStream
 * stream through leases; one is SIGKILLed mid-stream, the survivors take its partitions over
 * (restoring the partitions' checkpoints from PostgreSQL), and a fourth process joining later
 * takes over a share. The combined output must equal a single-process run of the same module over
 * the same input: no loss, no duplicates.
 */
import { describe, expect, it } from 'vitest';
import { available } from '../connectors/services.js';
import type { WorkerConfig } from './fixtures/worker.js';
import { checkpointed, clusterFixture, makeEvents, NATS, PG_URL, poll, publishByUser, referenceRun, tableLines, Worker } from './support.js';

const hasServices = (await available('nats')) && (await available('postgres'));

describe.skipIf(!hasServices)('runPartitioned: processes sharing partitions', () => {
  const fx = clusterFixture();

  it('three workers, one SIGKILLed mid-stream, a fourth joining: output equals a single-process run', async () => fx.explained(async () => {
    const P = 8;
    const stream = await fx.admin.stream('tm_cluster');
    await publishByUser(fx.admin, stream, P, makeEvents(6_000));
    const app = fx.app();
    const checkpointTable = fx.table('tm_ckpt');
    const table = fx.table('tm_out');
    const refTable = fx.table('tm_ref');
    const args = { servers: NATS, stream, partitions: P, table, connection: PG_URL, fetchSize: 8 };
    const config = (id: string): WorkerConfig => ({ applicationId: app, instanceId: id, partitions: P, leaseTtlMs: 1_500, everyRecords: 60, checkpointTable, args });
    const [a, b, c] = ['a', 'b', 'c'].map((id) => fx.worker(config(id))) as [Worker, Worker, Worker];
    const union = (ws: readonly Worker[], f: (w: Worker) => Set<number>): Set<number> => new Set(ws.flatMap((w) => [...f(w)]));

    // Every partition is claimed, and the victim has checkpointed a partition it has not finished.
    await poll('all 8 partitions claimed', () => (union([a, b, c], (w) => w.owned()).size === P ? true : undefined));
    let atKill = new Map<number, number>();
    const victimParts = await poll('a checkpoint written by b of a partition it has not finished', async () => {
      const open = [...b.owned()].filter((p) => !b.finished().has(p));
      atKill = await checkpointed(app, checkpointTable);
      const progressed = open.some((p) => {
        const restored = b.events.find((e) => e.type === 'restored' && e.partition === p);
        return restored !== undefined && (atKill.get(p) ?? 0) > ((restored['checkpoint'] as number | undefined) ?? 0);
      });
      return progressed ? open : undefined;
    });
    const killedAt = Date.now();
    b.signal('SIGKILL');
    await b.exited;
    expect(victimParts.length).toBeGreaterThan(0);

    // The survivors take b's partitions over (after its leases expire) and finish every partition.
    await poll('every partition finished by a or c', () => (union([a, c], (w) => w.finished()).size === P ? true : undefined), 60_000);
    for (const p of victimParts) {
      // taken over by a survivor, whose task restored the partition's latest checkpoint (b's state)
      expect(union([a, c], (w) => w.owned()).has(p)).toBe(true);
      const restores = [a, c].flatMap((w) => w.events.filter((e) => e.type === 'restored' && e.partition === p));
      const newest = Math.max(0, ...restores.map((e) => (e['checkpoint'] as number | undefined) ?? 0));
      expect(newest).toBeGreaterThanOrEqual(atKill.get(p) ?? 0);
    }

    if (process.env['CLUSTER_VERBOSE'] === '1') {
      const restoredAt = victimParts.map((p) => Math.min(...[a, c].flatMap((w) => w.events.filter((e) => e.type === 'restored' && e.partition === p && (e['at'] as number) > killedAt).map((e) => e['at'] as number))));
      console.log(`takeover after SIGKILL (lease TTL 1.5 s): ${restoredAt.map((t) => t - killedAt).join(', ')} ms until restored`);
    }

    // A fourth worker joining later gets a share: a and c release the excess, d claims it.
    const d = fx.worker(config('d'));
    await poll('d owns two partitions', () => (d.owned().size >= 2 ? true : undefined), 30_000);
    await poll('d finished its partitions', () => ([...d.owned()].every((p) => d.finished().has(p)) ? true : undefined), 30_000);
    expect(union([a, c, d], (w) => w.owned()).size).toBe(P);
    expect([...d.owned()].filter((p) => a.owned().has(p) || c.owned().has(p))).toEqual([]);

    await Promise.all([a, c, d].map((w) => w.stop()));
    if (process.env["CLUSTER_VERBOSE"] === "1") for (const w of [a, b, c, d]) console.log(w.describe());
    for (const w of [a, c, d]) expect(w.failures(), w.describe()).toEqual([]);
    const actual = await tableLines(table);
    const expected = await referenceRun({ ...args, table: refTable });
    expect(expected.length).toBeGreaterThan(100);
    expect(actual).toEqual(expected);
  }), 120_000);
});
