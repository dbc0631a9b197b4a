/**
 * toJetStream against the local NATS server: writes resolve once every record is stored, message
 * ids make a replayed run store nothing twice (within the duplicate window), subjects per record
 * (partitions) round-trip through fromJetStream, and options are validated eagerly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pipeline, PlanError, fromArray, hashKey } from 'tidemark';
import { fromJetStream, toJetStream } from 'tidemark';
import { available } from '../services.js';
import { JsAdmin, drain } from './fixture.js';

const servers = '127.0.0.1:4222';
const hasNats = await available('nats');

type Ev = { id: number; user: string; ts: number };
const events: Ev[] = Array.from({ length: 500 }, (_, i) => ({ id: i, user: `u${i % 7}`, ts: 1_000 * i }));

describe.skipIf(!hasNats)('toJetStream', () => {
  let admin: JsAdmin;
  beforeAll(async () => {
    admin = await JsAdmin.connect(servers);
  });
  afterAll(async () => {
    await admin?.close();
  });

  it('publishes every record by the time the write resolves', async () => {
    const stream = await admin.stream('tm_js_sink');
    const sink = toJetStream<Ev>({ servers, stream, subject: `${stream}.all`, msgId: (e) => `ev-${e.id}`, maxInFlight: 16 });
    await sink.open?.({ name: 'out' });
    await sink.write(events, events.map((e) => e.ts));
    // No waiting: the write resolved after every acknowledgement.
    expect(await admin.messages(stream)).toBe(500);
    expect(sink.stats()).toEqual({ published: 500, duplicates: 0, retries: 0 });
    await sink.close?.();
  });

  it('de-duplicates a replayed run by message id; partitions by subject round-trip through fromJetStream', async () => {
    const stream = await admin.stream('tm_js_dedup', { duplicate_window: 60_000_000_000 });
    const run = async (): Promise<ReturnType<typeof toJetStream<Ev>>> => {
      const sink = toJetStream<Ev>({
        servers, stream,
        subjectFor: (e) => `${stream}.${hashKey(e.user) % 4}`,
        msgId: (e) => `ev-${e.id}`,
        format: 'msgpack',
      });
      const p = new Pipeline({ batchSize: 64 });
      p.source(fromArray(events), { timestamp: (e) => e.ts }).sink(sink);
      await p.run();
      return sink;
    };
    const first = await run();
    expect(first.stats()).toMatchObject({ published: 500, duplicates: 0 });
    const replay = await run();
    expect(replay.stats()).toMatchObject({ published: 500, duplicates: 500 });
    expect(await admin.messages(stream)).toBe(500);
    const back = await drain(fromJetStream<Ev>({ servers, stream, partitions: 4, format: 'msgpack', timestamp: (e) => e.ts }));
    expect(back.records.map((r) => r.value.id).sort((a, b) => a - b)).toEqual(events.map((e) => e.id));
    for (const r of back.records) {
      expect(r.partition).toBe(hashKey(r.value.user) % 4);
      expect(r.timestamp).toBe(r.value.ts);
    }
    // The de-duplication window is a property of the stream (2 minutes unless configured).
    const info = await admin.jsm.streams.info(stream);
    expect(info.config.duplicate_window).toBe(60_000_000_000);
  });

  it('fails the run with a named error when a record cannot be published', async () => {
    const stream = await admin.stream('tm_js_sinkfail');
    const p = new Pipeline();
    p.source(fromArray([{ id: 1, ts: 1 }]), { timestamp: (e) => e.ts })
      .sink(toJetStream({ servers, subject: `${stream}.x`, msgId: () => 'x', format: () => 42 as never }));
    await expect(p.run()).rejects.toThrow(/tidemark\.toJetStream: cannot prepare a record for publishing: .*Uint8Array or a string/);
    const p2 = new Pipeline();
    p2.source(fromArray([{ id: 1, ts: 1 }]), { timestamp: (e) => e.ts })
      .sink(toJetStream({ servers, subject: `${stream}.x`, msgId: () => 'x', stream: 'TM_JS_OTHER_STREAM', attempts: 1 }));
    await expect(p2.run()).rejects.toThrow(/tidemark\.toJetStream: publishing to .* failed after 1 attempt/);
  });
});

describe('toJetStream options', () => {
  it('are validated eagerly, naming the factory', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ servers, msgId: () => 'x' }, /exactly one of subject or subjectFor/],
      [{ servers, subject: 'a.*', msgId: () => 'x' }, /without wildcards/],
      [{ servers, subject: 'a' }, /msgId must be a function/],
      [{ servers, subject: 'a', msgId: () => 'x', maxInFlight: 0 }, /maxInFlight/],
      [{ servers, subject: 'a', msgId: () => 'x', format: 'yaml' }, /format must be/],
      [{ servers: [], subject: 'a', msgId: () => 'x' }, /servers/],
    ];
    for (const [o, msg] of bad) {
      expect(() => toJetStream(o as never)).toThrow(PlanError);
      expect(() => toJetStream(o as never)).toThrow(/^tidemark\.toJetStream: /);
      expect(() => toJetStream(o as never)).toThrow(msg);
    }
  });
});
