/**
 * The event log's fast paths keep the strict format's meaning: the log's own value encoder reads
 * back exactly as msgpackr's encoding of the same value (it falls back to msgpackr for every
 * other type), and the decoder's map shape cache gives the same objects as decoding entry by
 * entry — for hostile documents too (`__proto__`, `constructor`, repeated keys, keys that differ
 * after a matching prefix, truncation inside a cached shape, random byte damage), without ever
 * touching `Object.prototype`.
 */
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
import { EventLog, parseLogFrame, unpackLogField } from 'tidemark';
import { all, forgeFrame, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

/** msgpackr as the log used it for every value before its own encoder (and still does for other types). */
const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false, largeBigIntToFloat: false });

/** What the log's decoder makes of msgpackr's encoding of `v`: the meaning a value must keep. */
const viaMsgpackr = (v: unknown): unknown => {
  const b = packr.pack(v);
  return unpackLogField(b, 0, b.length);
};

const str = (s: string): number[] => {
  const b = Buffer.from(s);
  if (b.length < 32) return [0xa0 + b.length, ...b];
  return [0xd9, b.length, ...b];
};
/** A msgpack map from entries; `wide` writes a map16 header (as msgpackr does) instead of a fixmap. */
const map = (entries: [string, number[]][], wide = false): number[] => [
  ...(wide ? [0xde, entries.length >> 8, entries.length & 0xff] : [0x80 + entries.length]),
  ...entries.flatMap(([k, v]) => [...str(k), ...v]),
];
const decode = (bytes: number[]): unknown => unpackLogField(Buffer.from(bytes), 0, bytes.length);
/** The reference meaning of a map: entries defined in order as own data properties (a repeated key keeps its first place). */
const reference = (entries: [string, unknown][]): Record<string, unknown> => {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
};
const unpolluted = (): void => {
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  expect(Object.getPrototypeOf({})).toBe(Object.prototype);
};

const lone = fc.constantFrom('\ud800', 'a\udc00b', '\ud83d\ude00', 'é'.repeat(40), '€'.repeat(70), 'x'.repeat(300), 'ü'.repeat(20));
const leaf = fc.oneof(
  fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), lone,
  fc.integer(), fc.double(), fc.constantFrom(-0, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 2 ** 32 - 1, 2 ** 32, -32, -33, -128, -129, -32768, -32769, 2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, NaN, Infinity),
  fc.boolean(), fc.constant(null), fc.constant(undefined),
  fc.date({ noInvalidDate: true }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
);
const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, leaf, tie('arr'), tie('obj')),
  arr: fc.array(tie('v'), { maxLength: 20 }),
  obj: fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'toString', '0', '17', '')), tie('v'), { maxKeys: 20 }),
})).v;

