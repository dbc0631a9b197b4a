/**
 * Invalid options are rejected when the plan is built (not when it runs), with a `PlanError`
 * whose message names the factory that rejected them.
 */
import { Temporal } from '@js-temporal/polyfill';
import { describe, expect, it } from 'vitest';
import {
  ManualClock,
  OrderingError,
  Pipeline,
  PlanError,
  TidemarkError,
  boundedOutOfOrderness,
  collect,
  count,
  fromArray,
  monotonic,
  session,
  sliding,
  tumbling,
  watermarkStrategy,
  type Duration,
} from 'tidemark';
import { TestStream } from 'tidemark/testing';

type Rec = { k: string; ts: number };
const recs: Rec[] = [{ k: 'a', ts: 1 }];

/** Expects `fn` to throw a PlanError whose message matches every pattern. */
function expectPlanError(fn: () => unknown, ...patterns: RegExp[]): PlanError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a PlanError to be thrown').toBeInstanceOf(PlanError);
  const err = caught as PlanError;
  expect(err).toBeInstanceOf(TidemarkError);
  expect(err).toBeInstanceOf(Error);
  expect(err.name).toBe('PlanError');
  for (const p of patterns) expect(err.message).toMatch(p);
  return err;
}

function keyed() {
  const p = new Pipeline({ clock: new ManualClock() });
  return { p, k: p.source(fromArray(recs), { timestamp: (r) => r.ts, name: 'recs' }).keyBy((r) => r.k) };
}

describe('tumbling(size, { offset })', () => {
  it.each<[string, Duration]>([
    ['zero', 0],
    ['negative', -1000],
    ['negative ISO', '-PT1S'],
    ['zero ISO', 'PT0S'],
  ])('rejects a %s size', (_, size) => {
    expectPlanError(() => tumbling(size), /tidemark\.tumbling/, /size/);
  });

  it.each<[number, number]>([
    [1000, 1000],
    [1000, -1000],
    [1000, 1500],
    [1000, -2500],
  ])('size %d rejects offset %d (|offset| must be < size)', (size, offset) => {
    expectPlanError(() => tumbling(size, { offset }), /tidemark\.tumbling/, /offset/);
  });

  it('accepts offsets strictly inside (-size, size)', () => {
    expect(tumbling(1000, { offset: 999 })).toMatchObject({ size: 1000, offset: 999 });
    expect(tumbling(1000, { offset: -999 })).toMatchObject({ size: 1000, offset: -999 });
    expect(tumbling(1000, { offset: 0 })).toMatchObject({ size: 1000, offset: 0 });
  });
});

describe('sliding(size, slide, { offset })', () => {
  it('rejects a slide larger than the size', () => {
    expectPlanError(() => sliding(1000, 2000), /tidemark\.sliding/, /slide/);
  });

  it.each<[number]>([[0], [-500]])('rejects slide %d', (slide) => {
    expectPlanError(() => sliding(1000, slide), /tidemark\.sliding/, /slide/);
  });

  it('rejects a non-positive size', () => {
    expectPlanError(() => sliding(0, 0), /tidemark\.sliding/);
    expectPlanError(() => sliding(-10, 5), /tidemark\.sliding/);
  });

  it.each<[number]>([[200], [-200], [450]])('rejects offset %d with slide 200 (|offset| must be < slide)', (offset) => {
    expectPlanError(() => sliding(1000, 200, { offset }), /tidemark\.sliding/, /offset/);
  });

  it('accepts slide = size, a slide that does not divide the size, and |offset| < slide', () => {
    expect(sliding(1000, 1000)).toMatchObject({ size: 1000, slide: 1000, offset: 0 });
    expect(sliding(1000, 300, { offset: -299 })).toMatchObject({ size: 1000, slide: 300, offset: -299 });
  });
});

describe('session(gap)', () => {
  it.each<[Duration]>([[0], [-1], ['PT0S'], ['-PT5M']])('rejects gap %s', (gap) => {
    expectPlanError(() => session(gap), /tidemark\.session/, /gap/);
  });
});

