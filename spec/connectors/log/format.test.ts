/**
 * The event log's on-disk format 2 and its strict decoding: the segment header and frame layout
 * checked against an independent xxHash32, older formats refused with a clear error, values of
 * every msgpack type read back as written, hostile bytes (msgpackr record definitions, other
 * extensions, truncation, deep nesting) reported with their position and never run, and
 * `maxRecordBytes` enforced on read as well as on append.
 */
import { appendFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type DeadLetter, EventLog, LogCorruptionError, LogError, ManualClock, Pipeline, collect, parseLogFrame, unpackLogField } from 'tidemark';
import { all, forgeFrame, removeTempDirs, tempDir } from './helpers.js';
import { xxh32Reference } from './xxh32-reference.js';

afterAll(removeTempDirs);

const SEGMENT = '00000000000000000000.log';

const fixstr = (s: string): Buffer => Buffer.concat([Buffer.from([0xa0 + s.length]), Buffer.from(s)]);

describe('event log format 2', () => {
  it('the reference xxHash32 matches the published test vectors', () => {
    expect(xxh32Reference(Buffer.from(''))).toBe(0x02cc5d05);
    expect(xxh32Reference(Buffer.from('abc'))).toBe(0x32d153ff);
    expect(xxh32Reference(Buffer.from('Nobody inspects the spammish repetition'))).toBe(0xe2293b2f);
  });

  it('segments start with a versioned header; frames hold offset and timestamp in a fixed header and an xxHash32 checksum', async () => {
    const dir = await tempDir();
    const log = await EventLog.open(dir, { fsync: 'never' });
    await log.append([{ key: 'a', timestamp: 1_700_000_000_000, value: { n: 1 } }, { key: 'b', timestamp: 1_700_000_000_001, value: 'x'.repeat(100) }]);
    await log.close();
    expect(JSON.parse(await readFile(join(dir, 'log.json'), 'utf8'))).toMatchObject({ format: 2 });
    const file = await readFile(join(dir, 'partition-0000', SEGMENT));
    expect(file.subarray(0, 4).toString('latin1')).toBe('TMLS');
    expect(file.readUInt32LE(4)).toBe(2);
    expect(file.readUInt32LE(8)).toBe(16);
    let at = 16;
    const seen: { offset: number; timestamp: number; key: unknown; value: unknown }[] = [];
    while (at < file.length) {
      const len = file.readUInt32LE(at);
      expect(file.readUInt32LE(at + 4)).toBe(xxh32Reference(file.subarray(at + 8, at + 4 + len)));
      const f = parseLogFrame(file, at, file.length, 1 << 20);
      if (typeof f === 'string') throw new Error(f);
      seen.push({ offset: f.offset, timestamp: f.timestamp, key: unpackLogField(file, f.keyStart, f.valueStart), value: unpackLogField(file, f.valueStart, f.end) });
      at += f.size;
    }
    expect(seen).toEqual([
      { offset: 0, timestamp: 1_700_000_000_000, key: 'a', value: { n: 1 } },
      { offset: 1, timestamp: 1_700_000_000_001, key: 'b', value: 'x'.repeat(100) },
    ]);
  });

  it('refuses a log or a segment in format 1 with an error saying so', async () => {
    const old = await tempDir();
    await writeFile(join(old, 'log.json'), JSON.stringify({ format: 1, partitions: 1 }));
    await expect(EventLog.open(old)).rejects.toThrow(/tidemark\.EventLog\.open: the log at .* is in event log format 1; this version reads format 2 only/);
    // a segment file without the header (a format-1 frame first) in an otherwise new log
    const mixed = await tempDir();
    await writeFile(join(mixed, 'log.json'), JSON.stringify({ format: 2, partitions: 1 }));
    await mkdir(join(mixed, 'partition-0000'));
    await writeFile(join(mixed, 'partition-0000', SEGMENT), Buffer.from([40, 0, 0, 0, ...Array.from({ length: 40 }, () => 7)]));
    const err = await EventLog.open(mixed).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(LogError);
    expect((err as Error).message).toMatch(/segment .*00000000000000000000\.log cannot be read: it is in event log format 1 \(no segment header, CRC-32 frames\)/);
  });

  it('reads back values of every msgpack type as written (property test)', async () => {
    const log = await EventLog.open(await tempDir(), { fsync: 'never' });
    try {
      const value = fc.record({
        json: fc.jsonValue(),
        text: fc.string({ unit: 'grapheme', maxLength: 80 }),
        when: fc.date({ min: new Date(1), max: new Date(4e12), noInvalidDate: true }),
        big: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        bytes: fc.uint8Array({ maxLength: 300 }),
        floats: fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 5 }),
        nothing: fc.constant(undefined),
      });
      const values = fc.sample(value, { numRuns: 300, seed: 42 });
      await log.append(values.map((v, i) => ({ key: i % 2 === 0 ? `k${i % 7}` : i, timestamp: i, value: v })));
      const read = await all(log.read());
      expect(read.map((r) => r.value)).toEqual(values);
      expect(read.map((r) => r.key)).toEqual(values.map((_, i) => (i % 2 === 0 ? `k${i % 7}` : i)));
    } finally {
      await log.close();
    }
  });

  it('decodes untrusted bytes strictly: no extension code, no prototype changes, no stack overflow', () => {
    const bad = (bytes: number[]): string => {
      try {
        unpackLogField(Buffer.from(bytes), 0, bytes.length);
      } catch (e) {
        return (e as Error).message;
      }
      return 'decoded';
    };
    // msgpackr's record definition extension (0x72): would compile a reader from the data
    expect(bad([0xd4, 0x72, 0x40, 0x91, 0xa9, ...Buffer.from('__proto__'), 0x01])).toMatch(/extension type 114 is not decoded/);
    expect(bad([0xd4, 0x65, 0x00, 0x92, 0xa1, 0x61, 0xa1, 0x62])).toMatch(/extension type 101 is not decoded/); // Error
    expect(bad([0xd4, 0x78, 0x00])).toMatch(/extension type 120/); // RegExp
    expect(bad([0xa5, 0x61])).toMatch(/truncated/);
    expect(bad([0xdf, 0xff, 0xff, 0xff, 0xff])).toMatch(/truncated map/);
    expect(bad([0x91, 0x01, 0x02])).toMatch(/bytes left after the value/);
    expect(bad([0xc1])).toMatch(/invalid type byte 0xc1/);
    expect(bad([...Array.from({ length: 100_000 }, () => 0x91), 0x01])).toMatch(/nested deeper than 512 levels/);
    const map = (pairs: number[][]): number[] => [0x80 + pairs.length, ...pairs.flat()];
    const hostile = Buffer.from(map([[...fixstr('__proto__'), 0x81, ...fixstr('polluted'), 0xc3], [...fixstr('constructor'), 0x01], [0x05, 0xa1, 0x78]]));
    const v = unpackLogField(hostile, 0, hostile.length) as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['5', '__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(unpackLogField(Buffer.from([0xd6, 0xff, 0, 0, 0, 1]), 0, 6)).toEqual(new Date(1000)); // timestamp 32
    expect(unpackLogField(Buffer.from([0xd3, 0, 0, 0, 0, 0, 0, 0, 7]), 0, 9)).toBe(7n);
  });

  it('a hostile record (a valid frame around a msgpackr record definition) is an explicit error or a dead letter with its position', async () => {
    const dir = await tempDir();
    const log = await EventLog.open(dir, { fsync: 'never' });
    await log.append([{ key: 'a', timestamp: 1, value: { n: 0 } }, { key: 'a', timestamp: 2, value: { n: 1 } }]);
    await log.close();
    const file = join(dir, 'partition-0000', SEGMENT);
    const position = (await readFile(file)).length;
    const hostile = Buffer.from([0xd4, 0x72, 0x40, 0x91, 0xa9, ...Buffer.from('__proto__'), 0x01]);
    await appendFile(file, Buffer.concat([forgeFrame(2, 3, fixstr('a'), hostile), forgeFrame(3, 4, fixstr('a'), Buffer.from([0x81, 0xa1, 0x6e, 0x03]))]));
    const again = await EventLog.open<{ n: number }>(dir);
    try {
      expect(again.recovery).toEqual([]); // whole, valid frames: nothing cut
      const err = await all(again.read()).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(LogCorruptionError);
      expect((err as LogCorruptionError).position).toBe(position);
      expect((err as Error).message).toMatch(/undecodable record: msgpack extension type 114 is not decoded/);
      const p = new Pipeline({ clock: new ManualClock() });
      const seen: { value: { n: number } }[] = [];
      const dead: DeadLetter[] = [];
      p.source(again.source(), { name: 'log' }).sink(collect(seen));
      p.deadLetters().sink(collect(dead));
      await p.run();
      expect(seen.map((r) => r.value.n)).toEqual([0, 1, 3]);
      expect(dead).toHaveLength(1);
      expect(dead[0]?.position).toMatchObject({ partition: 0, offset: 2, byte: position });
    } finally {
      await again.close();
    }
  });

  it('maxRecordBytes holds on read: a larger record is an error or a dead letter with its position, skipped alone; recovery keeps it', async () => {
    const dir = await tempDir();
    const big = { pad: 'y'.repeat(2000) };
    const log = await EventLog.open(dir, { fsync: 'never' });
    await log.append([{ key: 'k', timestamp: 0, value: { i: 0 } }, { key: 'k', timestamp: 1, value: big }, { key: 'k', timestamp: 2, value: { i: 2 } }]);
    await log.close();
    const small = await EventLog.open(dir, { maxRecordBytes: 500 });
    try {
      expect(small.recovery).toEqual([]); // recovery does not cut records over the current limit
      const err = await all(small.read()).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(LogCorruptionError);
      expect((err as Error).message).toMatch(/record of 20\d\d bytes is over maxRecordBytes \(500\); skipped/);
      const p = new Pipeline({ clock: new ManualClock() });
      const seen: { offset: number }[] = [];
      const dead: DeadLetter[] = [];
      p.source(small.source(), { name: 'log' }).sink(collect(seen));
      p.deadLetters().sink(collect(dead));
      const summary = await p.run();
      expect(seen.map((r) => r.offset)).toEqual([0, 2]); // only the large one is skipped
      expect(dead).toHaveLength(1);
      expect(dead[0]?.position).toMatchObject({ partition: 0, offset: 1, segment: '00000000000000000000' });
      expect(summary.sources['log']).toMatchObject({ read: 3, emitted: 2, deadLettered: 1 });
    } finally {
      await small.close();
    }
    const large = await EventLog.open(dir);
    try {
      expect((await all(large.read())).map((r) => r.offset)).toEqual([0, 1, 2]);
    } finally {
      await large.close();
    }
  });
});

describe('event log format 2: files', () => {
  it('a segment file cut inside its header (a crash while creating it) is started again on open', async () => {
    const dir = await tempDir();
    const log = await EventLog.open(dir, { fsync: 'never' });
    await log.close();
    const file = join(dir, 'partition-0000', SEGMENT);
    await writeFile(file, Buffer.from('TMLS'));
    const again = await EventLog.open(dir);
    try {
      expect(again.recovery).toEqual([{ partition: 0, truncated: { '00000000000000000000': 4 } }]);
      await again.append([{ key: 'a', timestamp: 1, value: 1 }]);
      expect((await all(again.read())).map((r) => r.value)).toEqual([1]);
      expect((await readdir(join(dir, 'partition-0000'))).filter((n) => n.endsWith('.log'))).toEqual([SEGMENT]);
    } finally {
      await again.close();
    }
  });
});
