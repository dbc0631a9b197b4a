/**
 * `log.source()` is replayable: every records and dead-letters chunk carries the position after
 * it (`{ [partition]: next offset }` for every partition read), and a reader opened with that
 * position as `ctx.resume` continues right after it — at every cut, over several partitions and
 * segments, with dead letters (corrupt and oversized frames) reported exactly once. The resume
 * position takes precedence over `from` and consumer offsets; below the retained start it is a
 * `LogTruncatedError`, past the head a `SourceError`.
 */
import { readdir } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { EventLog, LogTruncatedError, ManualClock, SourceError, type LogRecord, type SourceChunk } from 'tidemark';
import { flipByte, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

type Source = ReturnType<EventLog<{ i: number }>['source']>;

/** What a reader delivered, chunk by chunk: record ids, dead letters' offsets, and each chunk's position. */
interface Read {
  readonly ids: number[][];
  readonly dead: string[][];
  readonly positions: unknown[];
}

/** Reads `source` to its end (or `limit` chunks), resuming from `resume`. */
async function readAll(source: Source, resume?: unknown, limit = Infinity): Promise<Read> {
  const reader = source.open({ name: 'log', batchSize: 16, clock: new ManualClock(), ...(resume === undefined ? {} : { resume }) });
  const out: Read = { ids: [], dead: [], positions: [] };
  try {
    for (let n = 0; n < limit; n++) {
      const c = (await reader.next()) as SourceChunk<LogRecord<{ i: number }>> | null;
      if (c === null) break;
      if (c.kind === 'records') {
        out.ids.push(c.values.map((r) => r.value.i));
        out.dead.push([]);
      } else if (c.kind === 'dead-letters') {
        out.ids.push([]);
        out.dead.push(c.letters.map((l) => `${String(l.position?.['partition'])}:${String(l.position?.['offset'])} ${l.reason.slice(0, 14)}`));
      } else continue;
      out.positions.push(c.position);
    }
  } finally {
    await reader.close?.();
  }
  return out;
}

async function filledLog(n: number, partitions: number, options: { segmentBytes?: number; maxRecordBytes?: number } = {}): Promise<EventLog<{ i: number }>> {
  const log = await EventLog.open<{ i: number }>(await tempDir(), { partitions, fsync: 'never', ...options });
  await log.append(Array.from({ length: n }, (_, i) => ({ key: `k${i % 11}`, timestamp: i, value: { i } })));
  return log;
}

/** Checks that for every cut (after each chunk) the part before plus a resumed read is the whole, once. */
async function everyCutResumes(source: Source, whole: Read): Promise<void> {
  const all = whole.ids.flat().sort((a, b) => a - b);
  const dead = whole.dead.flat().sort();
  for (let cut = 1; cut <= whole.positions.length; cut++) {
    const rest = await readAll(source, whole.positions[cut - 1]);
    const ids = [...whole.ids.slice(0, cut).flat(), ...rest.ids.flat()].sort((a, b) => a - b);
    expect(ids, `cut after chunk ${cut}`).toEqual(all);
    expect([...whole.dead.slice(0, cut).flat(), ...rest.dead.flat()].sort(), `cut after chunk ${cut}`).toEqual(dead);
  }
}

describe('EventLog.source is replayable', () => {
  it('declares replayable; each chunk carries every read partition\'s next offset, as plain data', async () => {
    const log = await filledLog(100, 3);
    try {
      const source = log.source();
      expect(source.replayable).toBe(true);
      const whole = await readAll(source);
      expect(whole.ids.flat()).toHaveLength(100);
      expect(whole.positions[0]).toEqual(expect.objectContaining({ 0: expect.any(Number), 1: expect.any(Number), 2: expect.any(Number) }));
      expect(whole.positions[whole.positions.length - 1]).toEqual(log.heads());
      expect(JSON.parse(JSON.stringify(whole.positions))).toEqual(whole.positions);
      // only the partitions `from` names are read, and only they are in the position
      const one = await readAll(log.source({ from: { 1: 3 } }));
      expect(Object.keys(one.positions[0] as object)).toEqual(['1']);
    } finally {
      await log.close();
    }
  });

  it('a read resumed at any chunk\'s position continues right after it: the union is the whole log, no overlap (3 partitions, many segments)', async () => {
    const log = await filledLog(400, 3, { segmentBytes: 1024 });
    try {
      const source = log.source();
      const whole = await readAll(source);
      expect(whole.ids.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 400 }, (_, i) => i));
      await everyCutResumes(source, whole);
    } finally {
      await log.close();
    }
  });

  it('dead letters (a corrupt frame, an oversized record) are reported once across any cut', async () => {
    const dir = await tempDir();
    const writer = await EventLog.open<{ i: number; pad?: string }>(dir, { partitions: 2, fsync: 'never', segmentBytes: 1500 });
    // Two oversized records: an early one in partition 1 (inside the segment the bit rot cuts
    // short, so never read) and a later one in partition 0 — chosen by the log's own partitioning.
    const keyOf = (i: number): string => `k${i % 5}`;
    const early = Array.from({ length: 10 }, (_, j) => 35 + j).find((i) => writer.partitionOf(keyOf(i)) === 1) as number;
    const late = Array.from({ length: 10 }, (_, j) => 120 + j).find((i) => writer.partitionOf(keyOf(i)) === 0) as number;
    for (let b = 0; b < 200; b += 10) {
      await writer.append(Array.from({ length: 10 }, (_, j) => b + j).map((i) => ({ key: keyOf(i), timestamp: i, value: i === early || i === late ? { i, pad: 'z'.repeat(600) } : { i } })));
    }
    await writer.close();
    // bit rot in the middle of partition 1's first segment (a sealed one)
    const names = (await readdir(`${dir}/partition-0001`)).filter((n) => n.endsWith('.log')).sort();
    expect(names.length).toBeGreaterThan(1);
    await flipByte(`${dir}/partition-0001/${names[0] as string}`, 120);
    const log = await EventLog.open<{ i: number }>(dir, { maxRecordBytes: 300 });
    try {
      const source = log.source();
      const whole = await readAll(source);
      // the corrupt frame (the rest of its segment is skipped) and the oversized record in partition 0
      expect(whole.dead.flat().sort()).toEqual([expect.stringMatching(/^0:\d+ record of 614/), expect.stringMatching(/^1:\d+ corrupt frame/)]);
      await everyCutResumes(source, whole);
    } finally {
      await log.close();
    }
  });

  it('the resume position wins over from and over a consumer\'s committed offsets', async () => {
    const log = await filledLog(90, 2);
    try {
      const whole = await readAll(log.source());
      const cut = whole.positions[2];
      const expected = whole.ids.slice(3).flat().sort((a, b) => a - b);
      await log.commit('billing', log.heads()); // the consumer is at the head…
      for (const source of [log.source({ from: 'latest' }), log.source({ consumer: 'billing', autoCommit: false }), log.source({ from: { timestamp: 80 } })]) {
        const rest = await readAll(source, cut); // …but the checkpoint's position decides
        expect(rest.ids.flat().sort((a, b) => a - b)).toEqual(expected);
      }
    } finally {
      await log.close();
    }
  });

  it('a position below what retention kept is a LogTruncatedError; one past the head or malformed a SourceError', async () => {
    const log = await EventLog.open<{ i: number }>(await tempDir(), { fsync: 'never', segmentBytes: 256, retention: { maxBytes: 600 } });
    try {
      for (let i = 0; i < 60; i++) await log.append([{ key: 'k', timestamp: i, value: { i } }]);
      await log.applyRetention();
      expect(log.starts()[0]).toBeGreaterThan(0);
      await expect(readAll(log.source(), { 0: 0 })).rejects.toBeInstanceOf(LogTruncatedError);
      await expect(readAll(log.source(), { 0: 0 })).rejects.toThrow(/were removed by retention/);
      expect(() => log.source().open({ name: 'log', batchSize: 16, clock: new ManualClock(), resume: { 0: 61 } })).toThrow(SourceError);
      expect(() => log.source().open({ name: 'log', batchSize: 16, clock: new ManualClock(), resume: { 0: 61 } })).toThrow(/read up to offset 61, but the log now ends at 60/);
      expect(() => log.source().open({ name: 'log', batchSize: 16, clock: new ManualClock(), resume: { offset: 3 } })).toThrow(/tidemark\.EventLog\.source: cannot resume .* 'offset' is not a partition/);
      expect(() => log.source().open({ name: 'log', batchSize: 16, clock: new ManualClock(), resume: [1] })).toThrow(/not an event log position/);
      const rest = await readAll(log.source(), { 0: 58 });
      expect(rest.ids.flat()).toEqual([58, 59]);
    } finally {
      await log.close();
    }
  });
});
