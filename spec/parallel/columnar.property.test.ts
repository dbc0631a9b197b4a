/**
 * Records cross between workers unchanged: any plain-data value — numbers (−0, NaN, ±∞), ASCII
 * and non-ASCII strings (lone surrogates too), booleans, null, undefined, bigints, arrays, plain
 * objects of one or many shapes (1–9 fields), nested, with odd field names (`__proto__`) — arrives equal
 * (`toStrictEqual`) after two exchanges (keyed, then to the sink on worker 0), whatever its
 * column turned out to be (typed, UTF-8, per field, or cloned). (Objects arrive with the ordinary
 * prototype, as with structured cloning: records are plain data.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Pipeline, collect, fromArray } from 'tidemark';
import { simulateParallel } from 'tidemark/testing';

const scalar = fc.oneof(
  fc.double(),
  fc.constantFrom(-0, Number.NaN, Infinity, -Infinity, 0),
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('\uD800', 'a\uDC00b', 'ASCII only', 'ünïcödé', '長い文字列のテストです。'),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
);

const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  any: fc.oneof({ depthSize: 'small' }, scalar, tie('array'), tie('object')),
  array: fc.array(tie('any'), { maxLength: 3 }),
  object: fc.dictionary(fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('__proto__', 'toString', '0', 'a b')), tie('any'), { maxKeys: 3, noNullPrototype: true }),
})).any;

/** Objects of one shape of 1–9 fields (narrow and wide shapes), odd names included. */
const oneShape: fc.Arbitrary<unknown[]> = fc
  .uniqueArray(fc.oneof(fc.string({ maxLength: 3 }), fc.constantFrom('__proto__', 'toString', '0', '7', 'a b')), { minLength: 1, maxLength: 9 })
  .chain((fields) => fc.array(fc.array(scalar, { minLength: fields.length, maxLength: fields.length }).map((vs) => Object.fromEntries(fields.map((f, j) => [f, vs[j]]))), { maxLength: 30 }));

/** Columns of one kind (all numbers, all strings, objects of one shape…) as well as mixed ones. */
const column: fc.Arbitrary<unknown[]> = fc.oneof(
  fc.array(value, { maxLength: 30 }),
  fc.array(fc.double(), { maxLength: 30 }),
  fc.array(fc.oneof(fc.string(), fc.constantFrom('x', 'ünï', '\uD800')), { maxLength: 30 }),
  fc.array(fc.boolean(), { maxLength: 30 }),
  fc.array(fc.record({ a: fc.double(), b: fc.string(), c: fc.record({ d: fc.boolean(), e: scalar }, { noNullPrototype: true }) }, { noNullPrototype: true }), { maxLength: 30 }),
  fc.array(fc.record({ a: fc.integer(), b: fc.option(fc.string(), { nil: undefined }) }, { requiredKeys: ['a'], noNullPrototype: true }), { maxLength: 30 }),
  oneShape,
);

describe('columnar exchange', () => {
  it('delivers every plain-data value unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(column, fc.integer({ min: 2, max: 3 }), fc.integer(), async (vs, parallelism, seed) => {
        const input = vs.map((v, id) => ({ id, key: id % 5 === 0 ? `k${id % 3}` : id % 7, v }));
        const out: { id: number; key: unknown; v: unknown }[] = [];
        const build = (p: Pipeline): void => {
          p.source(fromArray(input), { timestamp: (r) => r.id })
            .keyBy((r) => r.key)
            .process({ onRecord: (r, ctx) => ctx.emit(r) })
            .sink(collect(out));
        };
        await simulateParallel(build, { parallelism, seed, batchSize: 7 });
        expect([...out].sort((a, b) => a.id - b.id)).toStrictEqual(input);
      }),
      { numRuns: 150 },
    );
  }, 60_000);
});
