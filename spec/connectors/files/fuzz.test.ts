/**
 * Untrusted input, fuzzed: every decoder (JSON lines, CSV, msgpack) gets random bytes cut into
 * random chunks and a catalogue of hostile documents (deep nesting, huge numbers, prototype keys,
 * invalid UTF-8, NUL bytes, giant lines and values, lying length headers). Every record must end
 * accepted or dead-lettered (`read = emitted + deadLettered`, and for JSON lines exactly one
 * outcome per non-blank line), Object.prototype must stay clean, and the process must stay
 * healthy — a giant line is never held in memory.
 */
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Source } from 'tidemark';
import { decodeJson, decodeMsgpack } from 'tidemark';
import { type FromReadableOptions, fromReadable } from 'tidemark';
import { chunked, drain, prototypeClean } from './helpers.js';

afterEach(() => {
  expect(prototypeClean()).toBe(true);
});

/** Non-blank lines of a byte stream, as the JSON-lines reader defines them (BOM, CR, blanks). */
function nonBlankLines(bytes: Uint8Array): number {
  let b = Buffer.from(bytes);
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
  const lines = b.toString('latin1').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.filter((l) => !/^[ \t\r]*$/.test(l)).length;
}

const FORMATS: FromReadableOptions[] = [
  { format: 'json-lines', maxRecordBytes: 200, maxDepth: 8 },
  { format: 'csv', header: false, maxRecordBytes: 200 },
  { format: 'csv', header: true, columns: {}, maxRecordBytes: 200 },
  { format: 'msgpack', maxRecordBytes: 200, maxDepth: 8 },
];

async function run(source: Source<unknown>): Promise<Awaited<ReturnType<typeof drain>>> {
  return drain(source, { batchSize: 7 });
}

/** Interesting bytes for each format, mixed into random ones. */
const tokens = fc.constantFrom(
  ...['\n', '\r\n', '"', ',', '{', '}', '[', ']', '"__proto__"', ':', '1e999', '\u0000', ' '].map((s) => Buffer.from(s)),
  Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from([0xc1]), Buffer.from([0xc3, 0x28]), Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]),
  Buffer.from([0xd6, 0x05]), Buffer.from([0x81, 0xa9, ...Buffer.from('__proto__')]), Buffer.from([0x91, 0x91, 0x91]),
);
const hostileBytes = fc.array(fc.oneof(fc.uint8Array({ maxLength: 40 }), tokens), { maxLength: 40 }).map((parts) => Buffer.concat(parts));

describe('fuzz: random and hostile bytes through every decoder', () => {
  it('the pure decoders never throw and never pollute', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (text, bytes) => {
      for (const r of [decodeJson(text, 8), decodeMsgpack(bytes, { maxDepth: 8 }), decodeMsgpack(Buffer.concat([Buffer.from([0x81, 0xa9]), Buffer.from('__proto__'), bytes]))]) {
        expect(r.ok === true || typeof r.reason === 'string').toBe(true);
      }
      return prototypeClean();
    }), { numRuns: 500 });
  });

  for (const options of FORMATS) {
    it(`${options.format}${options.format === 'csv' ? ` (header: ${String(options.header)})` : ''}: every record ends accepted or dead-lettered`, async () => {
      await fc.assert(fc.asyncProperty(hostileBytes, fc.array(fc.nat(), { maxLength: 6 }), async (bytes, cuts) => {
        let result;
        try {
          result = await run(fromReadable(Readable.from(chunked(bytes, cuts)), options));
        } catch (e) {
          // the only allowed failure: a CSV header that cannot be used
          expect(options.format === 'csv' && options.header === true).toBe(true);
          expect(String(e)).toMatch(/SourceError: tidemark\.fromReadable: unusable header/);
          return;
        }
        const { stats, records, dead } = result;
        expect(stats['read']).toBe((stats['emitted'] ?? NaN) + (stats['deadLettered'] ?? NaN));
        expect(records.length + dead.length).toBe(stats['read']);
        if (options.format === 'json-lines') expect(stats['read']).toBe(nonBlankLines(bytes));
        for (const d of dead) expect(d.position).toBeDefined();
        expect(prototypeClean()).toBe(true);
      }), { numRuns: 150 });
    });
  }
});

