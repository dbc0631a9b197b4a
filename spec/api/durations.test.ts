/**
 * Durations: milliseconds, ISO-8601 strings and Temporal.Duration objects are interchangeable,
 * converted once when the plan is built.
 */
import { Temporal } from '@js-temporal/polyfill';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ManualClock,
  Pipeline,
  PlanError,
  collect,
  count,
  fromArray,
  session,
  sliding,
  toMillis,
  tumbling,
  type Duration,
  type WindowAssigner,
  type WindowResult,
} from 'tidemark';

type Rec = { k: string; ts: number };

// Records spread over a few hours, including negative timestamps.
const records: Rec[] = [];
for (let i = -40; i < 200; i++) records.push({ k: i % 3 === 0 ? 'a' : 'b', ts: i * 97_331 + (i % 7) * 1_013 });

async function windowsOf(assigner: WindowAssigner<Rec>, allowedLateness?: Duration): Promise<WindowResult<string, number>[]> {
  const out: WindowResult<string, number>[] = [];
  const p = new Pipeline({ clock: new ManualClock() });
  p.source(fromArray(records), { timestamp: (r) => r.ts })
    .keyBy((r) => r.k)
    .window(assigner, allowedLateness === undefined ? {} : { allowedLateness })
    .aggregate(count())
    .sink(collect(out));
  await p.run();
  return out;
}

describe('the same windows from ms, ISO-8601 and Temporal.Duration', () => {
  it('tumbling 5 minutes', async () => {
    const expected = await windowsOf(tumbling(300_000));
    expect(expected.length).toBeGreaterThan(10);
    expect(expected.every((r) => r.window.end - r.window.start === 300_000 && r.window.start % 300_000 === 0)).toBe(true);
    expect(await windowsOf(tumbling('PT5M'))).toEqual(expected);
    expect(await windowsOf(tumbling('pt5m'))).toEqual(expected);
    expect(await windowsOf(tumbling('PT300S'))).toEqual(expected);
    expect(await windowsOf(tumbling(Temporal.Duration.from({ minutes: 5 })))).toEqual(expected);
    expect(await windowsOf(tumbling(Temporal.Duration.from('PT5M')))).toEqual(expected);
  });

  it('tumbling with a negative ISO offset (-PT1S) equals offset -1000', async () => {
    const expected = await windowsOf(tumbling(60_000, { offset: -1000 }));
    expect(expected.every((r) => ((r.window.start % 60_000) + 60_000) % 60_000 === 59_000)).toBe(true);
    expect(await windowsOf(tumbling('PT1M', { offset: '-PT1S' }))).toEqual(expected);
    expect(await windowsOf(tumbling(Temporal.Duration.from({ minutes: 1 }), { offset: Temporal.Duration.from({ seconds: -1 }) }))).toEqual(expected);
  });

  it('sliding with fractional seconds (PT0.5S slide)', async () => {
    const expected = await windowsOf(sliding(1_500, 500));
    expect(await windowsOf(sliding('PT1.5S', 'PT0.5S'))).toEqual(expected);
    expect(await windowsOf(sliding(Temporal.Duration.from({ seconds: 1, milliseconds: 500 }), Temporal.Duration.from({ milliseconds: 500 })))).toEqual(expected);
  });

  it('session gap and allowed lateness', async () => {
    const expected = await windowsOf(session(3_600_000), 60_000);
    expect(await windowsOf(session('PT1H'), 'PT1M')).toEqual(expected);
    expect(await windowsOf(session(Temporal.Duration.from({ hours: 1 })), Temporal.Duration.from({ minutes: 1 }))).toEqual(expected);
  });

  it('days and hours: P1DT2H', async () => {
    expect(toMillis('P1DT2H', 'test')).toBe(93_600_000);
    expect(tumbling('P1DT2H')).toEqual(tumbling(93_600_000));
    expect(tumbling(Temporal.Duration.from({ days: 1, hours: 2 }))).toEqual(tumbling(93_600_000));
  });
});