describe('event log value encoder', () => {
  it('every value reads back as msgpackr encoding it did (property)', async () => {
    const dir = await tempDir();
    const log = await EventLog.open(dir, { fsync: 'never', maxRecordBytes: 1 << 24 });
    try {
      await fc.assert(fc.asyncProperty(fc.array(value.filter((v) => v !== undefined), { minLength: 1, maxLength: 20 }), async (values) => {
        const positions = await log.append(values.map((v, i) => ({ key: `k${i}`, timestamp: i, value: v })));
        const from = positions[0]?.offset ?? 0;
        const got = (await all(log.read({ from: { 0: from } }))).map((r) => r.value);
        expect(got).toEqual(values.map(viaMsgpackr));
        for (let i = 0; i < values.length; i++) expect(Object.is(got[i], -0)).toBe(false); // -0 is written as 0, as msgpackr does
      }), { numRuns: 150 });
    } finally {
      await log.close();
    }
  });

  it('keeps own __proto__ and constructor keys as data, and falls back to msgpackr for other types', async () => {
    const dir = await tempDir();
    const log = await EventLog.open(dir, { fsync: 'never' });
    try {
      const hostile = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}, "n": 1}') as unknown;
      const nested = { list: [new Date(5), 7n, new Map([['a', 1]]), new Set([1]), new Uint8Array([1, 2])], own: hostile };
      class Point {
        constructor(readonly x: number) {}
      }
      const values = [hostile, nested, new Point(3), Object.assign(Object.create(null) as object, { a: 1 }), { big: 2n ** 64n - 1n }];
      await log.append(values.map((v, i) => ({ key: 'k', timestamp: i, value: v })));
      const got = (await all(log.read())).map((r) => r.value);
      expect(got).toEqual(values.map(viaMsgpackr));
      const h = got[0] as Record<string, unknown>;
      expect(Object.getPrototypeOf(h)).toBe(Object.prototype);
      expect(Object.keys(h)).toEqual(['__proto__', 'constructor', 'n']);
      expect(Object.getOwnPropertyDescriptor(h, '__proto__')?.value).toEqual({ polluted: true });
      unpolluted();
    } finally {
      await log.close();
    }
  });

  it('a log whose values msgpackr wrote (map16 headers, before this encoder) reads the same, interleaved with new appends', async () => {
    const dir = await tempDir();
    const old = (i: number): { user: string; page: string; n: number } => ({ user: `u${i}`, page: `/p/${i}`, n: i });
    const first = await EventLog.open(dir, { fsync: 'never' });
    await first.append([{ key: 'k', timestamp: 0, value: old(0) }]);
    await first.close();
    const file = join(dir, 'partition-0000', '00000000000000000000.log');
    const frames = [1, 2, 3].map((i) => forgeFrame(i, i, Buffer.from(packr.pack('k')), Buffer.from(packr.pack(old(i)))));
    expect(frames[0]?.[28 + 2]).toBe(0xde); // msgpackr's map16 header
    await appendFile(file, Buffer.concat(frames));
    const log = await EventLog.open(dir, { fsync: 'never' });
    try {
      expect(log.recovery).toEqual([]);
      await log.append([4, 5].map((i) => ({ key: 'k', timestamp: i, value: old(i) })));
      const bytes = await readFile(file);
      const heads: number[] = [];
      for (let at = 16; at < bytes.length;) {
        const f = parseLogFrame(bytes, at, bytes.length, 1 << 20);
        if (typeof f === 'string') throw new Error(f);
        heads.push(bytes[f.valueStart] as number);
        at = f.end;
      }
      expect(heads).toEqual([0x83, 0xde, 0xde, 0xde, 0x83, 0x83]); // fixmap from the log's encoder, map16 from msgpackr
      const got = await all(log.read());
      expect(got.map((r) => [r.offset, r.key, r.value])).toEqual([0, 1, 2, 3, 4, 5].map((i) => [i, 'k', old(i)]));
    } finally {
      await log.close();
    }
  });

  it('rejects a cyclic value with a LogError naming the record, as before', async () => {
    const dir = await tempDir();
    const log = await EventLog.open(dir, { fsync: 'never' });
    try {
      const cyclic: Record<string, unknown> = { a: 1 };
      cyclic['self'] = cyclic;
      await expect(log.append([{ key: 'k', timestamp: 1, value: { ok: true } }, { key: 'k', timestamp: 2, value: cyclic }])).rejects.toThrow(/record 1: value cannot be encoded/);
      expect(await all(log.read())).toEqual([]);
    } finally {
      await log.close();
    }
  });
});

