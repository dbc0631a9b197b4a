/**
 * The embedded event log: appends and offsets, per-key partitioning, reads from every kind of
 * start position, following the head, reopening, recovery of torn tails, corruption, option
 * validation and untrusted values.
 */
import { appendFile, open, readdir, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PlanError } from 'tidemark';
import { EventLog, LogCorruptionError, LogError } from 'tidemark';
import { all, flipByte, removeTempDirs, tempDir, until } from './helpers.js';

afterAll(removeTempDirs);

const rec = (key: string, timestamp: number, value: unknown = { key, timestamp }) => ({ key, timestamp, value });

async function segmentFiles(dir: string, partition = 0): Promise<string[]> {
  const pdir = join(dir, `partition-${String(partition).padStart(4, '0')}`);
  return (await readdir(pdir)).filter((n) => n.endsWith('.log')).sort().map((n) => join(pdir, n));
}

describe('EventLog', () => {
  it('appends with offsets per partition, keeps a key in one partition, and reads back in offset order', async () => {
    const log = await EventLog.open(await tempDir(), { partitions: 4, fsync: 'never' });
    try {
      const input = Array.from({ length: 200 }, (_, i) => rec(`k${i % 13}`, 1000 + i, { i }));
      const pos = await log.append(input);
      const perPart = new Map<number, number[]>();
      pos.forEach((p, i) => {
        expect(p.partition).toBe(log.partitionOf(input[i]!.key));
        perPart.set(p.partition, [...(perPart.get(p.partition) ?? []), p.offset]);
      });
      for (const offsets of perPart.values()) expect(offsets).toEqual(offsets.map((_, j) => j)); // dense from 0
      expect(perPart.size).toBeGreaterThan(1);
      const read = await all(log.read());
      expect(read).toHaveLength(200);
      // per key, values come back in append order
      const byKey = new Map<string, number[]>();
      for (const r of read) byKey.set(r.key as string, [...(byKey.get(r.key as string) ?? []), (r.value as { i: number }).i]);
      for (const is of byKey.values()) expect(is).toEqual([...is].sort((a, b) => a - b));
      expect(read[0]).toMatchObject({ partition: expect.any(Number), offset: 0, key: expect.any(String), timestamp: expect.any(Number) });
      expect(log.heads()).toEqual(Object.fromEntries([...perPart].map(([p, o]) => [p, o.length])));
    } finally {
      await log.close();
    }
  });

  it('reads from an offset, offsets per partition, the latest head, and a timestamp', async () => {
    const log = await EventLog.open(await tempDir(), { fsync: 'never', segmentBytes: 2048, indexIntervalBytes: 128 });
    try {
      // timestamps out of order: the seek returns the first record at or after T by offset
      const ts = Array.from({ length: 300 }, (_, i) => i * 10 + (i % 3 === 0 ? 500 : 0));
      for (let b = 0; b < 300; b += 10) await log.append(ts.slice(b, b + 10).map((t, j) => rec('a', t, { i: b + j })));
      const fromOffset = await all(log.read({ from: 250 }));
      expect(fromOffset.map((r) => r.offset)).toEqual(Array.from({ length: 50 }, (_, i) => 250 + i));
      expect(await all(log.read({ from: { 0: 299 } }))).toHaveLength(1);
      expect(await all(log.read({ from: 'latest' }))).toEqual([]);
      for (const T of [0, 1, 505, 1500, 2999, 3500]) {
        const got = await all(log.read({ from: { timestamp: T } }));
        const first = ts.findIndex((t) => t >= T);
        expect(got[0]?.offset ?? -1).toBe(first);
        if (first >= 0) expect(got).toHaveLength(300 - first);
      }
      expect((await segmentFiles(log.dir)).length).toBeGreaterThan(3); // rolled by size
    } finally {
      await log.close();
    }
  });

  it('with several partitions, a single offset is a plan error naming the fix; only listed partitions are read', async () => {
    const log = await EventLog.open(await tempDir(), { partitions: 2, fsync: 'never' });
    try {
      expect(() => log.read({ from: 3 })).toThrow(/give offsets per partition/);
      expect(() => log.read({ from: { 5: 0 } })).toThrow(PlanError);
      await log.append([rec('a', 1), rec('b', 2), rec('c', 3), rec('d', 4)]);
      const p = log.partitionOf('a');
      const got = await all(log.read({ from: { [p]: 0 } }));
      expect(got.length).toBeGreaterThan(0);
      expect(got.every((r) => r.partition === p)).toBe(true);
    } finally {
      await log.close();
    }
  });

  it('follow: true waits at the head for new appends', async () => {
    const log = await EventLog.open(await tempDir(), { partitions: 2, fsync: 'never' });
    try {
      await log.append([rec('a', 1)]);
      const seen: number[] = [];
      const reading = (async () => {
        for await (const r of log.read({ follow: true })) {
          seen.push(r.timestamp);
          if (seen.length === 4) break;
        }
      })();
      await until(() => seen.length === 1);
      await log.append([rec('b', 2)]);
      await until(() => seen.length === 2);
      await log.append([rec('c', 3), rec('d', 4)]);
      await reading;
      expect(seen.sort()).toEqual([1, 2, 3, 4]);
    } finally {
      await log.close();
    }
  });

  it('group commit: concurrent appends under fsync always all resolve, in order, with distinct offsets', async () => {
    const log = await EventLog.open(await tempDir(), { fsync: 'always' });
    try {
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append([rec('k', i), rec('k', i + 0.5 > i ? i : i)])));
      const offsets = results.flat().map((p) => p.offset);
      expect(offsets).toEqual(Array.from({ length: 100 }, (_, i) => i));
      expect((await all(log.read())).map((r) => r.timestamp)).toEqual(Array.from({ length: 50 }, (_, i) => [i, i]).flat());
    } finally {
      await log.close();
    }
  });

  it('persists across reopen; the partition count is fixed; one process holds the lock', async () => {
    const dir = await tempDir();
    const log = await EventLog.open(dir, { partitions: 3, fsync: 'interval' });
    await log.append([rec('a', 1), rec('b', 2)]);
    await expect(EventLog.open(dir)).rejects.toThrow(LogError); // already open
    await log.close();
    await expect(EventLog.open(dir, { partitions: 4 })).rejects.toThrow(/has 3 partitions, not 4/);
    const again = await EventLog.open(dir);
    try {
      expect(again.partitions).toBe(3);
      expect((await all(again.read())).map((r) => r.key).sort()).toEqual(['a', 'b']);
      const pa = again.partitionOf('a');
      const before = again.heads()[pa];
      expect(before).toBe(pa === again.partitionOf('b') ? 2 : 1);
      const [p] = await again.append([rec('a', 3)]);
      expect(p).toEqual({ partition: pa, offset: before });
    } finally {
      await again.close();
    }
  });

  it('recovery cuts a torn tail (a half-written frame, garbage) and keeps every whole record', async () => {
    const dir = await tempDir();
    const log = await EventLog.open(dir, { fsync: 'always' });
    await log.append(Array.from({ length: 10 }, (_, i) => rec('k', i, { i })));
    await log.close();
    const [seg] = await segmentFiles(dir);
    const size = (await stat(seg!)).size;
    // A torn frame: a copy of the first 20 bytes of a real frame (length says more follows).
    const fh = await open(seg!, 'r');
    const head = Buffer.alloc(20);
    await fh.read(head, 0, 20, 0);
    await fh.close();
    await appendFile(seg!, head);
    const reopened = await EventLog.open(dir, { fsync: 'always' });
    expect(reopened.recovery).toEqual([{ partition: 0, truncated: { '00000000000000000000': 20 } }]);
    expect((await stat(seg!)).size).toBe(size);
    expect((await all(reopened.read())).map((r) => (r.value as { i: number }).i)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    // appends continue after the cut
    expect((await reopened.append([rec('k', 10, { i: 10 })]))[0]?.offset).toBe(10);
    await reopened.close();
    // A tail whose bytes are random: a frame with a wrong checksum is cut too.
    await appendFile(seg!, Buffer.from([40, 0, 0, 0, ...Array.from({ length: 40 }, (_, i) => (i * 37) & 0xff)]));
    const third = await EventLog.open(dir);
    try {
      expect(third.recovery[0]?.truncated).toEqual({ '00000000000000000000': 44 });
      expect(await all(third.read())).toHaveLength(11);
    } finally {
      await third.close();
    }
  });

  it('a corrupt record inside a sealed segment is an explicit error, never returned', async () => {
    const dir = await tempDir();
    const log = await EventLog.open(dir, { fsync: 'never', segmentBytes: 1024 });
    for (let i = 0; i < 60; i++) await log.append([rec('k', i, { i, pad: 'abcdefghij' })]);
    await log.close();
    expect((await segmentFiles(dir)).length).toBeGreaterThan(1); // the first one is sealed
    const [first] = await segmentFiles(dir);
    await flipByte(first!, 100); // inside a record
    const reopened = await EventLog.open(dir);
    try {
      const seen: number[] = [];
      const err = await (async () => {
        try {
          for await (const r of reopened.read()) seen.push((r.value as { i: number }).i);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(LogCorruptionError);
      expect((err as LogCorruptionError).message).toMatch(/segment 00000000000000000000 at byte \d+/);
      expect(seen.length).toBeLessThan(60);
      seen.forEach((v, j) => expect(v).toBe(j)); // everything returned before it is intact
    } finally {
      await reopened.close();
    }
  });

  it('rejects bad records with the record index, writing nothing of that call', async () => {
    const log = await EventLog.open(await tempDir(), { fsync: 'never', maxRecordBytes: 100 });
    try {
      await expect(log.append([rec('a', 1), { key: { no: 1 } as never, timestamp: 1, value: 1 }])).rejects.toThrow(/record 1: key must be/);
      await expect(log.append([rec('a', 1), rec('b', 1.5)])).rejects.toThrow(/record 1: .*timestamp/);
      await expect(log.append([{ key: 'a', timestamp: 1, value: undefined }])).rejects.toThrow(/undefined \(use null/);
      await expect(log.append([rec('a', 1, 'x'.repeat(200))])).rejects.toThrow(/over maxRecordBytes \(100\)/);
      expect(await all(log.read())).toEqual([]);
      expect(log.heads()).toEqual({ 0: 0 });
    } finally {
      await log.close();
    }
    await expect(log.append([rec('a', 1)])).rejects.toThrow(/closed/);
  });

  it('validates options eagerly, naming the factory', async () => {
    const dir = await tempDir();
    await expect(EventLog.open(dir, { partitions: 0 })).rejects.toThrow(/tidemark\.EventLog\.open: partitions must be/);
    await expect(EventLog.open(dir, { fsync: 'sometimes' as never })).rejects.toThrow(/fsync must be 'always', 'interval' or 'never'/);
    await expect(EventLog.open(dir, { retention: {} })).rejects.toThrow(/retention needs maxAge and\/or maxBytes/);
    await expect(EventLog.open(dir, { retention: { maxAge: 'soon' } })).rejects.toThrow(PlanError);
  });

  it('keeps keys and values as plain data: __proto__ and constructor stay own properties, bigint keys stay bigint', async () => {
    const log = await EventLog.open(await tempDir(), { fsync: 'never' });
    try {
      const hostile = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}, "n": [{"__proto__": 1}]}') as unknown;
      await log.append([{ key: 'h', timestamp: 1, value: hostile }, { key: 12n, timestamp: 2, value: { b: Buffer.from([1, 2]), big: 2n ** 60n } }, { key: ['a', 1], timestamp: 3, value: null }]);
      const [h, b, c] = await all(log.read());
      const v = h!.value as Record<string, unknown>;
      expect(Object.keys(v)).toEqual(['__proto__', 'constructor', 'n']);
      expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toEqual({ polluted: true });
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect(Object.getOwnPropertyDescriptor((v['n'] as object[])[0], '__proto__')?.value).toBe(1);
      expect(b!.key).toBe(12n);
      const bv = b!.value as { b: Uint8Array; big: bigint };
      expect(bv.b).toBeInstanceOf(Uint8Array);
      expect([...bv.b]).toEqual([1, 2]);
      expect(bv.big).toBe(2n ** 60n);
      expect(c).toMatchObject({ key: ['a', 1], value: null });
    } finally {
      await log.close();
    }
  });

  it("fsync 'interval' syncs in the background and on close; a truncated (partial) segment file reopens cleanly", async () => {
    const dir = await tempDir();
    const log = await EventLog.open(dir, { fsync: 'interval', fsyncIntervalMs: 10 });
    await log.append(Array.from({ length: 5 }, (_, i) => rec('k', i)));
    await log.close();
    const [seg] = await segmentFiles(dir);
    await truncate(seg!, (await stat(seg!)).size - 3);
    const again = await EventLog.open(dir);
    try {
      expect(await all(again.read())).toHaveLength(4);
      expect(again.heads()).toEqual({ 0: 4 });
    } finally {
      await again.close();
    }
  });
});
