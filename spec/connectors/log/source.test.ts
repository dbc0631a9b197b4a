/**
 * `log.source(…)` in pipelines: per-partition watermarks over log partitions, starting from
 * offsets, timestamps or a consumer's committed offsets, auto-commit after processed chunks,
 * consumer lag and lag objectives, dead letters for corrupt segments, following the head.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type DeadLetter, ManualClock, Pipeline, PlanError, type WindowResult, boundedOutOfOrderness, collect, count, tumbling } from 'tidemark';
import { EventLog, type LagEvent, type LogRecord } from 'tidemark';
import { flipByte, removeTempDirs, tempDir, until } from './helpers.js';

afterAll(removeTempDirs);

interface Click {
  readonly page: string;
}

async function filled(n: number, partitions = 2, segmentBytes?: number): Promise<EventLog<Click>> {
  const log = await EventLog.open<Click>(await tempDir(), { partitions, fsync: 'never', ...(segmentBytes === undefined ? {} : { segmentBytes }) });
  await append(log, 0, n);
  return log;
}

async function append(log: EventLog<Click>, from: number, n: number): Promise<void> {
  // 13 keys: the hash spreads them over every partition of these tests (7 left one of 3 empty)
  const batch = Array.from({ length: n }, (_, j) => ({ key: `u${(from + j) % 13}`, timestamp: (from + j) * 100, value: { page: `/p${(from + j) % 3}` } }));
  await log.append(batch);
}

/** Runs `source` into a count per 1 s window per page; returns results, processed records and the summary. */
async function run(source: ReturnType<EventLog<Click>['source']>, batchSize = 64) {
  const p = new Pipeline({ batchSize, clock: new ManualClock() });
  const seen: LogRecord<Click>[] = [];
  const out: WindowResult<string, number>[] = [];
  const dead: DeadLetter[] = [];
  const s = p.source(source, { watermark: boundedOutOfOrderness(0), name: 'log', ordering: 'per-partition' });
  s.sink(collect(seen));
  s.keyBy((r) => r.value.page).window(tumbling(1_000)).aggregate(count()).sink(collect(out));
  p.deadLetters().sink(collect(dead));
  const summary = await p.run();
  return { seen, out, dead, summary };
}

