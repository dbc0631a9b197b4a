/**
 * msgpack files (concatenated values): round trip, interop with msgpackr in both directions, and
 * untrusted input — extensions never decoded (except the standard timestamp), `__proto__` keys
 * kept as data, oversized values skipped to their end, invalid and truncated input as dead letters.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { Packr, pack, unpackMultiple } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock, Pipeline, fromArray } from 'tidemark';
import { decodeMsgpack, encodeMsgpack } from 'tidemark';
import { fromMsgpack, toMsgpack } from 'tidemark';
import { drain, prototypeClean, tempDir } from './helpers.js';

const tmp = tempDir('msgpack');
afterAll(tmp.cleanup);

const values = [
  { user: 'ann', n: 1, ts: 1000 },
  { user: 'bob', n: -200, f: 1.5, big: 2 ** 40, neg: -(2 ** 40), ts: 2000 },
  { nested: { list: [1, 'two', null, true, false], deep: { a: { b: { c: 'é☃' } } } }, ts: 3000 },
  { s: 'x'.repeat(70_000), arr: Array.from({ length: 20 }, (_, i) => i), ts: 4000 },
];

describe('fromMsgpack / toMsgpack', () => {
  it('round-trips records, and files interoperate with msgpackr both ways', async () => {
    const file = tmp.path('round.msgpack');
    const p = new Pipeline({ clock: new ManualClock() });
    p.source(fromArray(values), { timestamp: (v) => v.ts }).sink(toMsgpack(file));
    await p.run();
    expect(unpackMultiple(readFileSync(file))).toEqual(values);
    const { records, stats } = await drain(fromMsgpack(file, { readChunkBytes: 7 }));
    expect(records).toEqual(values);
    expect(stats).toMatchObject({ read: 4, emitted: 4, deadLettered: 0, offset: readFileSync(file).length });

    const theirs = tmp.path('msgpackr.msgpack');
    const packr = new Packr({ useRecords: false });
    writeFileSync(theirs, Buffer.concat(values.map((v) => packr.pack(v))));
    expect((await drain(fromMsgpack(theirs))).records).toEqual(values);
  });

  it('decodes timestamps to Date by default and rejects them with timestamps: false', async () => {
    const file = tmp.path('dates.msgpack');
    const at = new Date('2024-05-06T07:08:09.123Z');
    writeFileSync(file, Buffer.concat([encodeMsgpack({ at }), pack({ at: new Date(0) }), pack({ at: new Date(2 ** 35 * 1000) })]));
    expect((await drain(fromMsgpack(file))).records).toEqual([{ at }, { at: new Date(0) }, { at: new Date(2 ** 35 * 1000) }]);
    const strict = await drain(fromMsgpack(file, { timestamps: false }));
    expect(strict.records).toEqual([]);
    expect(strict.dead.map((d) => d.reason)).toEqual(Array(3).fill('msgpack extension type -1 is not allowed (extensions are not decoded)'));
  });

  it('never decodes extensions: a custom ext type is one dead letter and the stream goes on', async () => {
    const file = tmp.path('ext.msgpack');
    const custom = Buffer.from([0xd6, 0x05, 1, 2, 3, 4]); // fixext4 of type 5
    const ext8 = Buffer.from([0xc7, 0x03, 0x42, 9, 9, 9]); // ext8 of type 0x42 (msgpackr's bigint ext)
    writeFileSync(file, Buffer.concat([pack({ ok: 1 }), custom, ext8, pack({ ok: 2 })]));
    const { records, dead, stats } = await drain(fromMsgpack(file));
    expect(records).toEqual([{ ok: 1 }, { ok: 2 }]);
    expect(dead.map((d) => d.reason)).toEqual([
      'msgpack extension type 5 is not allowed (extensions are not decoded)',
      'msgpack extension type 66 is not allowed (extensions are not decoded)',
    ]);
    expect(dead[0]?.position).toEqual({ file, record: 2, offset: pack({ ok: 1 }).length });
    expect(stats).toMatchObject({ read: 4, emitted: 2, deadLettered: 2 });
  });

  it("msgpackr's own extensions (Error, RegExp, Set, records) are never turned into objects", async () => {
    const file = tmp.path('msgpackr-ext.msgpack');
    const rich = new Packr({ useRecords: true, structuredClone: true, moreTypes: true });
    writeFileSync(file, Buffer.concat([new Error('e'), /re(g)ex/, new Set([1]), new Map([[1, 2]]), { rec: 1, ords: 2 }].map((h) => rich.pack(h))));
    const { records, dead } = await drain(fromMsgpack(file));
    // msgpackr writes some extension payloads as a following value: those read as plain data
    const plain = (v: unknown): boolean => v === null || typeof v !== 'object' || Array.isArray(v)
      ? (Array.isArray(v) ? v.every(plain) : true)
      : Object.getPrototypeOf(v) === Object.prototype && Object.values(v as object).every(plain);
    expect(records.every(plain)).toBe(true);
    expect(dead.length).toBeGreaterThanOrEqual(4);
    for (const d of dead) expect(d.reason).toMatch(/^msgpack extension type -?\d+ is not allowed/);
    expect(prototypeClean()).toBe(true);
  });

  it('keeps __proto__ and constructor map keys as own data (msgpackr would rename __proto__)', async () => {
    const file = tmp.path('proto.msgpack');
    // {"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 2}}}
    const proto = Buffer.from('82a95f5f70726f746f5f5f81a8706f6c6c75746564' + '01' + 'ab636f6e7374727563746f7281a970726f746f7479706581a8706f6c6c75746564' + '02', 'hex');
    writeFileSync(file, proto);
    const { records } = await drain(fromMsgpack<Record<string, unknown>>(file));
    const r = records[0] as Record<string, unknown>;
    expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
    expect(Object.keys(r)).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(r, '__proto__')?.value).toEqual({ polluted: 1 });
    expect(prototypeClean()).toBe(true);
  });

  it('skips a value larger than maxRecordBytes to its end and reads the next', async () => {
    const file = tmp.path('giant.msgpack');
    const giant = pack({ blob: 'y'.repeat(300_000), list: Array.from({ length: 1000 }, (_, i) => ({ i })) });
    writeFileSync(file, Buffer.concat([pack(1), giant, pack(2)]));
    const { records, dead } = await drain(fromMsgpack(file, { maxRecordBytes: 1024, readChunkBytes: 1000 }));
    expect(records).toEqual([1, 2]);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.reason).toBe(`record of ${giant.length} bytes exceeds maxRecordBytes (1024)`);
    expect(dead[0]?.position).toEqual({ file, record: 2, offset: 1 });
    expect(Buffer.from(dead[0]?.value as string, 'base64')).toEqual(giant.subarray(0, 256));
  });

  it('turns undecodable values into dead letters: bad UTF-8, non-scalar keys, too deep; the stream goes on', async () => {
    const file = tmp.path('bad.msgpack');
    const badUtf8 = Buffer.from([0xa2, 0xc3, 0x28]);
    const arrayKey = Buffer.from([0x81, 0x91, 0x01, 0x02]); // { [1]: 2 }
    const deep = Buffer.concat([Buffer.alloc(10, 0x91), Buffer.from([0x01])]);
    writeFileSync(file, Buffer.concat([badUtf8, pack('ok'), arrayKey, deep, pack({ n: 1 })]));
    const { records, dead } = await drain(fromMsgpack(file, { maxDepth: 5 }));
    expect(records).toEqual(['ok', { n: 1 }]);
    expect(dead.map((d) => d.reason)).toEqual([
      'invalid UTF-8 in msgpack string at byte 1',
      'msgpack map key must be a string, number, boolean or nil',
      'msgpack nested deeper than 5 levels',
    ]);
    expect(dead.map((d) => d.position?.['record'])).toEqual([1, 3, 4]);
  });

  it('an invalid type byte or a truncated tail makes the rest one dead letter, after the values before it', async () => {
    const broken = tmp.path('broken.msgpack');
    writeFileSync(broken, Buffer.concat([pack({ a: 1 }), Buffer.from([0xc1]), pack({ b: 2 }), pack({ c: 3 })]));
    const b = await drain(fromMsgpack(broken));
    expect(b.records).toEqual([{ a: 1 }]);
    expect(b.dead).toHaveLength(1);
    expect(b.dead[0]?.reason).toMatch(/^invalid msgpack type byte 0xc1 at byte 6: the rest of the input cannot be framed \(\d+ bytes\)$/);

    const truncated = tmp.path('truncated.msgpack');
    writeFileSync(truncated, pack({ a: 1 }));
    appendFileSync(truncated, pack({ b: 'long string' }).subarray(0, 6));
    const t = await drain(fromMsgpack(truncated));
    expect(t.records).toEqual([{ a: 1 }]);
    expect(t.dead).toMatchObject([{ reason: 'truncated msgpack value at end of input (6 bytes)', position: { offset: pack({ a: 1 }).length } }]);
  });
});

describe('safe msgpack codec', () => {
  it('decodes every msgpack family the encoder and msgpackr produce', () => {
    const sample = [0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 53) + 1,
      0.1, -1e300, Infinity, NaN, '', 'a'.repeat(31), 'b'.repeat(32), 'c'.repeat(256), 'd'.repeat(65536), [], Array(16).fill(1), Array(65536).fill(0),
      {}, Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i])), new Uint8Array([1, 2, 3]), null, true, false];
    for (const v of sample) {
      expect(decodeMsgpack(encodeMsgpack(v))).toEqual({ ok: true, value: v });
      expect(decodeMsgpack(pack(v))).toEqual({ ok: true, value: v });
    }
  });

  it('reports trailing bytes and never throws on garbage', () => {
    expect(decodeMsgpack(new Uint8Array([0x01, 0x02]))).toEqual({ ok: false, reason: '1 trailing bytes after the msgpack value' });
    expect(decodeMsgpack(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff]))).toMatchObject({ ok: false });
    expect(decodeMsgpack(new Uint8Array([]))).toMatchObject({ ok: false, reason: 'truncated msgpack value at byte 0' });
  });
});