describe('event log decoder shape cache', () => {
  it('maps of one shape, then maps that differ only after a matching prefix, decode as entry by entry', () => {
    const a = map([['user', [0x01]], ['page', str('/a')], ['n', [0xcd, 0x01, 0x00]]]);
    for (let i = 0; i < 3; i++) expect(decode(a)).toEqual({ user: 1, page: '/a', n: 256 });
    // same count and first key, a later key differs: decoded again generically
    expect(decode(map([['user', [0x01]], ['page', str('/a')], ['m', [0x02]]]))).toEqual({ user: 1, page: '/a', m: 2 });
    expect(decode(map([['user', [0x01]], ['pagf', str('/a')], ['n', [0x02]]]))).toEqual({ user: 1, pagf: '/a', n: 2 });
    // the same keys in a map16 header, and the first shape again
    expect(decode(map([['user', [0x01]], ['page', str('/a')], ['n', [0x02]]], true))).toEqual({ user: 1, page: '/a', n: 2 });
    expect(Object.keys(decode(a) as object)).toEqual(['user', 'page', 'n']);
  });

  it('__proto__ and repeated keys are never cached: every decode keeps them as own data', () => {
    const doc = map([['x', [0x01]], ['__proto__', map([['polluted', [0xc3]]])], ['constructor', map([['prototype', map([['polluted', [0xc3]]])]])]]);
    for (let i = 0; i < 5; i++) {
      const v = decode(doc) as Record<string, unknown>;
      expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
      expect(Object.keys(v)).toEqual(['x', '__proto__', 'constructor']);
      expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toEqual({ polluted: true });
      expect(v['polluted']).toBeUndefined();
    }
    // a cached shape whose later key becomes __proto__ in the next document
    const plain = map([['x', [0x01]], ['y', [0x02]]]);
    decode(plain);
    decode(plain);
    const v = decode(map([['x', [0x01]], ['__proto__', map([['polluted', [0xc3]]])]])) as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.hasOwn(v, '__proto__')).toBe(true);
    const dup = map([['a', [0x01]], ['a', [0x02]]]);
    for (let i = 0; i < 3; i++) expect(decode(dup)).toEqual({ a: 2 });
    unpolluted();
  });

  it('a truncated document matching a cached shape is an error, and the cache stays right', () => {
    const a = map([['user', str('u1')], ['page', str('/products/1')], ['n', [0x05]]]);
    decode(a);
    for (let cut = 1; cut < a.length; cut++) expect(() => decode(a.slice(0, cut))).toThrow(/truncated|runs past/);
    expect(decode(a)).toEqual({ user: 'u1', page: '/products/1', n: 5 });
  });

  it('sequences of maps over a small pool of keys (hostile ones included) decode as the reference (property)', () => {
    const key = fc.constantFrom('a', 'b', 'user', 'page', '__proto__', 'constructor', 'toString', '0', '', 'ключ', 'x'.repeat(31));
    const val = fc.oneof(fc.integer({ min: 0, max: 127 }).map((n): [unknown, number[]] => [n, [n]]), fc.string({ maxLength: 10 }).map((s): [unknown, number[]] => [s, str(s)]), fc.constant<[unknown, number[]]>([null, [0xc0]]));
    const doc = fc.tuple(fc.array(fc.tuple(key, val), { maxLength: 6 }), fc.boolean());
    fc.assert(fc.property(fc.array(doc, { minLength: 1, maxLength: 30 }), (docs) => {
      for (const [entries, wide] of docs) {
        const bytes = map(entries.map(([k, [, b]]) => [k, b]), wide);
        const got = decode(bytes) as Record<string, unknown>;
        const want = reference(entries.map(([k, [v]]) => [k, v]));
        expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
        expect(Object.keys(got)).toEqual(Object.keys(want));
        for (const k of Object.keys(want)) expect(Object.getOwnPropertyDescriptor(got, k)?.value).toEqual(want[k]);
      }
      unpolluted();
    }), { numRuns: 300 });
  });

  it('damaged documents fail or decode, never pollute, and never spoil later decodes (fuzz)', () => {
    const good = map([['user', str('u7')], ['page', str('/p/1')], ['amount', [0xcb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18]], ['n', [0x07]]]);
    const want = decode(good);
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.nat(good.length), (flips, cut) => {
      const bad = good.slice(0, Math.max(1, cut));
      for (const [at, byte] of flips) if (at < bad.length) bad[at] = byte;
      try {
        decode(bad);
      } catch (e) {
        expect((e as Error).name).toBe('LogDecodeError');
      }
      unpolluted();
      expect(decode(good)).toEqual(want);
    }), { numRuns: 1000 });
  });
});