describe('bad duration values name the factory and the option', () => {
  it.each<[string, () => unknown, RegExp]>([
    ["tumbling('P1M')", () => tumbling('P1M'), /tidemark\.tumbling/],
    ["tumbling('P1Y')", () => tumbling('P1Y'), /tidemark\.tumbling/],
    ["tumbling('abc')", () => tumbling('abc'), /tidemark\.tumbling/],
    ["tumbling('')", () => tumbling(''), /tidemark\.tumbling/],
    ["tumbling('PT')", () => tumbling('PT'), /tidemark\.tumbling/],
    ["tumbling('5 minutes')", () => tumbling('5 minutes'), /tidemark\.tumbling/],
    ['tumbling(1.5)', () => tumbling(1.5), /tidemark\.tumbling/],
    ['tumbling(NaN)', () => tumbling(NaN), /tidemark\.tumbling/],
    ['tumbling(Infinity)', () => tumbling(Infinity), /tidemark\.tumbling/],
    ['tumbling(Temporal months)', () => tumbling(Temporal.Duration.from({ months: 1 })), /tidemark\.tumbling/],
    ["tumbling(1000, { offset: 'abc' })", () => tumbling(1000, { offset: 'abc' }), /tidemark\.tumbling: offset/],
    ["sliding('P1M', 1000)", () => sliding('P1M', 1000), /tidemark\.sliding: size/],
    ["sliding(1000, 'x')", () => sliding(1000, 'x'), /tidemark\.sliding: slide/],
    ["session('abc')", () => session('abc'), /tidemark\.session/],
    ["boundedOutOfOrderness('P1M')", () => boundedOutOfOrderness('P1M'), /tidemark\.boundedOutOfOrderness/],
    ["boundedOutOfOrderness(1000, { idleTimeout: 'abc' })", () => boundedOutOfOrderness(1000, { idleTimeout: 'abc' }), /tidemark\.boundedOutOfOrderness: idleTimeout/],
  ])('%s', (_, fn, where) => {
    expectPlanError(fn, where);
  });

  it('the message for a calendar unit explains why', () => {
    expectPlanError(() => tumbling('P1M'), /tidemark\.tumbling/, /P1M/);
  });
});

describe('window options', () => {
  it('rejects allowedLateness < 0 when .window() is called', () => {
    const { k } = keyed();
    expectPlanError(() => k.window(tumbling(1000), { allowedLateness: -1 }), /tidemark\.window/, /allowedLateness/);
    expectPlanError(() => k.window(tumbling(1000), { allowedLateness: '-PT1S' }), /tidemark\.window/, /allowedLateness/);
    expectPlanError(() => k.window(tumbling(1000), { allowedLateness: 'P1M' }), /tidemark\.window/, /allowedLateness/);
  });

  it('accepts allowedLateness 0 and ISO / Temporal values', () => {
    const { k } = keyed();
    expect(() => k.window(tumbling(1000), { allowedLateness: 0 })).not.toThrow();
    expect(() => k.window(tumbling(1000), { allowedLateness: 'PT1M' })).not.toThrow();
    expect(() => k.window(tumbling(1000), { allowedLateness: Temporal.Duration.from({ seconds: 5 }) })).not.toThrow();
  });

  it('rejects an unknown accumulation mode', () => {
    const { k } = keyed();
    expectPlanError(
      () => k.window(tumbling(1000), { accumulation: 'bogus' as never }),
      /tidemark\.window/,
      /accumulation/,
      /bogus/,
    );
  });

  it('rejects something that is not an assigner, and a malformed aggregate', () => {
    const { k } = keyed();
    expectPlanError(() => k.window({ kind: 'hopping' } as never), /tidemark\.window/);
    expectPlanError(() => k.window(tumbling(1000)).aggregate({ create: () => 0 } as never), /tidemark\.aggregate/);
  });

  it('rejects an invalid onError option, naming the operator factory', () => {
    const { k } = keyed();
    expectPlanError(() => k.map((r) => r, { onError: 'ignore' as never }), /tidemark\.map/, /onError/);
  });
});