describe('hostile documents', () => {
  it('JSON lines: each hostile line is accepted as plain data or dead-lettered with its line', async () => {
    const lines = [
      '{"__proto__":{"polluted":1}}',
      '{"constructor":{"prototype":{"polluted":1}}}',
      '['.repeat(100_000) + ']'.repeat(100_000),
      '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000),
      '1e999999',
      '-123456789012345678901234567890123456789',
      '"\\ud800"',
      '"nul\u0000byte"',
      '"escaped nul \\u0000"',
      '{"k":"' + 'v'.repeat(2 * 1024 * 1024) + '"}',
    ];
    const bytes = Buffer.concat([Buffer.from(lines.join('\n') + '\n'), Buffer.from([0xff, 0xfe, 0x0a]), Buffer.from('{"last":true}\n')]);
    const { records, dead, stats } = await drain(fromReadable(Readable.from(chunked(bytes, [1, 1000, 70_000, 300_001])), { format: 'json-lines' }));
    expect(stats).toMatchObject({ read: 12, emitted: records.length, deadLettered: dead.length });
    expect(dead.map((d) => [d.position?.['line'], d.reason.replace(/:.*/s, '')])).toEqual([
      [3, 'JSON nested deeper than 256 levels'],
      [4, 'JSON nested deeper than 256 levels'],
      [8, 'invalid JSON'],
      [10, 'record of 2097160 bytes exceeds maxRecordBytes (1048576)'],
      [11, 'invalid UTF-8'],
    ]);
    expect(records).toEqual([
      JSON.parse(lines[0] as string), JSON.parse(lines[1] as string), Infinity, -1.2345678901234568e38, '\ud800', 'escaped nul \u0000', { last: true },
    ]);
    expect(Object.getPrototypeOf(records[0])).toBe(Object.prototype);
    expect(JSON.stringify(dead).length).toBeLessThan(10_000); // dead letters carry bounded previews
  });

  it('msgpack: deep nesting, lying length headers and huge declared sizes cannot exhaust memory', async () => {
    const deep = Buffer.concat([Buffer.alloc(100_000, 0x91), Buffer.from([0x01])]);
    const cases: [Buffer, string][] = [
      [deep, 'msgpack nested deeper than maxRecordBytes (1024) levels: the rest of the input cannot be framed (100001 bytes)'],
      [Buffer.from([0x92, 0x01]), 'truncated msgpack value at end of input (2 bytes)'], // array of 2 with 1 item
      [Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]), 'truncated msgpack value at end of input (6 bytes)'],
      [Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]), 'truncated msgpack value at end of input (6 bytes)'],
    ];
    for (const [bytes, reason] of cases) {
      const { records, dead } = await drain(fromReadable(Readable.from([Buffer.from([0x07]), bytes]), { format: 'msgpack', maxRecordBytes: 1024 }));
      expect(records).toEqual([7]);
      expect(dead.map((d) => d.reason)).toEqual([reason]);
    }
    // a deep value inside the size limit but over maxDepth is skipped exactly, and the next value is read
    const { records, dead } = await drain(fromReadable(Readable.from([Buffer.concat([Buffer.alloc(1000, 0x91), Buffer.from([0x01, 0x02])])]), { format: 'msgpack' }));
    expect(records).toEqual([2]);
    expect(dead.map((d) => d.reason)).toEqual(['msgpack nested deeper than 256 levels']);
  });

  it('a giant line is skipped without being held: memory stays far below its size', async () => {
    const MiB = 1024 * 1024;
    const lineMiB = 400;
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    async function* giant(): AsyncGenerator<Buffer> {
      yield Buffer.from('{"n":1}\n');
      for (let i = 0; i < lineMiB; i++) {
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
        yield Buffer.allocUnsafe(MiB).fill(0x78);
      }
      yield Buffer.from('\n{"n":2}\n');
    }
    const { records, dead } = await drain(fromReadable(Readable.from(giant()), { format: 'json-lines' }));
    expect(records).toEqual([{ n: 1 }, { n: 2 }]);
    expect(dead).toMatchObject([{ reason: `record of ${lineMiB * MiB} bytes exceeds maxRecordBytes (1048576)`, position: { line: 2 } }]);
    expect(peak).toBeLessThan((lineMiB / 2) * MiB);
  });
});
