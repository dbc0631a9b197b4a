/**
 * fromJetStream as a replayable source: every chunk carries the per-partition sequences after it;
 * reopening with `resume` starts each partition's consumer right after its saved sequence (the
 * union of the two reads is the whole stream, with no overlap), and a saved sequence below the
 * stream's first retained message fails with an error naming what was lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceError, fromJetStream } from 'tidemark';
import { available } from '../services.js';
import { JsAdmin } from './fixture.js';
import { readChunks } from '../checkpoints/read-chunks.js';

const servers = '127.0.0.1:4222';
const hasNats = await available('nats');

const read = (source: ReturnType<typeof fromJetStream<{ p: number; i: number }>>, resume: unknown, limit = Infinity) => readChunks(source, resume, limit);

const key = (v: { p: number; i: number }): string => `${v.p}:${v.i}`;

describe.skipIf(!hasNats)('fromJetStream resume from a checkpoint position', () => {
  let admin: JsAdmin;
  beforeAll(async () => {
    admin = await JsAdmin.connect(servers);
  });
  afterAll(async () => {
    await admin?.close();
  });

  it('is replayable; resuming after a chunk reads the rest of every partition exactly once', async () => {
    const stream = await admin.stream('tm_resume');
    const all = Array.from({ length: 60 }, (_, i) => ({ p: i % 3, i }));
    await admin.publishJson((i) => `${stream}.${i % 3}`, all);
    const source = () => fromJetStream<{ p: number; i: number }>({ servers, stream, partitions: 3 });
    expect(source().replayable).toBe(true);
    for (const limit of [1, 4]) {
      const first = await read(source(), undefined, limit);
      expect(first.position).toMatchObject({ stream, sequences: expect.any(Array) });
      const rest = await read(source(), first.position);
      const union = [...first.values, ...rest.values].map(key);
      expect(new Set(union).size).toBe(union.length); // no overlap
      expect(union.sort()).toEqual(all.map(key).sort()); // nothing missing
      // per partition, the order is the stream order
      for (const p of [0, 1, 2]) {
        expect([...first.values, ...rest.values].filter((v) => v.p === p).map((v) => v.i)).toEqual(all.filter((v) => v.p === p).map((v) => v.i));
      }
    }
  });

  it('fails, naming the removed sequences, when the saved position is below the first retained message', async () => {
    const stream = await admin.stream('tm_gap');
    await admin.publishJson(() => `${stream}.0`, Array.from({ length: 20 }, (_, i) => ({ p: 0, i })));
    const first = await read(fromJetStream({ servers, stream, partitions: 1 }), undefined, 1);
    const saved = (first.position as { sequences: [number, number][] }).sequences[0]?.[1] as number;
    expect(saved).toBeGreaterThanOrEqual(1);
    expect(saved).toBeLessThan(10);
    await admin.jsm.streams.purge(stream, { seq: saved + 7 }); // removes 1…saved+6
    const error = await read(fromJetStream({ servers, stream, partitions: 1 }), first.position).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect(String((error as Error).message)).toMatch(new RegExp(`partition 0 .*stream '${stream}' after sequence ${saved}: the stream now starts at sequence ${saved + 7}, so messages ${saved + 1}…${saved + 6} were removed`));
    // a fresh start (no checkpoint) starts at the first retained message, and its positions say so
    const fresh = await read(fromJetStream<{ p: number; i: number }>({ servers, stream, partitions: 1 }), undefined);
    expect(fresh.values.map((v) => v.i)).toEqual(Array.from({ length: 20 - (saved + 6) }, (_, k) => saved + 6 + k));
  });

  it('refuses a position of another stream', async () => {
    const stream = await admin.stream('tm_other');
    await admin.publishJson(() => `${stream}.0`, [{ p: 0, i: 0 }]);
    await expect(read(fromJetStream({ servers, stream, partitions: 1 }), { stream: 'ELSEWHERE', sequences: [[0, 1]] })).rejects.toThrow(/position in stream 'ELSEWHERE'/);
  });
});
