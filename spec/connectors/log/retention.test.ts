/**
 * Retention of the event log: by size, by age, compacted (latest record per key, tombstones
 * kept as deletes for `tombstoneRetention`, incremental: only dirty segments are rewritten);
 * reading below what was kept is an explicit error naming the lost offsets.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock, Pipeline, PlanError, collect } from 'tidemark';
import { EventLog, LogTruncatedError } from 'tidemark';
import { all, removeTempDirs, tempDir, until } from './helpers.js';

afterAll(removeTempDirs);

const pad = 'p'.repeat(60);

describe('EventLog retention', () => {
  it('by size: old segments go; reading below the retained start says which offsets were lost', async () => {
    const log = await EventLog.open(await tempDir(), { fsync: 'never', segmentBytes: 1024, retention: { maxBytes: 3000 } });
    try {
      for (let i = 0; i < 100; i++) await log.append([{ key: 'k', timestamp: i, value: { i, pad } }]);
      await log.applyRetention();
      const start = log.starts()[0]!;
      expect(start).toBeGreaterThan(0);
      expect(log.partitionAt(0).bytes).toBeLessThanOrEqual(3000 + 1024);
      const kept = await all(log.read());
      expect(kept[0]?.offset).toBe(start);
      expect(kept.map((r) => r.offset)).toEqual(Array.from({ length: 100 - start }, (_, j) => start + j));
      let err: unknown;
      try {
        await all(log.read({ from: 0 }));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LogTruncatedError);
      const t = err as LogTruncatedError;
      expect(t.lost).toEqual({ from: 0, to: start });
      expect(t.message).toContain(`offsets 0..${start - 1} were removed by retention`);
      expect(t.message).toContain('size > 3000 bytes');
      // 'earliest' starts at what is kept, without error
      expect((await all(log.read({ from: 'earliest' })))[0]?.offset).toBe(start);
    } finally {
      await log.close();
    }
  });

  it('by age: sealed segments whose newest record is older than maxAge go (measured against now)', async () => {
    const dir = await tempDir();
    const log = await EventLog.open(dir, { fsync: 'never', segmentBytes: 1024, retention: { maxAge: 'PT1H' } });
    try {
      const now = Date.now(); // retention also runs by itself on roll, against the wall clock
      // 0..49 are old (5 h ago), 50..99 recent
      for (let i = 0; i < 100; i++) await log.append([{ key: 'k', timestamp: i < 50 ? now - 5 * 3_600_000 + i : now - 60_000 + i, value: { i, pad } }]);
      await log.applyRetention(now);
      const kept = await all(log.read());
      const first = kept[0]!;
      expect((first.value as { i: number }).i).toBeLessThanOrEqual(50); // nothing recent removed
      expect(first.offset).toBeGreaterThan(0); // old segments removed
      expect(kept.filter((r) => (r.value as { i: number }).i >= 50)).toHaveLength(50);
      await expect(all(log.read({ from: 0 }))).rejects.toThrow(/age > 3600000 ms/);
    } finally {
      await log.close();
    }
  });

  it('compacted: keeps the latest record per key, tombstones stay as deletes, offsets keep their meaning', async () => {
    const log = await EventLog.open(await tempDir(), { partitions: 2, fsync: 'never', segmentBytes: 512, retention: 'compacted' });
    try {
      const latest = new Map<string, number | null>();
      for (let i = 0; i < 120; i++) {
        const key = `k${i % 5}`;
        const value = i >= 100 && key === 'k3' ? null : i;
        latest.set(key, value);
        await log.append([{ key, timestamp: i, value }]);
      }
      await log.applyRetention();
      const records = await all(log.read());
      // the last record per key in the log is the latest value (a tombstone for k3)
      const seen = new Map<string, unknown>();
      for (const r of records) seen.set(r.key as string, r.value);
      expect(seen).toEqual(latest);
      expect(records.length).toBeLessThan(120); // older versions are gone from sealed segments
      // records still carry their original offsets, increasing per partition
      for (const p of [0, 1]) {
        const offs = records.filter((r) => r.partition === p).map((r) => r.offset);
        expect(offs).toEqual([...offs].sort((a, b) => a - b));
      }
      // reading from an offset inside a compacted-away range is fine (it starts at the next record)
      const p0 = records.find((r) => r.partition === 0)!;
      expect((await all(log.read({ from: { 0: p0.offset } })))[0]?.offset).toBe(p0.offset);
      // compacted data survives reopen
      const dir = log.dir;
      await log.close();
      const again = await EventLog.open(dir, { retention: 'compacted' });
      try {
        expect((await all(again.read())).map((r) => [r.partition, r.offset])).toEqual(records.map((r) => [r.partition, r.offset]));
      } finally {
        await again.close();
      }
    } finally {
      await log.close();
    }
  });

  it("a consumer whose committed offsets were removed fails its run with the lost range (never skips silently)", async () => {
    const log = await EventLog.open(await tempDir(), { fsync: 'never', segmentBytes: 1024, retention: { maxBytes: 3000 } });
    try {
      await log.append([{ key: 'k', timestamp: 0, value: { i: 0, pad } }]);
      await log.commit('late', { 0: 1 });
      for (let i = 1; i < 100; i++) await log.append([{ key: 'k', timestamp: i, value: { i, pad } }]);
      await log.applyRetention();
      const p = new Pipeline({ clock: new ManualClock() });
      p.source(log.source({ consumer: 'late' }), { name: 'log' }).sink(collect([]));
      const err = await p.run().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(LogTruncatedError);
      expect((err as LogTruncatedError).lost).toEqual({ from: 1, to: log.starts()[0] });
    } finally {
      await log.close();
    }
  });

  it('retention also runs on its own when segments roll', async () => {
    const log = await EventLog.open(await tempDir(), { fsync: 'never', segmentBytes: 1024, retention: { maxBytes: 2048 } });
    try {
      for (let i = 0; i < 100; i++) await log.append([{ key: 'k', timestamp: i, value: { i, pad } }]);
      await until(() => log.starts()[0]! > 0);
    } finally {
      await log.close();
    }
  });

  it('compaction is incremental: only segments with enough dead records are rewritten, and a pass with nothing new rewrites nothing', async () => {
    const dir = await tempDir();
    const log = await EventLog.open(dir, { fsync: 'never', segmentBytes: 1024, retention: 'compacted' });
    try {
      // 0..59: unique keys (nothing dead); 60..119: rewrites of keys u0..u9 six times each
      for (let i = 0; i < 60; i++) await log.append([{ key: `u${i}`, timestamp: i, value: { i, pad } }]);
      for (let i = 60; i < 120; i++) await log.append([{ key: `u${i % 10}`, timestamp: i, value: { i, pad } }]);
      const inodes = async (): Promise<Map<string, number>> => {
        const pdir = join(dir, 'partition-0000');
        const names = (await readdir(pdir)).filter((n) => n.endsWith('.log')).sort();
        return new Map(await Promise.all(names.map(async (n) => [n, (await stat(join(pdir, n))).ino] as [string, number])));
      };
      await log.applyRetention(); // also ran on every roll: let it settle
      const before = await inodes();
      await log.applyRetention();
      expect(await inodes()).toEqual(before); // nothing new: nothing rewritten
      const latest = new Map<string, number>();
      for (let i = 0; i < 120; i++) latest.set(`u${i < 60 ? i : i % 10}`, i);
      const got = await all(log.read());
      const seen = new Map(got.map((r) => [r.key as string, (r.value as { i: number }).i]));
      expect(seen).toEqual(latest);
      // the first segments (keys u10..: never rewritten) are the originals; offsets keep their meaning
      expect(got.filter((r) => (r.value as { i: number }).i >= 10 && (r.value as { i: number }).i < 60).map((r) => r.offset)).toEqual(Array.from({ length: 50 }, (_, j) => 10 + j));
      // one more dead record in an old segment: below the default dirty ratio (0.5), left alone
      await log.append([{ key: 'u30', timestamp: 200, value: { i: 200, pad } }]);
      const mid = await inodes();
      await log.applyRetention();
      expect(await inodes()).toEqual(mid);
    } finally {
      await log.close();
    }
  });

  it('minDirtyRatio 0 rewrites any segment with a dead record', async () => {
    const log = await EventLog.open(await tempDir(), { fsync: 'never', segmentBytes: 1024, retention: 'compacted', minDirtyRatio: 0 });
    try {
      for (let i = 0; i < 40; i++) await log.append([{ key: `u${i}`, timestamp: i, value: { i, pad } }]);
      await log.append([{ key: 'u0', timestamp: 40, value: { i: 40, pad } }]);
      for (let i = 41; i < 60; i++) await log.append([{ key: `v${i}`, timestamp: i, value: { i, pad } }]); // seal the segment of u0's update
      await log.applyRetention();
      const got = await all(log.read());
      expect(got.filter((r) => r.key === 'u0').map((r) => (r.value as { i: number }).i)).toEqual([40]);
      expect(got).toHaveLength(59);
    } finally {
      await log.close();
    }
  });

  it('tombstones are kept as deletes for tombstoneRetention (event time), then dropped', async () => {
    const log = await EventLog.open(await tempDir(), { fsync: 'never', segmentBytes: 1024, retention: 'compacted', tombstoneRetention: 'PT1M', minDirtyRatio: 0 });
    try {
      await log.append([{ key: 'gone', timestamp: 1_000, value: { pad } }]);
      await log.append([{ key: 'gone', timestamp: 2_000, value: null }]);
      for (let i = 0; i < 30; i++) await log.append([{ key: `k${i}`, timestamp: 3_000 + i * 1_000, value: { i, pad } }]); // up to 32 s later
      await log.applyRetention();
      let got = await all(log.read());
      expect(got.filter((r) => r.key === 'gone').map((r) => r.value)).toEqual([null]); // the delete is still there
      for (let i = 30; i < 70; i++) await log.append([{ key: `k${i}`, timestamp: 3_000 + i * 1_000, value: { i, pad } }]); // now 70 s later
      await log.applyRetention();
      got = await all(log.read());
      expect(got.filter((r) => r.key === 'gone')).toEqual([]);
      expect(got).toHaveLength(70);
    } finally {
      await log.close();
    }
  });

  it('validates the compaction options, naming the factory', async () => {
    const dir = await tempDir();
    await expect(EventLog.open(dir, { tombstoneRetention: 'PT1H' })).rejects.toThrow(/tidemark\.EventLog\.open: tombstoneRetention applies only to retention: 'compacted'/);
    await expect(EventLog.open(dir, { retention: 'compacted', minDirtyRatio: 2 })).rejects.toThrow(PlanError);
    await expect(EventLog.open(dir, { retention: 'compacted', tombstoneRetention: 'soon' })).rejects.toThrow(/tombstoneRetention/);
  });
});