describe('toMillis', () => {
  it.each<[Duration, number]>([
    [5_000, 5_000],
    ['PT5M', 300_000],
    ['PT0.5S', 500],
    ['PT0,5S', 500],
    ['P1DT2H', 93_600_000],
    ['-PT1S', -1_000],
    ['+PT1S', 1_000],
    ['PT1H30M', 5_400_000],
    ['P2W', 1_209_600_000],
    ['PT0S', 0],
  ])('%s → %d ms', (d, ms) => {
    expect(toMillis(d, 'test')).toBe(ms);
  });

  it('reads short forms: 500ms, 10s, 1.5s, 5m, 1h, 2d', () => {
    expect(['500ms', '10s', '1.5s', '5m', '1h', '2d'].map((d) => toMillis(d, 'x'))).toEqual([500, 10_000, 1_500, 300_000, 3_600_000, 172_800_000]);
    expect(() => toMillis('10 s', 'x')).toThrow(/cannot read duration "10 s"/);
    expect(() => toMillis('1.0001ms', 'x')).toThrow(/not a whole number/);
  });

  it('never returns -0', () => {
    expect(Object.is(toMillis('-PT0S', 'test'), 0)).toBe(true);
    expect(Object.is(toMillis(-0, 'test'), 0)).toBe(true);
  });

  it('names the caller in its PlanError', () => {
    expect(() => toMillis('abc', 'myFactory: size')).toThrow(PlanError);
    expect(() => toMillis('abc', 'myFactory: size')).toThrow(/myFactory: size/);
    expect(() => toMillis('P1M', 'x')).toThrow(PlanError);
    expect(() => toMillis(Temporal.Duration.from({ years: 1 }), 'x')).toThrow(PlanError);
  });

  // Time-only durations with millisecond precision, possibly negative.
  const timeOnly = fc
    .record({
      hours: fc.integer({ min: 0, max: 10_000 }),
      minutes: fc.integer({ min: 0, max: 10_000 }),
      seconds: fc.integer({ min: 0, max: 100_000 }),
      milliseconds: fc.integer({ min: 0, max: 999 }),
      negative: fc.boolean(),
    })
    .map(({ negative, ...f }) => {
      const s = negative ? -1 : 1;
      return Temporal.Duration.from({ hours: s * f.hours, minutes: s * f.minutes, seconds: s * f.seconds, milliseconds: s * f.milliseconds });
    });

  it('agrees with Temporal.Duration.total(milliseconds) on ISO strings and Temporal objects', () => {
    fc.assert(
      fc.property(timeOnly, (d) => {
        const iso = d.toString();
        const expected = Temporal.Duration.from(iso).total({ unit: 'milliseconds' });
        expect(toMillis(iso, 'prop')).toBe(expected);
        expect(toMillis(d, 'prop')).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with Temporal on hand-written ISO strings (fraction on the smallest unit)', () => {
    const written = fc
      .record({
        h: fc.option(fc.integer({ min: 0, max: 500 }), { nil: undefined }),
        m: fc.option(fc.integer({ min: 0, max: 500 }), { nil: undefined }),
        s: fc.option(fc.integer({ min: 0, max: 5000 }), { nil: undefined }),
        frac: fc.option(fc.integer({ min: 0, max: 999 }), { nil: undefined }),
        sign: fc.constantFrom('', '-', '+'),
      })
      .filter((r) => r.h !== undefined || r.m !== undefined || r.s !== undefined)
      .map((r) => {
        let t = '';
        if (r.h !== undefined) t += `${r.h}H`;
        if (r.m !== undefined) t += `${r.m}M`;
        if (r.s !== undefined) t += r.frac === undefined ? `${r.s}S` : `${r.s}.${String(r.frac).padStart(3, '0')}S`;
        return `${r.sign}PT${t}`;
      });
    fc.assert(
      fc.property(written, (iso) => {
        expect(toMillis(iso, 'prop')).toBe(Temporal.Duration.from(iso).total({ unit: 'milliseconds' }));
      }),
      { numRuns: 500 },
    );
  });

  it('treats a sub-millisecond duration the same whether written as a string or a Temporal.Duration', () => {
    // 'PT0.0005S' is half a millisecond: as a Temporal.Duration it is rejected (not whole ms);
    // the same value as an ISO string must not silently become a different duration.
    const iso = 'PT0.0005S';
    const fromObject = (() => {
      try {
        return toMillis(Temporal.Duration.from(iso), 'x');
      } catch (e) {
        return e instanceof PlanError ? 'PlanError' : e;
      }
    })();
    const fromString = (() => {
      try {
        return toMillis(iso, 'x');
      } catch (e) {
        return e instanceof PlanError ? 'PlanError' : e;
      }
    })();
    expect(fromObject).toBe('PlanError');
    expect(fromString).toBe(fromObject);
  });
});
