/**
 * Redis Streams against the local server: consumer groups, partitions, acknowledgement after
 * processing, own pending entries re-read on start, dead letters (acknowledged, with positions),
 * hostile payloads, MAXLEN retention, follow mode, and credentials kept out of errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { Pipeline, PlanError, SourceError, TidemarkError, collect, count, forEach, fromArray, tumbling, type DeadLetter } from 'tidemark';
import { fromRedisStream, toRedisStream, type RedisStreamRecord } from 'tidemark';
import { available } from '../services.js';
import { Names, appendJson, pendingByConsumer, rawClient, until } from './support.js';

const base = { host: '127.0.0.1', port: 6379 } as const;

describe('fromRedisStream / toRedisStream options', () => {
  it('reject bad options eagerly, naming the factory', () => {
    const ok = { streams: 's', group: 'g', consumer: 'c' };
    expect(() => fromRedisStream({ ...ok, streams: [] })).toThrow(PlanError);
    expect(() => fromRedisStream({ ...ok, streams: ['a', 'a'] })).toThrow(/tidemark.fromRedisStream: streams lists a key twice/);
    expect(() => fromRedisStream({ ...ok, group: '' })).toThrow(/group must be a non-empty string/);
    expect(() => fromRedisStream({ ...ok, from: 'yesterday' })).toThrow(/from must be '0', '\$' or an entry id/);
    expect(() => fromRedisStream({ ...ok, count: 0 })).toThrow(/count must be a positive integer/);
    expect(() => fromRedisStream({ ...ok, claimIdleMs: -1 })).toThrow(/claimIdleMs/);
    expect(() => fromRedisStream({ ...ok, format: 'xml' as never })).toThrow(/format must be/);
    expect(() => fromRedisStream({ ...ok, timestamp: { field: '' } })).toThrow(/timestamp must be/);
    expect(() => fromRedisStream({ ...ok, maxRecordBytes: 0 })).toThrow(/maxRecordBytes/);
    expect(() => fromRedisStream({ ...ok, url: 'http://x' })).toThrow(/url must start with redis:\/\//);
    expect(() => fromRedisStream({ ...ok, port: 70_000 })).toThrow(/port must be an integer/);
    expect(() => toRedisStream({})).toThrow(/tidemark.toRedisStream: give exactly one of stream or streamFor/);
    expect(() => toRedisStream({ stream: 's', fields: () => ({ a: 1 }), format: 'json' })).toThrow(/fields or format/);
    expect(() => toRedisStream({ stream: 's', maxLen: { count: -1 } })).toThrow(/maxLen/);
  });

  it('a URL with a password never shows it in the error', () => {
    let message = '';
    try {
      fromRedisStream({ streams: 's', group: 'g', consumer: 'c', url: 'redis://user:hunter2@127.0.0.1:6379', count: 1.5 });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/count must be a positive integer/);
    expect(message).not.toContain('hunter2');
  });

  it('declares one partition per stream', () => {
    const reader = fromRedisStream({ streams: ['a', 'b', 'c'], group: 'g', consumer: 'c' })
      .open({ name: 'r', batchSize: 10, clock: { now: () => 0, schedule: () => () => undefined, realTime: true } as never });
    expect(reader.partitions).toEqual([0, 1, 2]);
  });
});

describe.skipIf(!(await available('redis')))('Redis Streams against the local server', () => {
  let redis: Redis;
  const names = new Names();
  beforeAll(() => {
    redis = rawClient();
  });
  afterAll(async () => {
    await names.cleanup(redis);
    redis.disconnect();
  });

  it('round trip: toRedisStream by tenant, fromRedisStream over both streams as partitions, everything acknowledged', async () => {
    const [a, b] = [names.stream('a'), names.stream('b')];
    const rows = Array.from({ length: 300 }, (_, n) => ({ n, tenant: n % 3 === 0 ? 'a' : 'b', ts: 1_000_000 + n * 100 }));
    const w = new Pipeline({ batchSize: 64 });
    w.source(fromArray(rows), { timestamp: (r) => r.ts })
      .sink(toRedisStream({ ...base, streamFor: (r) => (r.tenant === 'a' ? a : b), timestampField: 'ts', batchSize: 50 }));
    await w.run();
    expect(await redis.xlen(a)).toBe(100);
    expect(await redis.xlen(b)).toBe(200);

    const group = names.group();
    const seen: { r: RedisStreamRecord<{ n: number; tenant: string }>; t: number }[] = [];
    const counts: { start: number; value: number }[] = [];
    const p = new Pipeline({ batchSize: 40 });
    const src = p.source(fromRedisStream<{ n: number; tenant: string }>({ ...base, streams: [a, b], group, consumer: 'c1', timestamp: { field: 'ts' } }), { name: 'redis' });
    src.sink(forEach((r, t) => void seen.push({ r, t })));
    src.keyBy(() => 'all').window(tumbling(10_000)).aggregate(count()).sink(forEach((x) => void counts.push({ start: x.window.start, value: x.value })));
    const summary = await p.run();

    expect(seen.map((x) => x.r.value.n).sort((x, y) => x - y)).toEqual(rows.map((r) => r.n));
    for (const { r, t } of seen) {
      expect(r.partition).toBe(r.value.tenant === 'a' ? 0 : 1);
      expect(r.stream).toBe(r.value.tenant === 'a' ? a : b);
      expect(t).toBe(1_000_000 + r.value.n * 100);
      expect(r.redelivered).toBe(false);
    }
    expect(counts.reduce((s, c) => s + c.value, 0)).toBe(300);
    expect(counts.length).toBe(3);
    expect(summary.sources['redis']).toMatchObject({ read: 300, emitted: 300, deadLettered: 0, acked: 300, redelivered: 0 });
    expect((await pendingByConsumer(redis, a, group)).size).toBe(0);
    expect((await pendingByConsumer(redis, b, group)).size).toBe(0);
  });

  it('event time defaults to the entry id; from "$" skips what is there, from an id starts after it', async () => {
    const s = names.stream('ids');
    const ids = await appendJson(redis, s, [1, 2, 3, 4]);
    const read = async (from: string): Promise<{ id: string; t: number }[]> => {
      const out: { id: string; t: number }[] = [];
      const p = new Pipeline();
      p.source(fromRedisStream<number>({ ...base, streams: s, group: names.group(), consumer: 'c', from })).sink(forEach((r, t) => void out.push({ id: r.id, t })));
      await p.run();
      return out;
    };
    const all = await read('0');
    expect(all.map((x) => x.id)).toEqual(ids);
    for (const x of all) expect(x.t).toBe(Number(x.id.split('-')[0]));
    expect(await read('$')).toEqual([]);
    expect((await read(ids[1] as string)).map((x) => x.id)).toEqual(ids.slice(2));
  });

  it('re-reads its own pending entries first on start, marked redelivered', async () => {
    const s = names.stream('own');
    const group = names.group();
    const ids = await appendJson(redis, s, Array.from({ length: 10 }, (_, i) => ({ i })));
    await redis.call('XGROUP', 'CREATE', s, group, '0');
    // A previous life of consumer w1 read three entries and never acknowledged them.
    await redis.call('XREADGROUP', 'GROUP', group, 'w1', 'COUNT', 3, 'STREAMS', s, '>');
    expect((await pendingByConsumer(redis, s, group)).get('w1')).toEqual(ids.slice(0, 3));

    const out: RedisStreamRecord<{ i: number }>[] = [];
    const p = new Pipeline();
    p.source(fromRedisStream<{ i: number }>({ ...base, streams: s, group, consumer: 'w1', claimIdleMs: false }), { name: 'redis' }).sink(collect(out));
    const summary = await p.run();
    expect(out.map((r) => r.id)).toEqual(ids);
    expect(out.filter((r) => r.redelivered).map((r) => r.id)).toEqual(ids.slice(0, 3));
    expect(summary.sources['redis']).toMatchObject({ redelivered: 3, claimed: 0, acked: 10 });
    expect((await pendingByConsumer(redis, s, group)).size).toBe(0);
  });

  it('bad input becomes dead letters with { stream, id }, acknowledged; hostile keys stay plain data', async () => {
    const s = names.stream('bad');
    const group = names.group();
    const add = (...fields: string[]): Promise<string> => redis.xadd(s, '*', ...fields) as Promise<string>;
    const good = await add('data', '{"ok":1}', 'ts', '5000');
    const broken = await add('data', '{"ok":', 'ts', '5000');
    const noField = await add('other', '1', 'ts', '5000');
    const huge = await add('data', JSON.stringify({ pad: 'x'.repeat(5000) }), 'ts', '5000');
    const badTs = await add('data', '{"ok":2}', 'ts', 'yesterday');
    const isoTs = await add('data', '{"ok":3}', 'ts', '1970-01-01T00:00:06.000Z');
    const hostile = await add('data', '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}', 'ts', '7000');
    const out: RedisStreamRecord<Record<string, unknown>>[] = [];
    const times: number[] = [];
    const dead: DeadLetter[] = [];
    const p = new Pipeline();
    p.source(fromRedisStream<Record<string, unknown>>({ ...base, streams: s, group, consumer: 'c', timestamp: { field: 'ts' }, maxRecordBytes: 1000 }), { name: 'redis' })
      .sink(forEach((r, t) => void (out.push(r), times.push(t))));
    p.deadLetters().sink(collect(dead));
    const summary = await p.run();

    expect(out.map((r) => r.id)).toEqual([good, isoTs, hostile]);
    expect(times).toEqual([5000, 6000, 7000]);
    const byId = new Map(dead.map((d) => [d.position?.['id'], d]));
    expect([...byId.keys()]).toEqual([broken, noField, huge, badTs]);
    for (const d of dead) expect(d.position).toMatchObject({ stream: s, partition: 0 });
    expect(byId.get(broken)?.reason).toMatch(/cannot decode entry \(json\)/);
    expect(byId.get(noField)?.reason).toMatch(/no field 'data'/);
    expect(byId.get(huge)?.reason).toMatch(/over maxRecordBytes \(1000\)/);
    expect(String((byId.get(huge)?.value as Record<string, string>)['data']).length).toBeLessThan(300); // bounded preview
    expect(byId.get(badTs)?.reason).toMatch(/timestamp field 'ts'/);
    // JSON keys named __proto__ / constructor are own data, nothing reached Object.prototype.
    const h = out[2]?.value as Record<string, unknown>;
    expect(Object.getPrototypeOf(h)).toBe(Object.prototype);
    expect(Object.hasOwn(h, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(summary.sources['redis']).toMatchObject({ read: 7, emitted: 3, deadLettered: 4, acked: 7 });
    // Dead letters are acknowledged too: nothing comes back.
    expect((await pendingByConsumer(redis, s, group)).size).toBe(0);
  });

  it('a pending entry deleted from the stream becomes a dead letter, not a silent gap', async () => {
    const s = names.stream('deleted');
    const group = names.group();
    const ids = await appendJson(redis, s, [1, 2, 3]);
    await redis.call('XGROUP', 'CREATE', s, group, '0');
    await redis.call('XREADGROUP', 'GROUP', group, 'c', 'COUNT', 2, 'STREAMS', s, '>');
    await redis.xdel(s, ids[0] as string);
    const out: number[] = [];
    const dead: DeadLetter[] = [];
    const p = new Pipeline();
    p.source(fromRedisStream<number>({ ...base, streams: s, group, consumer: 'c' })).sink(forEach((r) => void out.push(r.value)));
    p.deadLetters().sink(collect(dead));
    await p.run();
    expect(out).toEqual([2, 3]);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.position).toMatchObject({ stream: s, id: ids[0] });
    expect(dead[0]?.reason).toMatch(/deleted from the stream/);
    expect((await pendingByConsumer(redis, s, group)).size).toBe(0);
  });

  it('fuzz: random bytes and hostile documents each end accepted or dead-lettered', async () => {
    const s = names.stream('fuzz');
    let seed = 0x2545f491;
    const rand = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    const hostile = ['{"__proto__":{"isAdmin":true}}', '{"constructor":{"prototype":{"isAdmin":true}}}', '['.repeat(100_000), '"\\ud800"', '1e400', 'null', '{"a":'.repeat(50)];
    const p1 = redis.pipeline();
    let n = 0;
    for (const h of hostile) {
      p1.xadd(s, '*', 'data', h);
      n++;
    }
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)));
      const fields: (string | Buffer)[] = rand() < 0.8 ? ['data', bytes] : [bytes.length > 0 ? bytes : 'x', 'y', '__proto__', bytes];
      p1.xadd(s, '*', ...fields);
      n++;
    }
    await p1.exec();
    for (const format of ['json', 'fields', 'string'] as const) {
      const out: unknown[] = [];
      const dead: DeadLetter[] = [];
      const p = new Pipeline();
      p.source(fromRedisStream({ ...base, streams: s, group: names.group(format), consumer: 'c', format, maxRecordBytes: 50_000 }), { name: 'fuzz' }).sink(collect(out));
      p.deadLetters().sink(collect(dead));
      const summary = await p.run();
      expect(out.length + dead.length).toBe(n);
      expect(summary.sources['fuzz']).toMatchObject({ read: n, acked: n });
      if (format === 'json') expect(dead.length).toBeGreaterThan(0);
      for (const d of dead) expect(d.position?.['stream']).toBe(s);
    }
    expect(({} as Record<string, unknown>)['isAdmin']).toBeUndefined();
  });

  it('follow: true keeps reading new entries until the signal aborts', async () => {
    const s = names.stream('follow');
    const group = names.group();
    const controller = new AbortController();
    const out: number[] = [];
    const p = new Pipeline();
    p.source(fromRedisStream<number>({ ...base, streams: s, group, consumer: 'c', follow: true, blockMs: 50, signal: controller.signal }), { name: 'redis' })
      .sink(forEach((r) => void out.push(r.value)));
    const running = p.run();
    await until('the group to exist', async () => ((await redis.exists(s)) === 1 ? true : undefined));
    await appendJson(redis, s, [1, 2, 3]);
    await until('three records', () => (out.length >= 3 ? true : undefined));
    await appendJson(redis, s, [4, 5]);
    await until('five records', () => (out.length >= 5 ? true : undefined));
    controller.abort();
    const summary = await running;
    expect(out).toEqual([1, 2, 3, 4, 5]);
    expect(summary.sources['redis']).toMatchObject({ read: 5, acked: 5 });
    expect((await pendingByConsumer(redis, s, group)).size).toBe(0);
  });

  it('follow: a live consumer claims what another consumer left pending, on its claim interval', async () => {
    const s = names.stream('followclaim');
    const group = names.group();
    const ids = await appendJson(redis, s, [1, 2, 3, 4, 5]);
    await redis.call('XGROUP', 'CREATE', s, group, '0');
    // A ghost consumer takes two entries and disappears without acknowledging them.
    await redis.call('XREADGROUP', 'GROUP', group, 'ghost', 'COUNT', 2, 'STREAMS', s, '>');
    const controller = new AbortController();
    const out: RedisStreamRecord<number>[] = [];
    const p = new Pipeline();
    p.source(fromRedisStream<number>({ ...base, streams: s, group, consumer: 'live', follow: true, blockMs: 20, claimIdleMs: 250, claimIntervalMs: 30, signal: controller.signal }), { name: 'redis' })
      .sink(collect(out));
    const running = p.run();
    await until('the ghost entries to be claimed', () => (out.length >= 5 ? true : undefined));
    controller.abort();
    const summary = await running;
    expect(out.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(out.filter((r) => r.redelivered).map((r) => r.id)).toEqual(ids.slice(0, 2));
    expect(summary.sources['redis']).toMatchObject({ claimed: 2, acked: 5 });
    expect((await pendingByConsumer(redis, s, group)).size).toBe(0);
  });

  it('toRedisStream: awaited pipelined XADD (backpressure), fields(), MAXLEN ~ and exact MAXLEN', async () => {
    const s = names.stream('sink');
    const sink = toRedisStream<{ k: string; v: number }>({ ...base, stream: s, fields: (r) => ({ k: r.k, v: r.v }), batchSize: 100 });
    await sink.open?.({ name: 'sink' });
    const written = sink.write(Array.from({ length: 250 }, (_, v) => ({ k: `k${v}`, v })), Array.from({ length: 250 }, () => 0));
    expect(written).toBeInstanceOf(Promise);
    await written;
    // Resolved only once Redis answered every XADD.
    expect(await redis.xlen(s)).toBe(250);
    const [first] = await redis.xrange(s, '-', '+', 'COUNT', 1);
    expect(first?.[1]).toEqual(['k', 'k0', 'v', '0']);
    await expect(Promise.resolve(sink.write([{ k: 'x', v: 1 }, 5 as never], [0, 0]))).rejects.toThrow(TidemarkError);
    await sink.close?.();

    const approx = names.stream('approx');
    const exact = names.stream('exact');
    for (const [key, approxTrim] of [[approx, true], [exact, false]] as const) {
      const p = new Pipeline({ batchSize: 500 });
      p.source(fromArray(Array.from({ length: 3000 }, (_, i) => i)), { timestamp: (i) => i })
        .sink(toRedisStream({ ...base, stream: key, format: 'string', maxLen: { count: 100, approx: approxTrim } }));
      await p.run();
    }
    const approxLen = await redis.xlen(approx);
    expect(approxLen).toBeGreaterThanOrEqual(100);
    expect(approxLen).toBeLessThan(3000);
    expect(await redis.xlen(exact)).toBe(100);
  });

  it('credentials never appear in connection errors', async () => {
    const secret = 'pa55-w0rd-s3cret';
    const url = `redis://nobody-${Date.now()}:${secret}@127.0.0.1:6379`;
    const p = new Pipeline();
    p.source(fromRedisStream({ url, streams: names.stream('auth'), group: 'g', consumer: 'c', client: { retryStrategy: () => null } })).sink(collect([]));
    const error = await p.run().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect(String((error as Error).message)).toMatch(/cannot connect to Redis at 127.0.0.1:6379/);
    expect(String((error as Error).message)).not.toContain(secret);
    expect(JSON.stringify(error)).not.toContain(secret);

    const sink = toRedisStream({ url, stream: 'x', client: { retryStrategy: () => null } });
    const sinkError = await Promise.resolve(sink.open?.({ name: 'x' })).then(() => undefined, (e: unknown) => e);
    expect(sinkError).toBeInstanceOf(TidemarkError);
    expect(String((sinkError as Error).message)).not.toContain(secret);

    // From the environment: REDIS_URL is used when no url/host/port is given, and never shown.
    const saved = process.env['REDIS_URL'];
    process.env['REDIS_URL'] = `redis://:${secret}@127.0.0.1:1`;
    try {
      const q = new Pipeline();
      q.source(fromRedisStream({ streams: 's', group: 'g', consumer: 'c', client: { retryStrategy: () => null } })).sink(collect([]));
      const envError = await q.run().then(() => undefined, (e: unknown) => e);
      expect(String((envError as Error).message)).toMatch(/cannot connect to Redis at 127.0.0.1:1:/);
      expect(String((envError as Error).message)).not.toContain(secret);
    } finally {
      if (saved === undefined) delete process.env['REDIS_URL'];
      else process.env['REDIS_URL'] = saved;
    }
  });

  it('acknowledges a chunk only after its effects downstream', async () => {
    const s = names.stream('ackorder');
    const group = names.group();
    await appendJson(redis, s, [1, 2, 3, 4]);
    const pendingAtWrite: number[] = [];
    const p = new Pipeline({ batchSize: 2 });
    p.source(fromRedisStream<number>({ ...base, streams: s, group, consumer: 'c', count: 2 }))
      .sink(forEach(async () => {
        pendingAtWrite.push(((await pendingByConsumer(redis, s, group)).get('c') ?? []).length);
      }));
    await p.run();
    // While each record is written, its chunk (two entries) is still pending.
    expect(pendingAtWrite).toEqual([2, 2, 2, 2]);
    expect((await pendingByConsumer(redis, s, group)).size).toBe(0);
  });
});

