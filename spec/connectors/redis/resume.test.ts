/**
 * fromRedisStream as a replayable source: chunks carry the last id read per stream; a reader
 * opened with `resume` moves the group's cursor back to it (even though the failed run had
 * acknowledged entries after it), acknowledges its own pending entries up to it, and reads
 * exactly the rest — the union of both reads is the whole stream, in id order, with no overlap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceError, fromRedisStream, type RedisStreamRecord } from 'tidemark';
import { available } from '../services.js';
import { Names, pendingByConsumer, rawClient } from './support.js';
import { readChunks } from '../checkpoints/read-chunks.js';

const up = await available('redis');
type Rec = RedisStreamRecord<{ i: number }>;

describe.skipIf(!up)('fromRedisStream resume from a checkpoint position', () => {
  const names = new Names();
  let raw: ReturnType<typeof rawClient>;
  beforeAll(() => {
    raw = rawClient();
  });
  afterAll(async () => {
    await names.cleanup(raw);
    raw.disconnect();
  });

  const read = (streams: string[], group: string, resume: unknown, limit = Infinity) => {
    const source = fromRedisStream<{ i: number }>({ host: '127.0.0.1', port: 6379, streams, group, consumer: 'c1', count: 4 });
    expect(source.replayable).toBe(true);
    return readChunks<Rec>(source, resume, limit, 4);
  };

  it('continues after the checkpointed ids, although the failed run acknowledged more', async () => {
    const a = names.stream('resume_a');
    const b = names.stream('resume_b');
    for (let i = 0; i < 30; i++) await raw.xadd(i % 2 === 0 ? a : b, '*', 'data', JSON.stringify({ i }));
    await raw.xadd(a, '*', 'data', '{not json'); // a dead letter in the middle
    for (let i = 30; i < 36; i++) await raw.xadd(a, '*', 'data', JSON.stringify({ i }));
    const group = names.group('resume');
    const checkpointed = await read([a, b], group, undefined, 2); // the checkpoint is taken here
    expect(checkpointed.position).toMatchObject({ ids: expect.any(Array) });
    await read([a, b], group, undefined, 3); // the failed run goes on (and acknowledges) after the checkpoint
    const rest = await read([a, b], group, checkpointed.position);
    const union = [...checkpointed.values, ...rest.values].map((r) => r.value.i);
    expect(new Set(union).size).toBe(union.length);
    expect([...union].sort((x, y) => x - y)).toEqual(Array.from({ length: 36 }, (_, i) => i));
    // nothing of this consumer is left pending
    expect((await pendingByConsumer(raw, a, group)).get('c1') ?? []).toEqual([]);
    expect((await pendingByConsumer(raw, b, group)).get('c1') ?? []).toEqual([]);
  });

  it('refuses a malformed position', async () => {
    const a = names.stream('resume_bad');
    await raw.xadd(a, '*', 'data', '{"i":1}');
    await expect(read([a], names.group('bad'), { ids: [[a, 'not-an-id']] })).rejects.toThrow(SourceError);
  });
});
