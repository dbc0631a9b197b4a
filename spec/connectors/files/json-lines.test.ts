/**
 * JSON-lines files: round trip, malformed lines as dead letters with file and line (the run goes
 * on, read = emitted + deadLettered), CRLF, BOM and blank lines, oversized lines skipped, a start
 * position, and the sink's append/atomic modes.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock, Pipeline, PlanError, TidemarkError, fromArray } from 'tidemark';
import { fromJsonLines, toJsonLines } from 'tidemark';
import { drain, prototypeClean, tempDir } from './helpers.js';

const tmp = tempDir('jsonl');
afterAll(tmp.cleanup);

interface Click { user: string; ts: number }

async function writeAll<T>(values: T[], sink: ReturnType<typeof toJsonLines<T>>): Promise<void> {
  const p = new Pipeline({ clock: new ManualClock() });
  p.source(fromArray(values), { timestamp: () => 0 }).sink(sink);
  await p.run();
}

describe('fromJsonLines / toJsonLines', () => {
  it('round-trips records through a file, in order, across read chunks', async () => {
    const file = tmp.path('roundtrip.jsonl');
    const clicks: Click[] = Array.from({ length: 5000 }, (_, i) => ({ user: `u${i % 7}`, ts: i * 10 }));
    await writeAll(clicks, toJsonLines<Click>(file));
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(5001);
    // small read chunks: lines are cut across chunk boundaries
    const { records, stats } = await drain(fromJsonLines<Click>(file, { readChunkBytes: 100 }), { batchSize: 64, timestamp: (c) => c.ts });
    expect(records).toEqual(clicks);
    expect(stats).toMatchObject({ read: 5000, emitted: 5000, deadLettered: 0, bytes: readFileSync(file).length, line: 5001 });
  });

  it('turns malformed lines into dead letters with file, line and reason, and goes on', async () => {
    const file = tmp.path('bad.jsonl');
    writeFileSync(file, [
      '{"user":"a","ts":1}',
      '{"user":"b",',           // 2: invalid JSON
      '',                       // 3: blank, skipped
      '{"user":"c","ts":3}',
      '\u00ff\u00fe not json',  // 5: invalid JSON (13 bytes)
      '[[[[[[[[[[1]]]]]]]]]]',   // 6: too deep for maxDepth 5
      '{"user":"d","ts":"x"}',  // 7: bad timestamp (the runtime dead-letters it)
      '{"user":"e","ts":7}',
    ].join('\n'));
    const { records, dead, stats } = await drain(fromJsonLines<Click>(file, { maxDepth: 5 }), { timestamp: (c) => c.ts });
    expect(records.map((r) => r.user)).toEqual(['a', 'c', 'e']);
    expect(dead.map((d) => d.position)).toEqual([
      { file, line: 2, offset: 20 },
      { file, line: 5, offset: 54 },
      { file, line: 6, offset: 68 },
      undefined,
    ]);
    expect(dead[0]?.reason).toMatch(/^invalid JSON/);
    expect(dead[0]?.value).toBe('{"user":"b",');
    expect(dead[2]?.reason).toBe('JSON nested deeper than 5 levels');
    expect(dead[3]?.reason).toMatch(/timestamp/);
    expect(stats).toMatchObject({ read: 7, emitted: 3, deadLettered: 4, blankLines: 1 });
  });

  it('rejects invalid UTF-8 strictly (no silent replacement characters)', async () => {
    const file = tmp.path('utf8.jsonl');
    writeFileSync(file, Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n{"a":"é"}\n')]));
    const { records, dead } = await drain(fromJsonLines<{ a: string }>(file));
    expect(records).toEqual([{ a: 'é' }]);
    expect(dead).toMatchObject([{ reason: 'invalid UTF-8', position: { line: 1 } }]);
  });

  it('handles CRLF line ends, a byte order mark and a last line without newline', async () => {
    const file = tmp.path('crlf.jsonl');
    writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"n":1}\r\n{"n":2}\r\n\r\n{"n":3}')]));
    const { records, stats } = await drain(fromJsonLines<{ n: number }>(file));
    expect(records).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(stats).toMatchObject({ read: 3, blankLines: 1 });
  });

  it('skips a line longer than maxRecordBytes to the next newline and reports it with a bounded preview', async () => {
    const file = tmp.path('giant.jsonl');
    const giant = `{"pad":"${'x'.repeat(200_000)}"}`;
    writeFileSync(file, `{"n":1}\n${giant}\n{"n":2}\n`);
    const { records, dead } = await drain(fromJsonLines<{ n: number }>(file, { maxRecordBytes: 1000, readChunkBytes: 4096 }));
    expect(records).toEqual([{ n: 1 }, { n: 2 }]);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.reason).toBe(`record of ${giant.length} bytes exceeds maxRecordBytes (1000)`);
    expect(dead[0]?.position).toEqual({ file, line: 2, offset: 8 });
    expect((dead[0]?.value as string).length).toBeLessThanOrEqual(257);
    expect(dead[0]?.value).toMatch(/^\{"pad":"x+…$/);
  });

  it('keeps __proto__ and constructor keys as plain data', async () => {
    const file = tmp.path('proto.jsonl');
    writeFileSync(file, '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}}}\n');
    const { records } = await drain(fromJsonLines<Record<string, unknown>>(file));
    const r = records[0] as Record<string, unknown>;
    expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
    expect(Object.keys(r)).toEqual(['__proto__', 'constructor']);
    expect(r['polluted']).toBeUndefined();
    expect(prototypeClean()).toBe(true);
    // and written back faithfully
    const out = tmp.path('proto-out.jsonl');
    await writeAll(records, toJsonLines(out));
    expect(readFileSync(out, 'utf8')).toBe('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}}}\n');
  });

  it('starts at a byte offset and line a previous run reported', async () => {
    const file = tmp.path('resume.jsonl');
    writeFileSync(file, '{"n":1}\n{"n":2}\nbad\n{"n":4}\n');
    const first = await drain(fromJsonLines<{ n: number }>(file));
    expect(first.stats).toMatchObject({ offset: 28, line: 5 });
    const { records, dead } = await drain(fromJsonLines<{ n: number }>(file, { start: { offset: 8, line: 2 } }));
    expect(records).toEqual([{ n: 2 }, { n: 4 }]);
    expect(dead[0]?.position).toEqual({ file, line: 3, offset: 16 });
  });

  it('fails the run with the path when the file cannot be read', async () => {
    const missing = tmp.path('missing.jsonl');
    await expect(drain(fromJsonLines(missing))).rejects.toThrow(/tidemark\.fromJsonLines: cannot read .*missing\.jsonl.*ENOENT/);
  });

  it('validates options eagerly, naming the factory', () => {
    expect(() => fromJsonLines('')).toThrow(PlanError);
    expect(() => fromJsonLines('a.jsonl', { maxRecordBytes: 0 })).toThrow(/tidemark\.fromJsonLines: maxRecordBytes must be a positive integer/);
    expect(() => fromJsonLines('a.jsonl', { start: { offset: -1 } })).toThrow(/start\.offset/);
    expect(() => toJsonLines('a.jsonl', { append: true, atomic: true })).toThrow(/tidemark\.toJsonLines: atomic .* append/);
    expect(() => toJsonLines('a.jsonl', { fsync: 'sometimes' as 'always' })).toThrow(/fsync/);
  });
});

describe('toJsonLines modes', () => {
  it('replaces by default and appends with append: true', async () => {
    const file = tmp.path('modes.jsonl');
    writeFileSync(file, '{"old":true}\n');
    await writeAll([{ n: 1 }], toJsonLines(file));
    expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n');
    await writeAll([{ n: 2 }, { n: 3 }], toJsonLines(file, { append: true, fsync: 'always' }));
    expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');
  });

  it('atomic: the old file stays until the run completes; a failed run leaves it and no temporary file', async () => {
    const file = tmp.path('atomic.jsonl');
    writeFileSync(file, '{"old":true}\n');
    const seen: string[] = [];
    const p = new Pipeline({ clock: new ManualClock() });
    const s = p.source(fromArray([1, 2, 3]), { timestamp: () => 0 });
    s.map((n) => {
      seen.push(readFileSync(file, 'utf8'));
      return { n };
    }).sink(toJsonLines(file, { atomic: true }));
    await p.run();
    expect(seen.every((t) => t === '{"old":true}\n')).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');

    const failing = new Pipeline({ clock: new ManualClock(), batchSize: 1 });
    failing.source(fromArray([1, 2]), { timestamp: () => 0 })
      .map((n) => {
        if (n === 2) throw new Error('boom');
        return { n };
      }, { onError: 'fail' })
      .sink(toJsonLines(file, { atomic: true }));
    await expect(failing.run()).rejects.toThrow(/boom/);
    expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');
    expect(readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('does not create the file when a run fails before writing', async () => {
    const file = tmp.path('never.jsonl');
    const p = new Pipeline({ clock: new ManualClock() });
    p.source(fromArray([1]), { timestamp: () => 0 }).map(() => {
      throw new Error('no');
    }, { onError: 'fail' }).sink(toJsonLines(file));
    await expect(p.run()).rejects.toThrow();
    expect(existsSync(file)).toBe(false);
  });

  it('fails the run on a value JSON cannot represent', async () => {
    const p = new Pipeline({ clock: new ManualClock() });
    p.source(fromArray([{ big: 1n }]), { timestamp: () => 0 }).sink(toJsonLines(tmp.path('bigint.jsonl')));
    await expect(p.run()).rejects.toThrow(TidemarkError);
  });
});
