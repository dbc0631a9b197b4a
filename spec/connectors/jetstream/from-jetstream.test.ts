/**
 * fromJetStream against the local NATS server: subjects as partitions, bounded reads (end of input
 * at the last sequence at open), starting positions (earliest, latest, sequence, time, stored
 * positions) and resuming, dead letters with positions, following, and a full pipeline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import { Pipeline, PlanError, SourceError, SystemClock, boundedOutOfOrderness, collect, count, tumbling, type WindowResult } from 'tidemark';
import { fromJetStream } from 'tidemark';
import { available } from '../services.js';
import { JsAdmin, drain } from './fixture.js';
import { waitFor } from './nats-server.js';

const servers = '127.0.0.1:4222';
const hasNats = await available('nats');

describe.skipIf(!hasNats)('fromJetStream', () => {
  let admin: JsAdmin;
  beforeAll(async () => {
    admin = await JsAdmin.connect(servers);
  });
  afterAll(async () => {
    await admin?.close();
  });

  it('reads subjects as partitions, in sequence order per partition, to the last sequence at open', async () => {
    const stream = await admin.stream('tm_js_parts');
    const seqs = await admin.publishJson((i) => `${stream}.${i % 3}`, Array.from({ length: 30 }, (_, i) => ({ i })));
    const source = fromJetStream<{ i: number }>({ servers, stream, partitions: 3 });
    const reader = source.open({ name: 't', batchSize: 4, clock: new SystemClock() });
    expect(reader.partitions).toEqual([0, 1, 2]);
    const first = await reader.next();
    // One ephemeral consumer per partition, taking no acknowledgements (nothing to time out or redeliver).
    const consumers = await (await admin.jsm.consumers.list(stream)).next();
    expect(consumers.map((c) => [c.config.filter_subject, c.config.ack_policy]).sort()).toEqual([0, 1, 2].map((k) => [`${stream}.${k}`, 'none']));
    // Published after the read began: past the end of input, never read.
    await admin.publishJson((i) => `${stream}.${i % 3}`, [{ i: 100 }, { i: 101 }, { i: 102 }]);
    const got: { i: number; p: number | undefined; t: number }[] = [];
    for (let c = first; c !== null; c = await reader.next()) {
      expect(c.kind).toBe('records');
      if (c.kind !== 'records') continue;
      expect(c.values.length).toBeLessThanOrEqual(4);
      c.values.forEach((v, k) => got.push({ i: v.i, p: c.partition, t: c.timestamps?.[k] as number }));
      await reader.ack?.(c);
    }
    expect(got.map((g) => g.i).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    for (const g of got) expect(g.p).toBe(g.i % 3);
    for (const p of [0, 1, 2]) {
      const mine = got.filter((g) => g.p === p).map((g) => g.i);
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }
    // Stored time, in ms, close to now.
    for (const g of got) expect(Math.abs(g.t - Date.now())).toBeLessThan(60_000);
    // Positions: the last sequence of each partition.
    expect(source.positions()).toEqual({ 0: seqs[27], 1: seqs[28], 2: seqs[29] });
    expect(reader.stats?.()).toMatchObject({ 'position.0': seqs[27], 'position.1': seqs[28], 'position.2': seqs[29] });
    await reader.close?.();
    expect(await (await admin.jsm.consumers.list(stream)).next()).toEqual([]);
  });

  it('gives each partition its own watermark; an idle partition stops holding it back', async () => {
    const stream = await admin.stream('tm_js_idle');
    const ac = new AbortController();
    const out: WindowResult<string, number>[] = [];
    const p = new Pipeline();
    p.source(fromJetStream<{ ts: number }>({ servers, stream, partitions: 2, follow: true, signal: ac.signal, timestamp: (e) => e.ts }), {
      watermark: boundedOutOfOrderness(0, { idleTimeout: 100 }),
      maxFutureSkew: false,
    })
      .keyBy(() => 'k')
      .window(tumbling(1_000))
      .aggregate(count())
      .sink(collect(out));
    const run = p.run();
    // Only partition 0 has data; partition 1 stays empty. Windows fire once partition 1 is idle.
    let ts = 0;
    await waitFor(async () => {
      await admin.publishJson(() => `${stream}.0`, [{ ts }]);
      ts += 500;
      return out.length >= 2;
    }, 10_000, 'windows to fire while partition 1 is idle');
    ac.abort();
    await run;
    expect(out[0]).toMatchObject({ window: { start: 0, end: 1_000 } });
  });

  it('reads the whole stream as partition 0, or named subjects (wildcards allowed) as partitions', async () => {
    const stream = await admin.stream('tm_js_subj');
    await admin.publishJson((i) => `${stream}.${i % 2 === 0 ? 'eu.x' : 'us.y'}`, Array.from({ length: 10 }, (_, i) => i));
    const whole = await drain(fromJetStream<number>({ servers, stream }));
    expect(whole.reader.partitions).toEqual([0]);
    expect(whole.records.map((r) => r.value)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(new Set(whole.records.map((r) => r.partition))).toEqual(new Set([0]));
    const named = await drain(fromJetStream<number>({ servers, stream, subjects: [`${stream}.us.>`, `${stream}.eu.*`] }));
    expect(named.records.filter((r) => r.partition === 0).map((r) => r.value)).toEqual([1, 3, 5, 7, 9]);
    expect(named.records.filter((r) => r.partition === 1).map((r) => r.value)).toEqual([0, 2, 4, 6, 8]);
  });

  it('resumes from reported positions with nothing lost and nothing repeated', async () => {
    const stream = await admin.stream('tm_js_resume');
    await admin.publishJson((i) => `${stream}.${i % 2}`, Array.from({ length: 100 }, (_, i) => i));
    const first = fromJetStream<number>({ servers, stream, partitions: 2 });
    const part1 = await drain(first, { batchSize: 7, maxChunks: 5 });
    const positions = first.positions();
    expect(Object.keys(positions)).toEqual(['0', '1']);
    const second = fromJetStream<number>({ servers, stream, partitions: 2, from: { positions } });
    const part2 = await drain(second, { batchSize: 7 });
    const all = [...part1.records, ...part2.records].map((r) => r.value).sort((a, b) => a - b);
    expect(part1.chunks.length).toBe(5);
    expect(part1.records.length).toBeGreaterThanOrEqual(5);
    expect(part1.records.length).toBeLessThan(100);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // A resumed read from the final positions reads nothing.
    const third = await drain(fromJetStream<number>({ servers, stream, partitions: 2, from: { positions: second.positions() } }));
    expect(third.records).toEqual([]);
  });

  it('starts at a sequence, at a time, or at the latest message', async () => {
    const stream = await admin.stream('tm_js_from');
    const before = await admin.publishJson(() => `${stream}.a`, [0, 1, 2, 3, 4]);
    const cut = Date.now() + 1;
    await waitFor(() => Date.now() > cut, 1_000, 'the clock to pass the cut');
    await admin.publishJson(() => `${stream}.a`, [5, 6, 7]);
    const bySeq = await drain(fromJetStream<number>({ servers, stream, from: { sequence: before[3] as number } }));
    expect(bySeq.records.map((r) => r.value)).toEqual([3, 4, 5, 6, 7]);
    const byTime = await drain(fromJetStream<number>({ servers, stream, from: { time: new Date(cut) } }));
    expect(byTime.records.map((r) => r.value)).toEqual([5, 6, 7]);
    const latest = await drain(fromJetStream<number>({ servers, stream, from: 'latest' }));
    expect(latest.records).toEqual([]);
  });

  it('follows new messages until the signal aborts, then ends input', async () => {
    const stream = await admin.stream('tm_js_follow');
    await admin.publishJson(() => `${stream}.0`, [1, 2]);
    const ac = new AbortController();
    const source = fromJetStream<number>({ servers, stream, from: 'latest', follow: true, signal: ac.signal });
    const out: number[] = [];
    const p = new Pipeline();
    p.source(source).map((v) => v).sink(collect(out));
    const run = p.run();
    // The consumer is created after open: publish until the reader sees a message.
    let n = 10;
    await waitFor(async () => {
      await admin.publishJson(() => `${stream}.0`, [n++]);
      return out.length > 0;
    }, 10_000, 'a followed message');
    ac.abort();
    const summary = await run;
    expect(out.every((v) => v >= 10)).toBe(true);
    expect(out).toEqual([...out].sort((a, b) => a - b));
    expect(summary.sources['jetstream']?.read ?? Object.values(summary.sources)[0]?.read).toBe(out.length);
  });

  it('dead-letters undecodable, oversized and badly timestamped messages with their position; positions advance', async () => {
    const stream = await admin.stream('tm_js_bad');
    const subject = `${stream}.0`;
    const seqs = await admin.publishRaw(() => subject, [
      JSON.stringify({ ok: 1, ts: 1_000 }),
      '{"broken": ',
      Uint8Array.of(0xff, 0xfe, 0x22),
      JSON.stringify({ ok: 2, ts: 2_000, pad: 'x'.repeat(300) }),
      JSON.stringify({ ok: 3, ts: 'soon' }),
      JSON.stringify({ ok: 4, ts: 4_000 }),
      '{"__proto__":{"polluted":true},"ok":5,"ts":5000}',
    ]);
    const source = fromJetStream<{ ok: number; ts: number }>({ servers, stream, maxRecordBytes: 200, timestamp: (r) => r.ts });
    const d = await drain(source);
    expect(d.records.map((r) => [r.value.ok, r.timestamp])).toEqual([[1, 1_000], [4, 4_000], [5, 5_000]]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    const protoRecord = d.records[2]?.value as unknown as Record<string, unknown>;
    expect(Object.getPrototypeOf(protoRecord)).toBe(Object.prototype);
    expect(Object.keys(protoRecord)).toContain('__proto__');
    expect(d.letters.map((l) => l.position)).toEqual([1, 2, 3, 4].map((k) => ({ stream, subject, sequence: seqs[k], partition: 0 })));
    expect(d.letters[0]?.reason).toMatch(/undecodable json payload/);
    expect(d.letters[1]?.reason).toMatch(/invalid UTF-8/);
    expect(d.letters[2]?.reason).toMatch(/exceeds maxRecordBytes \(200\)/);
    expect(d.letters[3]?.reason).toMatch(/timestamp is string/);
    expect(d.letters[0]?.value).toBeInstanceOf(Uint8Array);
    // Chunks come in sequence order: records, letters, records.
    const kinds = d.chunks.map((c) => c.kind).filter((k, i, all) => i === 0 || all[i - 1] !== k);
    expect(kinds).toEqual(['records', 'dead-letters', 'records']);
    expect(source.positions()).toEqual({ 0: seqs[6] });
  });

  it('decodes msgpack strictly: extension types other than the timestamp are dead letters', async () => {
    const stream = await admin.stream('tm_js_mp');
    const packr = new Packr({ useRecords: false });
    const regexp = new Packr({ useRecords: false, moreTypes: true }).pack(/a+$/); // msgpackr's RegExp extension
    await admin.publishRaw(() => `${stream}.0`, [packr.pack({ a: 1, at: new Date(5_000) }), regexp, packr.pack([1, 2])]);
    const d = await drain(fromJetStream<unknown>({ servers, stream, format: 'msgpack' }));
    expect(d.records.map((r) => r.value)).toEqual([{ a: 1, at: new Date(5_000) }, [1, 2]]);
    expect(d.letters.map((l) => l.reason)).toEqual([expect.stringMatching(/extension type \d+ is not allowed/)]);
  });

  it('runs in a pipeline: per-partition watermarks, windows, and read = emitted + deadLettered', async () => {
    const stream = await admin.stream('tm_js_pipe');
    const events = Array.from({ length: 60 }, (_, i) => ({ user: `u${i % 3}`, ts: 1_000 * i }));
    await admin.publishJson((i) => `${stream}.${i % 3}`, events);
    await admin.publishRaw(() => `${stream}.1`, ['not json']);
    const out: WindowResult<string, number>[] = [];
    const p = new Pipeline({ batchSize: 8 });
    p.source(fromJetStream<{ user: string; ts: number }>({ servers, stream, partitions: 3, timestamp: (e) => e.ts }), { name: 'js', watermark: boundedOutOfOrderness(0) })
      .keyBy((e) => e.user)
      .window(tumbling(10_000))
      .aggregate(count())
      .sink(collect(out));
    const summary = await p.run();
    expect(summary.sources['js']).toMatchObject({ read: 61, emitted: 60, deadLettered: 1 });
    expect(summary.lateRecords).toBe(0);
    expect(out.reduce((n, r) => n + r.value, 0)).toBe(60);
    expect(out.length).toBe(18); // 3 users × 6 windows
  });

  it('fails with a SourceError naming the stream when it does not exist', async () => {
    const p = new Pipeline();
    p.source(fromJetStream({ servers, stream: 'TM_JS_NO_SUCH_STREAM_X' })).sink(collect([]));
    await expect(p.run()).rejects.toThrow(SourceError);
    const p2 = new Pipeline();
    p2.source(fromJetStream({ servers, stream: 'TM_JS_NO_SUCH_STREAM_X' })).sink(collect([]));
    await expect(p2.run()).rejects.toThrow(/tidemark\.fromJetStream: cannot read stream 'TM_JS_NO_SUCH_STREAM_X'/);
  });
});

describe('fromJetStream options', () => {
  it('are validated eagerly, naming the factory', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ stream: 'S' }, /servers/],
      [{ servers, stream: 'a.b' }, /stream must be a stream name/],
      [{ servers, stream: 'S', subjects: ['S.a'], partitions: 2 }, /subjects or partitions, not both/],
      [{ servers, stream: 'S', partitions: 0 }, /partitions must be/],
      [{ servers, stream: 'S', partitions: [1, 1] }, /partitions must be/],
      [{ servers, stream: 'S', from: { sequence: 0 } }, /from.sequence/],
      [{ servers, stream: 'S', from: { time: 'yesterday' } }, /from.time/],
      [{ servers, stream: 'S', partitions: 2, from: { positions: { 5: 3 } } }, /partition 5/],
      [{ servers, stream: 'S', from: 'middle' }, /from must be/],
      [{ servers, stream: 'S', format: 'xml' }, /format must be/],
      [{ servers, stream: 'S', maxRecordBytes: 0 }, /maxRecordBytes/],
      [{ servers, stream: 'S', timestamp: 'now' }, /timestamp must be/],
    ];
    for (const [o, msg] of bad) {
      expect(() => fromJetStream(o as never)).toThrow(PlanError);
      expect(() => fromJetStream(o as never)).toThrow(/^tidemark\.fromJetStream: /);
      expect(() => fromJetStream(o as never)).toThrow(msg);
    }
  });
});
