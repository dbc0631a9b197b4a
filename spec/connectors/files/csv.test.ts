/**
 * CSV files: header and typed columns, RFC 4180 quoting (delimiters, quotes and newlines inside
 * fields) with line numbers of multi-line records, malformed records and bad cells as dead
 * letters, unusable headers failing the run, hostile header names, and write → read round trips.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock, Pipeline, PlanError, SourceError, fromArray } from 'tidemark';
import { fromCsv, toCsv } from 'tidemark';
import { drain, prototypeClean, tempDir } from './helpers.js';

const tmp = tempDir('csv');
afterAll(tmp.cleanup);

describe('fromCsv', () => {
  it('reads typed columns; unlisted columns are strings', async () => {
    const file = tmp.path('typed.csv');
    writeFileSync(file, [
      'user,amount,qty,paid,ts,note',
      'ann,12.5,3,true,2024-01-01T00:00:00Z,first',
      'bob,-1e3,0,FALSE,1704067200001,',
      'cy,.5,+7,1,2024-01-01T01:00:00.250+01:00,x',
    ].join('\r\n'));
    const { records } = await drain(fromCsv(file, { columns: { amount: 'number', qty: 'integer', paid: 'boolean', ts: 'timestamp' } }));
    expect(records).toEqual([
      { user: 'ann', amount: 12.5, qty: 3, paid: true, ts: 1704067200000, note: 'first' },
      { user: 'bob', amount: -1000, qty: 0, paid: false, ts: 1704067200001, note: '' },
      { user: 'cy', amount: 0.5, qty: 7, paid: true, ts: 1704067200250, note: 'x' },
    ]);
  });

  it('reads quoted fields with delimiters, doubled quotes and newlines, and counts lines across them', async () => {
    const file = tmp.path('quoted.csv');
    writeFileSync(file, 'id,text\n1,"a, b"\n2,"say ""hi"""\n3,"line one\nline two\r\nline three"\n4,oops"quote\n5,plain\n');
    const { records, dead } = await drain(fromCsv(file, { columns: { id: 'integer' } }));
    expect(records).toEqual([
      { id: 1, text: 'a, b' },
      { id: 2, text: 'say "hi"' },
      { id: 3, text: 'line one\nline two\r\nline three' },
      { id: 5, text: 'plain' },
    ]);
    expect(dead).toMatchObject([{ reason: 'malformed CSV: quote inside unquoted field 2', position: { line: 7 }, value: '4,oops"quote' }]);
  });

  it('dead-letters wrong field counts, cells that do not fit, and timestamps without a zone; the run goes on', async () => {
    const file = tmp.path('bad.csv');
    writeFileSync(file, 'k,n,ts\na,1,0\nb,2\nc,x,0\nd,3,2024-01-01T00:00:00\ne,"4"z,0\nf,,0\ng,9007199254740993,0\nh,5,5\n');
    const { records, dead, stats } = await drain(fromCsv<{ k: string; n: number; ts: number }>(file, { columns: { n: 'integer', ts: 'timestamp' } }), { timestamp: (r) => r.ts });
    expect(records.map((r) => r.k)).toEqual(['a', 'h']);
    expect(dead.map((d) => [d.position?.['line'], d.reason])).toEqual([
      [3, 'expected 3 fields, got 2'],
      [4, "column 'n': expected a safe integer, got \"x\""],
      [5, "column 'ts': timestamp \"2024-01-01T00:00:00\" has no time zone (add Z or an offset)"],
      [6, 'malformed CSV: unexpected text after the closing quote of field 2'],
      [7, "column 'n': empty integer cell"],
      [8, "column 'n': expected a safe integer, got \"9007199254740993\""],
    ]);
    expect(stats).toMatchObject({ read: 8, emitted: 2, deadLettered: 6 });
  });

  it("reads empty cells as null with empty: 'null'", async () => {
    const file = tmp.path('empty.csv');
    writeFileSync(file, 'k,n\na,\n');
    const { records } = await drain(fromCsv(file, { columns: { n: 'number' }, empty: 'null' }));
    expect(records).toEqual([{ k: 'a', n: null }]);
  });

  it('reads without a header: by declared column order, or as arrays of strings', async () => {
    const file = tmp.path('noheader.csv');
    writeFileSync(file, 'a;1\nb;2\n');
    expect((await drain(fromCsv(file, { header: false, delimiter: ';', columns: { k: 'string', n: 'integer' } }))).records)
      .toEqual([{ k: 'a', n: 1 }, { k: 'b', n: 2 }]);
    expect((await drain(fromCsv(file, { header: false, delimiter: ';' }))).records).toEqual([['a', '1'], ['b', '2']]);
  });

  it('keeps hostile header names as plain data', async () => {
    const file = tmp.path('proto.csv');
    writeFileSync(file, '__proto__,constructor,prototype\n"{""polluted"":1}",x,y\n');
    const { records } = await drain(fromCsv<Record<string, unknown>>(file));
    const r = records[0] as Record<string, unknown>;
    expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
    expect(Object.keys(r)).toEqual(['__proto__', 'constructor', 'prototype']);
    expect(Object.getOwnPropertyDescriptor(r, '__proto__')?.value).toBe('{"polluted":1}');
    expect(prototypeClean()).toBe(true);
  });

  it('fails the run on an unusable header (missing declared column, duplicate name)', async () => {
    const missing = tmp.path('missing-col.csv');
    writeFileSync(missing, 'a,b\n1,2\n');
    await expect(drain(fromCsv(missing, { columns: { c: 'number' } }))).rejects.toThrow(/unusable header in .*missing-col.csv at line 1: column 'c' is declared but missing/);
    const dup = tmp.path('dup.csv');
    writeFileSync(dup, 'a,a\n1,2\n');
    await expect(drain(fromCsv(dup))).rejects.toThrow(SourceError);
    const giant = tmp.path('giant-header.csv');
    writeFileSync(giant, `${'h'.repeat(500)}\n1\n`);
    await expect(drain(fromCsv(giant, { maxRecordBytes: 100 }))).rejects.toThrow(/unusable header .* exceeds maxRecordBytes/);
    const utf8 = tmp.path('bad-utf8-header.csv');
    writeFileSync(utf8, Buffer.from([0x61, 0xff, 0x0a, 0x31, 0x0a]));
    await expect(drain(fromCsv(utf8))).rejects.toThrow(/unusable header .*: invalid UTF-8/);
  });

  it('dead-letters a record larger than maxRecordBytes (quoted newlines included) and the line count stays right', async () => {
    const file = tmp.path('giant.csv');
    writeFileSync(file, `k,v\n1,"${'x\n'.repeat(5000)}"\n2,ok\n`);
    const { records, dead } = await drain(fromCsv(file, { maxRecordBytes: 100, readChunkBytes: 1000 }));
    expect(records).toEqual([{ k: '2', v: 'ok' }]);
    expect(dead).toMatchObject([{ position: { line: 2 }, reason: 'record of 10004 bytes exceeds maxRecordBytes (100)' }]);
    expect(dead[0]?.value).toMatch(/^1,"x\nx\n/);
  });

  it('reports an unterminated quote at the end of input', async () => {
    const file = tmp.path('unterminated.csv');
    writeFileSync(file, 'k,v\n1,a\n2,"never closed\nmore\n');
    const { records, dead } = await drain(fromCsv(file));
    expect(records).toEqual([{ k: '1', v: 'a' }]);
    expect(dead).toMatchObject([{ reason: 'unterminated quoted field at end of input', position: { line: 3 } }]);
  });

  it('validates options eagerly, naming the factory', () => {
    expect(() => fromCsv('a.csv', { columns: { a: 'date' as 'string' } })).toThrow(/tidemark\.fromCsv: column 'a' has type "date"/);
    expect(() => fromCsv('a.csv', { delimiter: '""' })).toThrow(PlanError);
    expect(() => fromCsv('a.csv', { start: { offset: 10 } })).toThrow(/header: false/);
    expect(() => toCsv('a.csv', { columns: [] })).toThrow(/tidemark\.toCsv: columns/);
  });
});

describe('toCsv', () => {
  it('quotes what needs quoting and reads back identically', async () => {
    const file = tmp.path('round.csv');
    const rows = [
      { id: 1, text: 'plain', at: 1704067200000, ok: true },
      { id: 2, text: 'with, comma', at: 1704067200001, ok: false },
      { id: 3, text: 'say "hi"\nand\r\nbye', at: 0, ok: true },
      { id: 4, text: ' edge spaces ', at: 5, ok: false },
      { id: 5, text: '', at: 6, ok: true },
    ];
    const p = new Pipeline({ clock: new ManualClock() });
    p.source(fromArray(rows), { timestamp: (r) => r.at })
      .sink(toCsv(file, { columns: { id: 'integer', text: 'string', at: 'timestamp', ok: 'boolean' } }));
    await p.run();
    const text = readFileSync(file, 'utf8');
    expect(text.split('\r\n').slice(0, 3)).toEqual(['id,text,at,ok', '1,plain,2024-01-01T00:00:00.000Z,true', '2,"with, comma",2024-01-01T00:00:00.001Z,false']);
    const { records } = await drain(fromCsv(file, { columns: { id: 'integer', at: 'timestamp', ok: 'boolean' } }));
    expect(records).toEqual(rows);
  });

  it('writes the header once when appending to a non-empty file', async () => {
    const file = tmp.path('append.csv');
    for (const n of [1, 2]) {
      const p = new Pipeline({ clock: new ManualClock() });
      p.source(fromArray([{ n }]), { timestamp: () => 0 }).sink(toCsv(file, { columns: ['n'], append: true }));
      await p.run();
    }
    expect(readFileSync(file, 'utf8')).toBe('n\r\n1\r\n2\r\n');
  });
});
