/**
 * fromJetStream in a partitioned run: declares `partitionCount` when its partitions are a count,
 * reads only the share `SourceContext.partitions` assigns (its positions cover only those), and
 * refuses a share naming a partition it does not have.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock, fromJetStream, partitionFor, partitionedSubject, toJetStream } from 'tidemark';
import { available } from '../connectors/services.js';
import { JsAdmin } from '../connectors/jetstream/fixture.js';
import { NATS } from './support.js';

const hasNats = await available('nats');

describe.skipIf(!hasNats)('fromJetStream shares', () => {
  let admin: JsAdmin;
  beforeAll(async () => {
    admin = await JsAdmin.connect(NATS);
  });
  afterAll(async () => {
    await admin?.close();
  });

  it('declares partitionCount for a count, not for a list of ids', () => {
    expect(fromJetStream({ servers: NATS, stream: 'S', partitions: 4 }).partitionCount).toBe(4);
    expect(fromJetStream({ servers: NATS, stream: 'S', partitions: [0, 2] }).partitionCount).toBeUndefined();
    expect(fromJetStream({ servers: NATS, stream: 'S' }).partitionCount).toBeUndefined();
  });

  it('reads only the assigned partitions; positions name only them', async () => {
    const stream = await admin.stream('tm_share');
    const values = Array.from({ length: 40 }, (_, i) => ({ user: `u${i % 9}`, i }));
    await admin.publishJson((i) => `${stream}.${partitionFor((values[i] as { user: string }).user, 4)}`, values);
    const source = fromJetStream<{ user: string; i: number }>({ servers: NATS, stream, partitions: 4 });
    const reader = source.open({ name: 'share', batchSize: 100, clock: new SystemClock(), partitions: [1, 3] });
    expect(reader.partitions).toEqual([1, 3]);
    const seen: { user: string; i: number }[] = [];
    let position: unknown;
    for (let c = await reader.next(); c !== null; c = await reader.next()) {
      if (c.kind !== 'records') continue;
      expect([1, 3]).toContain(c.partition);
      seen.push(...c.values);
      position = c.position;
    }
    await reader.close?.();
    const expected = values.filter((v) => [1, 3].includes(partitionFor(v.user, 4)));
    expect(seen.map((v) => v.i).sort((a, b) => a - b)).toEqual(expected.map((v) => v.i));
    expect((position as { sequences: [number, number][] }).sequences.map(([p]) => p).sort()).toEqual([1, 3]);
  });

  it('partitionedSubject publishes each record where the partition of its key is read', async () => {
    const stream = await admin.stream('tm_subject');
    const values = Array.from({ length: 30 }, (_, i) => ({ user: `u${i % 7}`, i }));
    const subjectOf = partitionedSubject(stream, 4, (v: { user: string }) => v.user);
    const sink = toJetStream<{ user: string; i: number }>({ servers: NATS, stream, subjectFor: subjectOf, msgId: (v) => String(v.i) });
    await sink.open?.({ name: 'pub' });
    await sink.write(values, values.map(() => 0));
    await sink.close?.();
    const reader = fromJetStream<{ user: string; i: number }>({ servers: NATS, stream, partitions: 4 }).open({ name: 'r', batchSize: 100, clock: new SystemClock() });
    for (let c = await reader.next(); c !== null; c = await reader.next()) {
      if (c.kind === 'records') for (const v of c.values) expect(c.partition).toBe(partitionFor(v.user, 4));
    }
    await reader.close?.();
    expect(() => partitionedSubject('S', 3, (v: { user: string }) => v.user)).toThrow(/tidemark.partitionedSubject: partitions/);
  });

  it('refuses a share naming a partition it does not have', () => {
    const source = fromJetStream({ servers: NATS, stream: 'S', partitions: 2 });
    expect(() => source.open({ name: 'x', batchSize: 10, clock: new SystemClock(), partitions: [0, 5] })).toThrow(/assigned partition\(s\) 5/);
  });
});
