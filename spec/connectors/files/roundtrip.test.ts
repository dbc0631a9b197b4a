/**
 * Write → read round trips as properties: whatever a sink writes (random JSON values, random CSV
 * text with delimiters, quotes and newlines, random msgpack values), the matching source reads back
 * exactly, however the bytes are cut into chunks.
 */
import { PassThrough, Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock, Pipeline, fromArray } from 'tidemark';
import { type FromReadableOptions, type ToWritableOptions, fromReadable, toWritable } from 'tidemark';
import { chunked, drain } from './helpers.js';

/** Encodes `values` with `toWritable` and returns the bytes. */
async function encode<T>(values: T[], options: ToWritableOptions): Promise<Buffer> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (b: Buffer) => parts.push(b));
  const p = new Pipeline({ clock: new ManualClock(), batchSize: 3 });
  p.source(fromArray(values), { timestamp: () => 0 }).sink(toWritable(out, options));
  await p.run();
  return Buffer.concat(parts);
}

/** Reads `bytes` cut at `cuts` with `fromReadable`. */
async function decode(bytes: Buffer, cuts: number[], options: FromReadableOptions): Promise<Awaited<ReturnType<typeof drain>>> {
  return drain(fromReadable(Readable.from(chunked(bytes, cuts)), options));
}

const cuts = fc.array(fc.nat(), { maxLength: 8 });
/** JSON values as JSON would give them back (no -0). */
const json = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);

describe('round trips', () => {
  it('JSON lines', async () => {
    await fc.assert(fc.asyncProperty(fc.array(json, { maxLength: 20 }), cuts, async (values, c) => {
      const { records, dead } = await decode(await encode(values, { format: 'json-lines' }), c, { format: 'json-lines' });
      expect(dead).toEqual([]);
      expect(records).toEqual(values);
    }), { numRuns: 100 });
  });

  it('msgpack', async () => {
    await fc.assert(fc.asyncProperty(fc.array(json, { maxLength: 20 }), cuts, async (values, c) => {
      const { records, dead } = await decode(await encode(values, { format: 'msgpack' }), c, { format: 'msgpack' });
      expect(dead).toEqual([]);
      expect(records).toEqual(values);
    }), { numRuns: 100 });
  });

  it('CSV with delimiters, quotes, newlines and unicode in the cells', async () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'é', '☃', ',', ';', '"', '\n', '\r', ' ', '\t', 'x'), maxLength: 8 });
    const row = fc.record({ id: fc.integer({ min: -1e9, max: 1e9 }), text: cell, other: cell, flag: fc.boolean() });
    await fc.assert(fc.asyncProperty(fc.array(row, { maxLength: 15 }), fc.constantFrom(',', ';'), cuts, async (rows, delimiter, c) => {
      const bytes = await encode(rows, { format: 'csv', delimiter, columns: { id: 'integer', text: 'string', other: 'string', flag: 'boolean' } });
      const { records, dead } = await decode(bytes, c, { format: 'csv', delimiter, columns: { id: 'integer', flag: 'boolean' } });
      expect(dead).toEqual([]);
      expect(records).toEqual(rows);
    }), { numRuns: 100 });
  });
});
