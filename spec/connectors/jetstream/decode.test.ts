/**
 * Untrusted payloads end to end through a JetStream stream: random bytes, mutated valid documents
 * and hostile ones (prototype keys, absurd declared lengths, deep nesting, extension types) —
 * every message ends accepted or dead-lettered, nothing pollutes a prototype, and
 * `read = emitted + deadLettered`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { Pipeline, collect } from 'tidemark';
import { fromJetStream } from 'tidemark';
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

// The decoders themselves (shared with every connector) are fuzzed in spec/connectors/files/fuzz.test.ts.
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
