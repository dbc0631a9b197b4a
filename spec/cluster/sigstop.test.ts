/**
 * Fencing end to end: the owner of every partition is paused (SIGSTOP) past its leases; a second
 * worker takes the partitions over, restores them and finishes; the first is resumed (SIGCONT)
 * and must not write anything — its writes are refused (its tasks end lost/fenced) — and the
 * output still equals a single-process run. "Nothing written" is checked on the physical row
 * versions of the output and checkpoint tables (`ctid`, `xmin`): an upsert of the same values by an
 * unfenced zombie would change them, so the test fails without fencing.
 */
import { describe, expect, it } from 'vitest';
import { available } from '../connectors/services.js';
import type { WorkerConfig } from './fixtures/worker.js';
import { clusterFixture, makeEvents, NATS, PG_URL, poll, publishByUser, referenceRun, rowVersions, tableLines } from './support.js';

const hasServices = (await available('nats')) && (await available('postgres'));

describe.skipIf(!hasServices)('runPartitioned: an owner paused past its lease', () => {
  const fx = clusterFixture();

  it('cannot write after its successor took over (SIGSTOP, takeover, SIGCONT)', async () => fx.explained(async () => {
    const P = 2;
    const stream = await fx.admin.stream('tm_fence');
    await publishByUser(fx.admin, stream, P, makeEvents(4_000, 20));
    const app = fx.app();
    const checkpointTable = fx.table('tm_ckpt');
    const table = fx.table('tm_out');
    const refTable = fx.table('tm_ref');
    const args = { servers: NATS, stream, partitions: P, table, connection: PG_URL, fetchSize: 4 };
    const config = (id: string): WorkerConfig => ({ applicationId: app, instanceId: id, partitions: P, leaseTtlMs: 1_500, everyRecords: 40, checkpointTable, args });
    const a = fx.worker(config('a'));
    await poll('a owns both partitions and has restored them', () => (a.events.filter((e) => e.type === 'restored').length === P ? true : undefined));
    // Pause it while it is working (it has committed some output, and not finished).
    await poll('some output committed by a', async () => ((await tableLines(table).catch(() => [])).length > 0 ? true : undefined));
    a.signal('SIGSTOP');
    expect(a.finished().size).toBe(0);

    const b = fx.worker(config('b'));
    await poll('b took both partitions over and finished them', () => (b.finished().size === P ? true : undefined), 40_000);
    const tokens = b.events.filter((e) => e.type === 'claimed').map((e) => e.token as number);
    const old = a.events.filter((e) => e.type === 'claimed').map((e) => e.token as number);
    expect(Math.min(...tokens)).toBeGreaterThan(Math.max(...old));
    const before = await tableLines(table);
    const versions = await rowVersions(table);
    const checkpointVersions = await rowVersions(checkpointTable);

    a.signal('SIGCONT');
    // a learns it lost both leases; its tasks stop without committing anything.
    await poll('a gave both partitions up', () => (a.owned().size === 0 && a.events.filter((e) => e.type === 'lost' || e.type === 'fenced').length >= P ? true : undefined), 20_000);
    expect(a.events.filter((e) => e.type === 'finished')).toEqual([]);
    // Whatever a tried after waking was refused: b's output is untouched.
    expect(await tableLines(table)).toEqual(before);
    expect(await rowVersions(table)).toEqual(versions);
    expect(await rowVersions(checkpointTable)).toEqual(checkpointVersions);

    await Promise.all([a.stop(), b.stop()]);
    if (process.env["CLUSTER_VERBOSE"] === "1") for (const w of [a, b]) console.log(w.describe());
    for (const w of [a, b]) expect(w.failures(), w.describe()).toEqual([]);
    expect(await tableLines(table)).toEqual(await referenceRun({ ...args, table: refTable }));
  }), 120_000);
});