describe('pipeline and source options', () => {
  it.each<[unknown]>([[0], [-1], [1.5], [NaN], ['10']])('Pipeline rejects batchSize %s', (batchSize) => {
    expectPlanError(() => new Pipeline({ batchSize: batchSize as number }), /tidemark\.Pipeline/, /batchSize/);
  });

  it.each<[unknown]>([[0], [-3], [2.5]])('fromArray rejects batchSize %s', (batchSize) => {
    expectPlanError(() => fromArray([1], { batchSize: batchSize as number }), /tidemark\.fromArray/, /batchSize/);
  });

  it('rejects a negative maxFutureSkew', () => {
    expectPlanError(() => new Pipeline({ maxFutureSkew: -1 }), /tidemark\.Pipeline/, /maxFutureSkew/);
    const p = new Pipeline({ clock: new ManualClock() });
    expectPlanError(() => p.source(fromArray(recs), { timestamp: (r) => r.ts, maxFutureSkew: '-PT1S' }), /tidemark\.source/, /maxFutureSkew/);
  });

  it('requires a timestamp extractor for a source without timestamps', () => {
    const p = new Pipeline({ clock: new ManualClock() });
    expectPlanError(() => p.source(fromArray(recs)), /tidemark\.source/, /timestamp/);
    expectPlanError(() => p.source(fromArray(recs), { timestamp: 'ts' as never }), /tidemark\.source/, /timestamp/);
  });

  it('rejects a watermark option on a TestStream (it scripts its own)', () => {
    const p = new Pipeline({ clock: new ManualClock() });
    const ts = TestStream.create<Rec>().addElements({ value: { k: 'a', ts: 1 }, timestamp: 1 });
    expectPlanError(() => p.source(ts, { watermark: monotonic() }), /tidemark\.source/, /watermark/);
    // and without the option it is fine
    expect(() => p.source(ts, { name: 'script' })).not.toThrow();
  });

  it('rejects an unknown ordering and a watermark that is not a strategy', () => {
    const p = new Pipeline({ clock: new ManualClock() });
    expectPlanError(() => p.source(fromArray(recs), { timestamp: (r) => r.ts, ordering: 'sorted' as never }), /tidemark\.source/, /ordering/);
    expectPlanError(() => p.source(fromArray(recs), { timestamp: (r) => r.ts, watermark: 5000 as never }), /tidemark\.source/, /watermark/);
  });

  it('rejects a source that is not a source', () => {
    const p = new Pipeline({ clock: new ManualClock() });
    expectPlanError(() => p.source(recs as never, { timestamp: (r: Rec) => r.ts }), /tidemark\.source/);
  });

  it('rejects watermark strategy options', () => {
    expectPlanError(() => boundedOutOfOrderness(-1), /tidemark\.boundedOutOfOrderness/);
    expectPlanError(() => boundedOutOfOrderness(1000, { idleTimeout: 0 }), /tidemark\.boundedOutOfOrderness/, /idleTimeout/);
    expectPlanError(() => monotonic({ idleTimeout: -5 }), /tidemark\.monotonic/, /idleTimeout/);
    expectPlanError(() => watermarkStrategy(() => ({ onRecord: (t: number) => t }), { period: 0 }), /tidemark\.watermarkStrategy/, /period/);
  });
});

describe('names', () => {
  it('rejects a duplicate source name', () => {
    const p = new Pipeline({ clock: new ManualClock() });
    p.source(fromArray(recs), { timestamp: (r) => r.ts, name: 'clicks' });
    expectPlanError(() => p.source(fromArray(recs), { timestamp: (r) => r.ts, name: 'clicks' }), /tidemark\.source/, /'clicks'/, /unique|already/);
  });

  it('rejects an operator or sink reusing a name from anywhere in the pipeline', () => {
    const p = new Pipeline({ clock: new ManualClock() });
    const s = p.source(fromArray(recs), { timestamp: (r) => r.ts, name: 'clicks' });
    expectPlanError(() => s.map((r) => r, { name: 'clicks' }), /tidemark\.map/, /'clicks'/);
    const m = s.map((r) => r, { name: 'step' });
    expectPlanError(() => m.filter(() => true, { name: 'step' }), /tidemark\.filter/, /'step'/);
    expectPlanError(() => m.keyBy((r) => r.k).window(tumbling(10), { name: 'step' }).aggregate(count()), /tidemark\.aggregate/, /'step'/);
    expectPlanError(() => m.sink(collect([]), { name: 'step' }), /tidemark\.sink/, /'step'/);
  });

  it('rejects an empty name', () => {
    const p = new Pipeline({ clock: new ManualClock() });
    expectPlanError(() => p.source(fromArray(recs), { timestamp: (r) => r.ts, name: '' }), /tidemark\.source/, /name/);
  });
});

describe('plan errors are thrown while building, before anything runs', () => {
  it('a builder that throws leaves a pipeline that still runs its valid part', async () => {
    const p = new Pipeline({ clock: new ManualClock() });
    const out: number[] = [];
    const s = p.source(fromArray([{ k: 'a', ts: 5 }]), { timestamp: (r) => r.ts, name: 's' });
    expect(() => s.keyBy((r) => r.k).window(tumbling(-5))).toThrow(PlanError);
    s.map((r) => r.ts).sink(collect(out));
    await p.run();
    expect(out).toEqual([5]);
  });

  it('running an empty pipeline or running twice is a PlanError', async () => {
    await expect(new Pipeline({ clock: new ManualClock() }).run()).rejects.toBeInstanceOf(PlanError);
    const p = new Pipeline({ clock: new ManualClock() });
    p.source(fromArray(recs), { timestamp: (r) => r.ts });
    await p.run();
    await expect(p.run()).rejects.toBeInstanceOf(PlanError);
  });

  it('OrderingError is a PlanError', () => {
    expect(new OrderingError('x')).toBeInstanceOf(PlanError);
  });
});
