/**
 * Server restarts, on a private `nats-server -js` (free port, temporary store; the shared server is
 * never restarted): a following pipeline keeps reading across a stop and restart of the server —
 * the ordered consumers are recreated from the last sequence they delivered — and loses and
 * repeats nothing; a sink publishing across a restart retries with the same message ids and
 * stores every record exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pipeline, forEach, fromArray } from 'tidemark';
import { fromJetStream, toJetStream } from 'tidemark';
import { JsAdmin } from './fixture.js';
import { OwnNatsServer, natsBinaryAvailable, waitFor } from './nats-server.js';

const hasBinary = natsBinaryAvailable();
if (!hasBinary && process.env['CI'] === 'true') throw new Error('/usr/sbin/nats-server is required under CI=true');

/** Publishes with message ids, retrying (safely: same ids) while the server comes back. */
async function publishAll(admin: JsAdmin, stream: string, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 100) {
    const batch = Array.from({ length: Math.min(100, to - i) }, (_, k) => i + k);
    await waitFor(async () => {
      try {
        await Promise.all(batch.map((n) => admin.js.publish(`${stream}.${n % 2}`, JSON.stringify({ n }), { msgID: `m${n}`, timeout: 500 })));
        return true;
      } catch {
        return false;
      }
    }, 30_000, `publishing ${i}…`);
  }
}

describe.skipIf(!hasBinary)('JetStream across a server restart', () => {
  let server: OwnNatsServer;
  let admin: JsAdmin;
  beforeAll(async () => {
    server = await OwnNatsServer.start();
    admin = await JsAdmin.connect(server.url);
  });
  afterAll(async () => {
    await admin?.close().catch(() => undefined);
    await server?.dispose();
  });

  it('a following pipeline reconnects and loses nothing', async () => {
    const stream = await admin.stream('tm_js_restart');
    await publishAll(admin, stream, 0, 2_000);
    const ac = new AbortController();
    const source = fromJetStream<{ n: number }>({
      servers: server.url, stream, partitions: 2, follow: true, signal: ac.signal, fetchSize: 50,
      reconnect: { maxAttempts: -1, waitMs: 50 },
    });
    const seen: number[] = [];
    let restart: Promise<void> | undefined;
    const p = new Pipeline({ batchSize: 50 });
    p.source(source, { name: 'js' }).sink(forEach((v) => {
      seen.push(v.n);
      // Mid-read: stop and restart the server in the background while the pipeline runs on.
      if (seen.length === 500) restart = server.down().then(() => server.up());
    }));
    const run = p.run();
    await waitFor(() => restart !== undefined, 20_000, 'the pipeline to read 500 records');
    await restart;
    await publishAll(admin, stream, 2_000, 4_000);
    await waitFor(() => seen.length >= 4_000, 30_000, `all 4000 records (seen ${seen.length})`);
    ac.abort();
    const summary = await run;
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 4_000 }, (_, i) => i));
    expect(summary.sources['js']).toMatchObject({ read: 4_000, emitted: 4_000, deadLettered: 0 });
    expect(summary.sources['js']?.['consumerResets']).toBeGreaterThanOrEqual(1);
    // Positions cover everything read: resuming from them reads nothing.
    const positions = source.positions();
    expect(Object.values(positions).reduce((a, b) => Math.max(a, b), 0)).toBe(4_000);
  });

  it('a sink publishing across a restart stores every record exactly once', async () => {
    const stream = await admin.stream('tm_js_restart_sink');
    const events = Array.from({ length: 3_000 }, (_, i) => ({ id: i, ts: i }));
    const sink = toJetStream<{ id: number; ts: number }>({
      servers: server.url, subject: `${stream}.out`, msgId: (e) => `e${e.id}`, maxInFlight: 64, publishTimeoutMs: 1_000, attempts: 60,
      reconnect: { maxAttempts: -1, waitMs: 50 },
    });
    let restart: Promise<void> | undefined;
    const p = new Pipeline({ batchSize: 100 });
    p.source(fromArray(events), { timestamp: (e) => e.ts })
      .map((e) => {
        if (e.id === 1_000) restart = server.down().then(() => server.up());
        return e;
      })
      .sink(sink);
    await p.run();
    await restart;
    expect(sink.stats().retries).toBeGreaterThan(0); // the restart hit publishes in flight
    expect(sink.stats().published).toBe(3_000);
    // the admin connection may still be reconnecting after the restart: poll (bounded)
    let stored = -1;
    await waitFor(async () => {
      stored = await admin.messages(stream).catch(() => -1);
      return stored >= 0;
    }, 30_000, 'stream info after the restart');
    expect(stored).toBe(3_000);
    const ids = new Set<number>();
    const consumer = await admin.js.consumers.get(stream);
    const it2 = await consumer.fetch({ max_messages: 3_000, expires: 5_000 });
    for await (const m of it2) {
      ids.add((m.json() as { id: number }).id);
      if (ids.size === 3_000) break;
    }
    expect(ids.size).toBe(3_000);
  });
});
