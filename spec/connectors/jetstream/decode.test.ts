/**
 * Untrusted payloads: the JSON and msgpack decoders of the JetStream connector against random
 * bytes, mutated valid documents and hostile ones (prototype keys, absurd declared lengths, deep
 * nesting, extension types) — every payload decodes or is rejected with a reason, nothing pollutes
 * a prototype — and the same end to end through a stream: `read = emitted + deadLettered`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { Pipeline, collect } from 'tidemark';
import { decodeJson } from '../../../connectors/jetstream/codec.js';
import { fromJetStream } from '../../../connectors/jetstream/index.js';
import { decodeMsgpack } from '../../../connectors/jetstream/msgpack.js';
import { available } from '../services.js';
import { JsAdmin } from './fixture.js';

const packr = new Packr({ useRecords: false });
const enc = new TextEncoder();
const valid = [
  packr.pack({ a: 1, b: [1, 2, { c: 'x' }], d: null, e: 1.5, f: 'é' }),
  enc.encode(JSON.stringify({ a: 1, b: [1, 2, { c: 'x' }], d: null, e: 1.5, f: 'é' })),
];

/** Random bytes, and valid documents cut short and with bytes overwritten. */
const arbPayload = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.record({
    base: fc.constantFrom(...valid),
    cut: fc.nat(),
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
  }).map(({ base, cut, flips }) => {
    const m = base.slice(0, 1 + (cut % base.length));
    for (const [i, b] of flips) m[i % m.length] = b;
    return m;
  }),
);

/** `n` payloads, the same for the same seed (a failure can be replayed). */
function payloads(n: number, seed: number): Uint8Array[] {
  return fc.sample(arbPayload, { numRuns: n, seed });
}

const hostile: [string, Uint8Array][] = [
  ['json __proto__', enc.encode('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}')],
  ['msgpack __proto__', Uint8Array.of(0x82, 0xa9, ...enc.encode('__proto__'), 0x81, 0xa8, ...enc.encode('polluted'), 0x01, 0xab, ...enc.encode('constructor'), 0x01)],
  ['array32 of 4e9 elements', Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff, 0x00)],
  ['map32 of 4e9 entries', Uint8Array.of(0xdf, 0xff, 0xff, 0xff, 0xff)],
  ['str32 of 4 GB', Uint8Array.of(0xdb, 0xff, 0xff, 0xff, 0xff, 0x41)],
  ['bin32 of 4 GB', Uint8Array.of(0xc6, 0xff, 0xff, 0xff, 0xff)],
  ['deep msgpack arrays', new Uint8Array(100_000).fill(0x91)],
  ['deep json arrays', enc.encode('['.repeat(100_000) + ']'.repeat(100_000))],
  ['msgpackr RegExp extension', new Packr({ moreTypes: true }).pack(/(a+)+$/)],
  ['msgpackr record extension', new Packr({ useRecords: true }).pack([{ x: 1 }, { x: 2 }])],
  ['ext 8 type 0x65 (Error)', Uint8Array.of(0xd4, 0x65, 0x00)],
  ['never-used byte 0xc1', Uint8Array.of(0xc1)],
  ['trailing bytes', Uint8Array.of(0x01, 0x02)],
  ['map with an array key', Uint8Array.of(0x81, 0x90, 0x01)],
];

describe('JetStream payload decoders', () => {
  it('decode or reject every random or mutated payload, and never pollute a prototype', () => {
    let ok = 0;
    let rejected = 0;
    for (const p of payloads(5_000, 42)) {
      for (const decode of [decodeMsgpack, decodeJson]) {
        try {
          decode(p);
          ok++;
        } catch (e) {
          expect(e).toBeInstanceOf(Error);
          expect(e).not.toBeInstanceOf(RangeError);
          rejected++;
        }
      }
    }
    expect(ok + rejected).toBe(10_000);
    expect(ok).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
    expect(Object.keys(Object.prototype)).toEqual([]);
  });

  it('reject hostile documents with a reason, or keep prototype keys as plain data', () => {
    const outcomes: Record<string, string> = {};
    for (const [name, bytes] of hostile) {
      const decode = name.startsWith('json') || name.startsWith('deep json') ? decodeJson : decodeMsgpack;
      try {
        const v = decode(bytes) as Record<string, unknown>;
        expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
        expect(Object.keys(v)).toContain('__proto__');
        outcomes[name] = 'decoded';
      } catch (e) {
        outcomes[name] = (e as Error).message;
      }
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(outcomes['json __proto__']).toBe('decoded');
    expect(outcomes['msgpack __proto__']).toBe('decoded');
    expect(outcomes['array32 of 4e9 elements']).toMatch(/cannot fit/);
    expect(outcomes['map32 of 4e9 entries']).toMatch(/cannot fit/);
    expect(outcomes['str32 of 4 GB']).toMatch(/needs 4294967295 more bytes/);
    expect(outcomes['bin32 of 4 GB']).toMatch(/needs 4294967295 more bytes/);
    expect(outcomes['deep msgpack arrays']).toMatch(/nesting deeper than 512/);
    expect(outcomes['deep json arrays']).toMatch(/nesting deeper than 512/);
    expect(outcomes['msgpackr RegExp extension']).toMatch(/extension type \d+ is not allowed/);
    expect(outcomes['msgpackr record extension']).toMatch(/extension type|not a msgpack type/);
    expect(outcomes['ext 8 type 0x65 (Error)']).toMatch(/extension type 101 is not allowed/);
    expect(outcomes['never-used byte 0xc1']).toMatch(/not a msgpack type/);
    expect(outcomes['trailing bytes']).toMatch(/trailing bytes/);
    expect(outcomes['map with an array key']).toMatch(/only string and number keys/);
  });

  it('decode the standard types exactly', () => {
    const v = { i: -5, big: 2 ** 40, neg: -(2 ** 40), f: 0.25, s: 'ü'.repeat(40), b: Uint8Array.of(1, 2), n: null, t: true, arr: Array.from({ length: 20 }, (_, i) => i), d: new Date(1_700_000_000_123) };
    expect(decodeMsgpack(packr.pack(v))).toEqual(v);
    expect(decodeMsgpack(Uint8Array.of(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).toBe(2n ** 64n - 1n);
  });
});

const hasNats = await available('nats');

describe.skipIf(!hasNats)('JetStream payload fuzzing end to end', () => {
  let admin: JsAdmin;
  beforeAll(async () => {
    admin = await JsAdmin.connect('127.0.0.1:4222');
  });
  afterAll(async () => {
    await admin?.close();
  });

  it('every message ends accepted or dead-lettered, positions cover them all, the process stays healthy', async () => {
    const stream = await admin.stream('tm_js_fuzz');
    const all = [...payloads(300, 7), ...hostile.map(([, b]) => b)].filter((b) => b.length > 0);
    const seqs = await admin.publishRaw(() => `${stream}.0`, all);
    for (const format of ['msgpack', 'json'] as const) {
      const source = fromJetStream({ servers: '127.0.0.1:4222', stream, format, maxRecordBytes: 50_000 });
      const out: unknown[] = [];
      const dead: unknown[] = [];
      const p = new Pipeline();
      p.source(source, { name: 'fuzz' }).sink(collect(out));
      p.deadLetters().sink(collect(dead));
      const summary = await p.run();
      expect(summary.sources['fuzz']?.read).toBe(all.length);
      expect(out.length + dead.length).toBe(all.length);
      expect(dead.length).toBeGreaterThan(0);
      expect(source.positions()).toEqual({ 0: Math.max(...seqs) });
    }
    expect(Object.keys(Object.prototype)).toEqual([]);
  });
});
