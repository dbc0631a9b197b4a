/**
 * Calendar windows: local days, weeks, months and years in IANA zones — DST days of 23, 24.5 and
 * 25 hours, a zone that skipped a day — plus the properties that every instant falls in exactly
 * one window and consecutive windows tile time.
 */
import { Temporal } from '@js-temporal/polyfill';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PlanError, type Stream, calendar, count } from 'tidemark';
import { harness } from 'tidemark/testing';

const H = 3_600_000;
const ms = (iso: string): number => Temporal.Instant.from(iso).epochMilliseconds;

/** The window a single record lands in, through the real operator. */
function windowOf(unit: 'day' | 'week' | 'month' | 'year', timeZone: string, t: number, weekStartsOn?: number) {
  const h = harness((input: Stream<number>) =>
    input.keyBy(() => 'k').window(calendar(unit, weekStartsOn === undefined ? { timeZone } : { timeZone, weekStartsOn })).aggregate(count()));
  h.addElement(1, t);
  h.finish();
  const [r] = h.takeOutput();
  return r?.window as { start: number; end: number };
}

describe('calendar windows', () => {
  it('Berlin days across DST are 23 and 25 hours long', () => {
    const spring = windowOf('day', 'Europe/Berlin', ms('2024-03-31T12:00:00Z'));
    expect(spring).toEqual({ start: ms('2024-03-30T23:00:00Z'), end: ms('2024-03-31T22:00:00Z') });
    expect(spring.end - spring.start).toBe(23 * H);
    const autumn = windowOf('day', 'Europe/Berlin', ms('2024-10-27T12:00:00Z'));
    expect(autumn.end - autumn.start).toBe(25 * H);
  });

  it('a half-hour DST zone (Lord Howe) has a 24.5-hour day', () => {
    const w = windowOf('day', 'Australia/Lord_Howe', ms('2024-04-07T06:00:00Z'));
    expect(w.end - w.start).toBe(24.5 * H);
  });

  it('Pacific/Apia skipped 2011-12-30: the 29th ends where the 31st begins', () => {
    const d29 = windowOf('day', 'Pacific/Apia', ms('2011-12-29T12:00:00-10:00'));
    const d31 = windowOf('day', 'Pacific/Apia', ms('2011-12-31T12:00:00+14:00'));
    expect(d29.end).toBe(d31.start);
    expect(d29.end - d29.start).toBe(24 * H);
    expect(d31.start).toBe(ms('2011-12-31T00:00:00+14:00'));
  });

  it('weeks start on the configured day; months and years follow the calendar', () => {
    const t = ms('2024-02-15T10:00:00Z'); // a Thursday
    expect(windowOf('week', 'UTC', t)).toEqual({ start: ms('2024-02-12T00:00:00Z'), end: ms('2024-02-19T00:00:00Z') });
    expect(windowOf('week', 'UTC', t, 7)).toEqual({ start: ms('2024-02-11T00:00:00Z'), end: ms('2024-02-18T00:00:00Z') });
    expect(windowOf('month', 'UTC', t)).toEqual({ start: ms('2024-02-01T00:00:00Z'), end: ms('2024-03-01T00:00:00Z') });
    expect(windowOf('year', 'America/New_York', t)).toEqual({ start: ms('2024-01-01T05:00:00Z'), end: ms('2025-01-01T05:00:00Z') });
  });

  it('every instant falls in exactly one window, and consecutive windows tile time', () => {
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Pacific/Apia', 'Asia/Kolkata'];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.constantFrom<'day' | 'week' | 'month' | 'year'>('day', 'week', 'month', 'year'),
        fc.integer({ min: ms('1995-01-01T00:00:00Z'), max: ms('2040-01-01T00:00:00Z') }),
        (zone, unit, t) => {
          const w = windowOf(unit, zone, t);
          expect(w.start <= t && t < w.end).toBe(true);
          expect(windowOf(unit, zone, w.end)).toMatchObject({ start: w.end });
          expect(windowOf(unit, zone, w.start - 1)).toMatchObject({ end: w.start });
          expect(windowOf(unit, zone, w.end - 1)).toEqual(w);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('counts per local day through a pipeline, firing at each local midnight', () => {
    const h = harness((input: Stream<string>) => input.keyBy((u) => u).window(calendar('day', { timeZone: 'Europe/Berlin' })).aggregate(count()));
    h.addElement('u', ms('2024-03-30T22:30:00Z')); // 23:30 local on the 30th
    h.addElement('u', ms('2024-03-30T23:30:00Z')); // 00:30 local on the 31st
    h.advanceWatermarkTo(ms('2024-03-30T23:00:00Z') - 1);
    expect(h.takeOutput().map((r) => [r.window.start, r.value])).toEqual([[ms('2024-03-29T23:00:00Z'), 1]]);
    h.finish();
    expect(h.takeOutput().map((r) => [r.window.end - r.window.start, r.value])).toEqual([[23 * H, 1]]);
  });

  it('rejects unknown zones and units when the plan is built', () => {
    expect(() => calendar('day', { timeZone: 'Mars/Olympus' })).toThrow(PlanError);
    expect(() => calendar('fortnight' as 'day', { timeZone: 'UTC' })).toThrow(/unit must be one of/);
    expect(() => calendar('week', { timeZone: 'UTC', weekStartsOn: 0 })).toThrow(/weekStartsOn/);
  });
});
