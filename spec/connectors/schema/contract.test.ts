/**
 * Schema contracts: versioned schemas (zod and a hand-written Standard Schema validator),
 * upcasting older versions, dead-letter-ready failures with the validation message, withSchema
 * as a source wrapper in a pipeline, and validate() for map with onError: 'dead-letter'.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock, Pipeline, PlanError, collect, fromArray, fromAsyncIterable, type DeadLetter } from 'tidemark';
import { SchemaError, schema, validate, withSchema } from 'tidemark';

const v1 = z.object({ v: z.literal(1), id: z.string(), amount: z.number() });
const v2 = z.object({ v: z.literal(2), id: z.string(), amount: z.object({ value: z.number(), currency: z.string() }) });
const v3 = z.object({ v: z.literal(3), id: z.string(), amount: z.object({ value: z.number(), currency: z.string() }), channel: z.enum(['web', 'store']) });

const orderPlaced = schema({
  name: 'OrderPlaced',
  versions: { 1: v1, 2: v2, 3: v3 },
  upcast: {
    1: (o) => ({ v: 2, id: o.id, amount: { value: o.amount, currency: 'EUR' } }),
    2: (o) => ({ ...o, v: 3, channel: 'web' }),
  },
  versionOf: (r) => (r as { v?: number } | null)?.v,
});

describe('schema()', () => {
  it('validates the current version and upcasts older ones step by step (typed as the latest)', () => {
    const cur = orderPlaced.validate({ v: 3, id: 'o1', amount: { value: 5, currency: 'USD' }, channel: 'store' });
    expect(cur).toEqual({ ok: true, value: { v: 3, id: 'o1', amount: { value: 5, currency: 'USD' }, channel: 'store' }, version: 3 });
    const old = orderPlaced.validate({ v: 1, id: 'o2', amount: 7 });
    expect(old).toEqual({ ok: true, value: { v: 3, id: 'o2', amount: { value: 7, currency: 'EUR' }, channel: 'web' }, version: 3, upcastFrom: 1 });
    if (old.ok) {
      const channel: 'web' | 'store' = old.value.channel; // the result is typed as version 3
      expect(channel).toBe('web');
    }
    expect(orderPlaced.latest).toBe(3);
    expect(orderPlaced.versions).toEqual([1, 2, 3]);
  });

  it('invalid records give dead-letter-ready results with the validation message', () => {
    const r = orderPlaced.validate({ v: 1, id: 5, amount: 'lots' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toMatch(/^OrderPlaced v1: /);
      expect(r.reason).toMatch(/id: Invalid input: expected string/);
      expect(r.reason).toMatch(/amount: Invalid input: expected number/);
      expect(r.issues.map((i) => i.path)).toEqual(['id', 'amount']);
      expect(r.version).toBe(1);
    }
    expect(orderPlaced.validate({ v: 9, id: 'x' })).toMatchObject({ ok: false, reason: 'OrderPlaced: version 9 is not declared (declared: 1, 2, 3)' });
    expect(orderPlaced.validate('text')).toMatchObject({ ok: false, reason: expect.stringContaining('names no version') });
  });

  it('a buggy upcaster is caught by the next version’s validation, or by its throw', () => {
    const s = schema({
      name: 'Thing',
      versions: { 1: z.object({ a: z.number() }), 2: z.object({ b: z.number() }) },
      upcast: { 1: (x) => (x.a < 0 ? (() => { throw new Error('negative'); })() : { c: x.a }) },
      versionOf: (r) => ('a' in (r as object) ? 1 : 2),
    });
    expect(s.validate({ a: 1 })).toMatchObject({ ok: false, reason: expect.stringMatching(/^Thing: upcast v1→v2 produced an invalid v2: b: /) });
    expect(s.validate({ a: -1 })).toMatchObject({ ok: false, reason: 'Thing: upcast v1→v2 threw: negative' });
  });

  it('without versionOf, a record is taken as the newest version that accepts it', () => {
    const s = schema({
      name: 'Temp',
      versions: { 1: z.object({ celsius: z.number() }), 2: z.object({ kelvin: z.number() }) },
      upcast: { 1: (t) => ({ kelvin: t.celsius + 273.15 }) },
    });
    expect(s.validate({ kelvin: 300 })).toEqual({ ok: true, value: { kelvin: 300 }, version: 2 });
    expect(s.validate({ celsius: 0 })).toEqual({ ok: true, value: { kelvin: 273.15 }, version: 2, upcastFrom: 1 });
    const bad = s.validate({ fahrenheit: 1 });
    expect(bad).toMatchObject({ ok: false, reason: expect.stringMatching(/^Temp: matches no version \(v2: kelvin: .* \| v1: celsius: /) });
  });

  it('works with any Standard Schema validator, including asynchronous ones', async () => {
    const positive: StandardSchemaV1<unknown, number> = {
      '~standard': {
        version: 1, vendor: 'hand-made',
        validate: (v) => (typeof v === 'number' && v > 0 ? { value: v } : { issues: [{ message: 'must be a positive number' }] }),
      },
    };
    const slow: StandardSchemaV1<unknown, number> = {
      '~standard': { version: 1, vendor: 'async', validate: async (v) => (typeof v === 'number' ? { value: v * 2 } : { issues: [{ message: 'nope' }] }) },
    };
    const s = schema({ name: 'N', versions: { 1: positive } });
    expect(s.validate(4)).toEqual({ ok: true, value: 4, version: 1 });
    expect(s.validate(-1)).toMatchObject({ ok: false, reason: 'N: matches no version (v1: must be a positive number)' });
    const a = schema({ name: 'A', versions: { 1: slow } });
    expect(() => a.validate(1)).toThrow(SchemaError);
    await expect(a.validateAsync(2)).resolves.toEqual({ ok: true, value: 4, version: 1 });
  });

  it('rejects bad declarations eagerly, naming the factory', () => {
    const bad: [unknown, RegExp][] = [
      [{ name: '', versions: { 1: v1 } }, /name must be/],
      [{ name: 'X', versions: {} }, /at least one version/],
      [{ name: 'X', versions: { 0: v1 } }, /positive integer/],
      [{ name: 'X', versions: { 1: { parse: () => 1 } } }, /not a Standard Schema/],
      [{ name: 'X', versions: { 1: v1, 2: v2 } }, /version 1 needs an upcaster/],
      [{ name: 'X', versions: { 1: v1 }, upcast: { 1: () => 1 } }, /latest version/],
      [{ name: 'X', versions: { 1: v1, 2: v2 }, upcast: { 1: 'no' } }, /must be a function/],
    ];
    for (const [opts, msg] of bad) {
      expect(() => schema(opts as never)).toThrow(PlanError);
      expect(() => schema(opts as never)).toThrow(msg);
      expect(() => schema(opts as never)).toThrow(/tidemark\.schema/);
    }
  });
});

describe('withSchema / validate in a pipeline', () => {
  const raw: unknown[] = [
    { v: 3, id: 'a', amount: { value: 1, currency: 'EUR' }, channel: 'web', ts: 10 },
    { v: 1, id: 'b', amount: 2, ts: 20 },
    { v: 2, id: 'c', amount: { value: 3 }, ts: 30 }, // invalid v2: no currency
    { v: 7, id: 'd', ts: 40 },
    { v: 2, id: 'e', amount: { value: 4, currency: 'GBP' }, ts: 50 },
  ];
  const ts = new Map(raw.map((r) => [(r as { id: string }).id, (r as { ts: number }).ts]));

  it('withSchema: valid records upcast, invalid ones dead letters with reason and position; read = emitted + deadLettered', async () => {
    const p = new Pipeline({ clock: new ManualClock(), batchSize: 2 });
    const out: unknown[] = [];
    const dead: DeadLetter[] = [];
    p.source(withSchema(fromArray(raw), orderPlaced), { timestamp: (o) => ts.get(o.id) as number, name: 'orders' }).sink(collect(out));
    p.deadLetters().sink(collect(dead));
    const summary = await p.run();
    expect(out).toEqual([
      { v: 3, id: 'a', amount: { value: 1, currency: 'EUR' }, channel: 'web' },
      { v: 3, id: 'b', amount: { value: 2, currency: 'EUR' }, channel: 'web' },
      { v: 3, id: 'e', amount: { value: 4, currency: 'GBP' }, channel: 'web' },
    ]);
    expect(summary.sources['orders']).toMatchObject({ read: 5, emitted: 3, deadLettered: 2 });
    expect(dead.map((d) => [d.reason, (d as { position?: unknown }).position, d.value])).toEqual([
      [expect.stringMatching(/^OrderPlaced v2: amount\.currency: /), { source: 'array', record: 2 }, raw[2]],
      ['OrderPlaced: version 7 is not declared (declared: 1, 2, 3)', { source: 'array', record: 3 }, raw[3]],
    ]);
  });

  it('withSchema awaits asynchronous validators', async () => {
    const even: StandardSchemaV1<unknown, number> = {
      '~standard': { version: 1, vendor: 'async', validate: async (v) => (typeof v === 'number' && v % 2 === 0 ? { value: v } : { issues: [{ message: 'odd', path: ['n'] }] }) },
    };
    const p = new Pipeline({ clock: new ManualClock() });
    const out: number[] = [];
    const dead: DeadLetter[] = [];
    async function* gen() { yield* [1, 2, 3, 4]; }
    p.source(withSchema(fromAsyncIterable(gen()), schema({ name: 'Even', versions: { 1: even } })), { timestamp: (n) => n }).sink(collect(out));
    p.deadLetters().sink(collect(dead));
    await p.run();
    expect(out).toEqual([2, 4]);
    expect(dead.map((d) => d.reason)).toEqual(['Even: matches no version (v1: n: odd)', 'Even: matches no version (v1: n: odd)']);
    expect(() => withSchema(fromArray([]), {} as never)).toThrow(/tidemark\.withSchema/);
  });

  it("validate(schema) for map with onError: 'dead-letter'", async () => {
    const p = new Pipeline({ clock: new ManualClock() });
    const out: unknown[] = [];
    const dead: DeadLetter[] = [];
    const checked = p.source(fromArray(raw), { timestamp: (r) => (r as { ts: number }).ts }).map(validate(orderPlaced), { onError: 'dead-letter', name: 'check' });
    checked.sink(collect(out));
    checked.deadLetters().sink(collect(dead));
    await p.run();
    expect(out).toHaveLength(3);
    expect(dead.map((d) => d.reason)).toEqual([
      expect.stringContaining('OrderPlaced v2: amount.currency'),
      expect.stringContaining('version 7 is not declared'),
    ]);
    expect(() => validate(orderPlaced)({ v: 7 })).toThrow(SchemaError);
  });
});
