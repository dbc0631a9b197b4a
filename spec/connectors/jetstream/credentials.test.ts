/**
 * Credentials: from options or the environment (NATS_USER / NATS_PASSWORD / NATS_TOKEN), and
 * never in an error message — not from options, not from a server URL — on a private server that
 * requires a password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Pipeline, SourceError, TidemarkError, collect, fromArray } from 'tidemark';
import { fromJetStream, toJetStream } from 'tidemark';
import { uniqueName } from '../services.js';
import { OwnNatsServer, natsBinaryAvailable } from './nats-server.js';

const hasBinary = natsBinaryAvailable();
const USER = 'tidemark_user';
const PASS = `S3cret-${Math.random().toString(36).slice(2)}`;
const WRONG = `Wr0ng-${Math.random().toString(36).slice(2)}`;

/** Runs `build`'s pipeline and returns its failure. */
async function failureOf(build: (p: Pipeline) => void): Promise<Error> {
  const p = new Pipeline();
  build(p);
  return p.run().then(() => { throw new Error('expected the run to fail'); }, (e: unknown) => e as Error);
}

/** Every message in an error's chain. */
function chain(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e; c instanceof Error; c = c.cause) parts.push(`${c.message} ${c.stack ?? ''}`);
  return parts.join('\n');
}

describe.skipIf(!hasBinary)('JetStream credentials', () => {
  let server: OwnNatsServer;
  const stream = uniqueName('TM_JS_AUTH').toUpperCase();
  beforeAll(async () => {
    server = await OwnNatsServer.start(['--user', USER, '--pass', PASS]);
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('come from options or the environment', async () => {
    const sink = toJetStream<{ n: number }>({ servers: server.url, user: USER, pass: PASS, subject: `${stream}.x`, msgId: (r) => String(r.n) });
    const nc = await connect({ servers: server.url, user: USER, pass: PASS });
    await (await jetstreamManager(nc)).streams.add({ name: stream, subjects: [`${stream}.>`] });
    await nc.close();
    const p = new Pipeline();
    p.source(fromArray([{ n: 1 }, { n: 2 }]), { timestamp: (r) => r.n }).sink(sink);
    await p.run();
    const saved = { u: process.env['NATS_USER'], p: process.env['NATS_PASSWORD'] };
    process.env['NATS_USER'] = USER;
    process.env['NATS_PASSWORD'] = PASS;
    try {
      const out: { n: number }[] = [];
      const p2 = new Pipeline();
      p2.source(fromJetStream<{ n: number }>({ servers: server.url, stream })).sink(collect(out));
      await p2.run();
      expect(out).toEqual([{ n: 1 }, { n: 2 }]);
    } finally {
      for (const [k, v] of [['NATS_USER', saved.u], ['NATS_PASSWORD', saved.p]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('never appear in errors, from options or from a server URL', async () => {
    const e1 = await failureOf((p) => p.source(fromJetStream({ servers: server.url, stream, user: USER, pass: WRONG })).sink(collect([])));
    expect(e1).toBeInstanceOf(SourceError);
    expect(e1.message).toMatch(/tidemark\.fromJetStream: cannot connect to/);
    const e2 = await failureOf((p) => p.source(fromJetStream({ servers: `nats://${USER}:${WRONG}@${server.url}`, stream })).sink(collect([])));
    expect(e2.message).toMatch(/nats:\/\/\*\*\*@127\.0\.0\.1/);
    const e3 = await failureOf((p) => p.source(fromArray([1]), { timestamp: (n) => n })
      .sink(toJetStream({ servers: server.url, user: USER, pass: WRONG, subject: `${stream}.x`, msgId: String })));
    expect(e3).toBeInstanceOf(TidemarkError);
    expect(e3.message).toMatch(/tidemark\.toJetStream: cannot connect/);
    for (const e of [e1, e2, e3]) {
      expect(chain(e)).not.toContain(WRONG);
      expect(chain(e)).not.toContain(PASS);
    }
  });
});