describe('EventLog.source', () => {
  it('feeds a pipeline with record timestamps, one source partition per log partition', async () => {
    const log = await filled(500, 3);
    try {
      const src = log.source();
      expect(src.providesTimestamps).toBe(true);
      expect(src.open({ name: 'x', batchSize: 10, clock: new ManualClock() }).partitions).toEqual([0, 1, 2]);
      const r = await run(src);
      expect(r.seen).toHaveLength(500);
      expect(new Set(r.seen.map((x) => x.partition))).toEqual(new Set([0, 1, 2]));
      const total = r.out.reduce((s, w) => s + w.value, 0);
      expect(total).toBe(500);
      expect(r.out.filter((w) => w.window.start === 0).reduce((s, w) => s + w.value, 0)).toBe(10); // ts 0..900
      expect(r.summary.sources['log']).toMatchObject({ read: 500, emitted: 500, deadLettered: 0 });
    } finally {
      await log.close();
    }
  });

  it('starts from offsets per partition or a timestamp', async () => {
    const log = await filled(300, 2);
    try {
      const fromTs = await run(log.source({ from: { timestamp: 20_000 } }));
      expect(fromTs.seen.map((r) => r.timestamp).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => 20_000 + i * 100));
      const fromOffsets = await run(log.source({ from: { 1: 5 } }));
      expect(fromOffsets.seen.every((r) => r.partition === 1 && r.offset >= 5)).toBe(true);
      expect(fromOffsets.seen).toHaveLength(log.heads()[1]! - 5);
      expect(() => log.source({ from: 7 })).toThrow(PlanError);
      expect(() => log.source({ consumer: '../etc' })).toThrow(/tidemark\.EventLog\.source: consumer must be/);
      expect(() => log.source({ autoCommit: true })).toThrow(/autoCommit needs a consumer/);
      expect(() => log.source({ lagObjective: {} })).toThrow(/lagObjective needs/);
    } finally {
      await log.close();
    }
  });

  it('a named consumer commits after processed chunks and resumes from its offsets; lag is reported', async () => {
    const log = await filled(400, 2);
    try {
      const first = await run(log.source({ consumer: 'billing', commitIntervalMs: 0 }));
      expect(first.seen).toHaveLength(400);
      expect(first.summary.sources['log']?.['commits']).toBeGreaterThan(0);
      expect(await log.committed('billing')).toEqual(log.heads());
      expect(await log.lag('billing')).toMatchObject({ records: 0, eventTime: 0 });
      await append(log, 400, 50);
      const lag = await log.lag('billing');
      expect(lag.records).toBe(50);
      expect(lag.eventTime).toBeGreaterThan(0);
      expect(lag.eventTime).toBeLessThanOrEqual(49 * 100);
      const second = await run(log.source({ consumer: 'billing' }));
      expect(second.seen.map((r) => r.timestamp).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => (400 + i) * 100));
      // independent consumers: another one starts from the beginning
      expect((await run(log.source({ consumer: 'audit' }))).seen).toHaveLength(450);
      // a consumer can be moved explicitly
      await log.commit('billing', { 0: 0 });
      expect((await run(log.source({ consumer: 'billing' }))).seen.every((r) => r.partition === 0)).toBe(true);
    } finally {
      await log.close();
    }
  });

  it('a lag objective reports the breach and the recovery (callback, log line, counter)', async () => {
    const log = await filled(1000, 1);
    try {
      const events: LagEvent[] = [];
      const lines: string[] = [];
      const r = await run(log.source({ consumer: 'slow', lagObjective: { maxRecords: 200, maxEventTime: 'PT1M' }, onLag: (e) => events.push(e), logger: (m) => lines.push(m) }), 50);
      expect(events.map((e) => e.kind)).toEqual(['breach', 'recovered']);
      expect(events[0]).toMatchObject({ consumer: 'slow', records: 1000, eventTime: 99_900, objective: { maxRecords: 200, maxEventTime: 60_000 } });
      expect(events[1]!.records).toBe(200); // back within the objective as soon as the lag is ≤ 200 records
      expect(events[1]!.eventTime).toBeLessThanOrEqual(60_000);
      expect(lines[0]).toMatch(/consumer 'slow' breached its lag objective: 1000 records and 99900 ms/);
      expect(r.summary.sources['log']).toMatchObject({ lagBreaches: 1, lagRecoveries: 1, lagRecords: 0 });
      // within the objective: no event
      const quiet: LagEvent[] = [];
      await append(log, 1000, 10);
      await run(log.source({ consumer: 'slow', lagObjective: { maxRecords: 200 }, onLag: (e) => quiet.push(e), logger: () => undefined }));
      expect(quiet).toEqual([]);
    } finally {
      await log.close();
    }
  });

  it('a corrupt segment becomes a dead letter with its position; the run goes on with the next segment', async () => {
    const dir = await tempDir();
    const log = await EventLog.open<Click>(dir, { fsync: 'never', segmentBytes: 512 });
    for (let i = 0; i < 40; i++) await append(log, i, 1);
    await log.close();
    const pdir = join(dir, 'partition-0000');
    const first = join(pdir, (await readdir(pdir)).filter((n) => n.endsWith('.log')).sort()[0]!);
    await flipByte(first, 80); // inside the second record (after the 16-byte segment header)
    const again = await EventLog.open<Click>(dir);
    try {
      const r = await run(again.source());
      expect(r.dead).toHaveLength(1);
      expect(r.dead[0]?.reason).toMatch(/corrupt frame \(checksum\); the rest of segment 00000000000000000000 is skipped/);
      expect(r.dead[0]?.position).toMatchObject({ partition: 0, segment: '00000000000000000000' });
      expect(r.seen.length).toBeGreaterThan(20);
      expect(r.seen.length).toBeLessThan(40);
      expect(r.summary.sources['log']).toMatchObject({ deadLettered: 1 });
    } finally {
      await again.close();
    }
  });

  it('watermark alignment: a paused partition is read only when the others have nothing', async () => {
    const log = await filled(200, 2);
    try {
      const reader = log.source().open({ name: 'x', batchSize: 10, clock: new ManualClock() });
      reader.pause?.(new Set([0]));
      const order: number[] = [];
      for (;;) {
        const c = await reader.next();
        if (c === null) break;
        if (c.kind === 'records') order.push(c.partition!);
      }
      await reader.close?.();
      const firstZero = order.indexOf(0);
      expect(firstZero).toBeGreaterThan(0);
      expect(order.slice(0, firstZero).every((p) => p === 1)).toBe(true);
      expect(order.slice(firstZero).every((p) => p === 0)).toBe(true); // partition 1 drained first
      expect(order.length).toBe(Math.ceil(log.heads()[0]! / 10) + Math.ceil(log.heads()[1]! / 10));
    } finally {
      await log.close();
    }
  });

  it('follow: true keeps the run going at the head; closing the log ends it', async () => {
    const log = await filled(10, 2);
    const p = new Pipeline({ clock: new ManualClock() });
    const seen: LogRecord<Click>[] = [];
    p.source(log.source({ follow: true }), { name: 'log' }).sink(collect(seen));
    const running = p.run();
    await until(() => seen.length === 10);
    await append(log, 10, 5);
    await until(() => seen.length === 15);
    await log.close();
    const summary = await running;
    expect(summary.sources['log']?.read).toBe(15);
  });
});
