/**
 * The Nexmark generator: deterministic per seed, the published proportions, ids, hot ratios,
 * sizes and timestamps; out-of-order groups that permute the same events within a bound; the
 * fused source and the JSON-lines writer give the same events.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline, collect } from 'tidemark';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import type { NexmarkEvent } from '../../benchmarks/nexmark/events.js';
import { FIRST_AUCTION_ID, FIRST_PERSON_ID, NexmarkGenerator, generateEvents, lastBase0PersonId, maxDisorderMs, measuredDisorder } from '../../benchmarks/nexmark/generator.js';
import { nexmarkSource, writeNexmarkJsonLines } from '../../benchmarks/nexmark/source.js';

const N = 50_000;
const events = generateEvents({ events: N, seed: 11 });
const jsonSize = (e: NexmarkEvent): number => JSON.stringify(e).length;
const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

describe('nexmark generator', () => {
  it('is deterministic: the same seed gives the same events, another seed other events', () => {
    expect(generateEvents({ events: 2_000, seed: 11 })).toEqual(events.slice(0, 2_000));
    const other = generateEvents({ events: 2_000, seed: 12 });
    expect(other).not.toEqual(events.slice(0, 2_000));
    expect(other.map((e) => e.type)).toEqual(events.slice(0, 2_000).map((e) => e.type)); // kinds follow the event number
  });

  it('emits Person : Auction : Bid in proportion 1 : 3 : 46 by event number, ids from 1000', () => {
    const kinds = events.slice(0, 50).map((e) => e.type);
    expect(kinds.slice(0, 4)).toEqual(['person', 'auction', 'auction', 'auction']);
    expect(kinds.slice(4).every((k) => k === 'bid')).toBe(true);
    const persons = events.filter((e) => e.type === 'person');
    const auctions = events.filter((e) => e.type === 'auction');
    expect(persons.length).toBe(N / 50);
    expect(auctions.length).toBe((3 * N) / 50);
    expect(persons.map((p) => p.id)).toEqual(persons.map((_, i) => FIRST_PERSON_ID + i));
    expect(auctions.map((a) => a.id)).toEqual(auctions.map((_, i) => FIRST_AUCTION_ID + i));
    expect(lastBase0PersonId(149)).toBe(2);
  });

  it('has hot auctions (1/2 of bids), hot bidders (3/4) and hot sellers (3/4) in blocks of 100', () => {
    const gen = new NexmarkGenerator({ events: N, seed: 11 });
    let hotAuction = 0;
    let hotBidder = 0;
    let bids = 0;
    let hotSeller = 0;
    let auctions = 0;
    for (let n = 0; n < N; n++) {
      const e = gen.event(n);
      const people = Math.floor(n / 50) + 1;
      const lastAuction = Math.floor(n / 50) * 3 + Math.min(Math.max((n % 50) - 1, 0), 2) - (n % 50 === 0 ? 1 : 0);
      if (e.type === 'bid') {
        bids++;
        if (e.auction === Math.floor(lastAuction / 100) * 100 + FIRST_AUCTION_ID) hotAuction++;
        if (e.bidder === Math.floor((people - 1) / 100) * 100 + 1 + FIRST_PERSON_ID) hotBidder++;
      } else if (e.type === 'auction') {
        auctions++;
        if (e.seller === Math.floor((people - 1) / 100) * 100 + FIRST_PERSON_ID) hotSeller++;
      }
    }
    // a random pick can land on the hot id too, so the shares are slightly above 1/2 and 3/4
    expect(hotAuction / bids).toBeGreaterThan(0.49);
    expect(hotAuction / bids).toBeLessThan(0.56);
    expect(hotBidder / bids).toBeGreaterThan(0.74);
    expect(hotBidder / bids).toBeLessThan(0.8);
    expect(hotSeller / auctions).toBeGreaterThan(0.72);
    expect(hotSeller / auctions).toBeLessThan(0.8);
  });

  it('pads events to the published average sizes and draws log-uniform prices', () => {
    const persons = events.filter((e) => e.type === 'person');
    const auctions = events.filter((e) => e.type === 'auction');
    const bids = events.filter((e) => e.type === 'bid');
    // the JSON text adds field names; the payload (field values) is what the sizes are about
    const payload = (e: NexmarkEvent): number => Object.values(e).reduce<number>((s, v) => s + (typeof v === 'string' ? v.length : 8), 0) - 8;
    expect(mean(persons.map(payload))).toBeGreaterThan(180);
    expect(mean(persons.map(payload))).toBeLessThan(230);
    expect(mean(auctions.map(payload))).toBeGreaterThan(460);
    expect(mean(auctions.map(payload))).toBeLessThan(540);
    expect(mean(bids.map((b) => payload(b) - b.url.length - b.channel.length))).toBeGreaterThan(90);
    expect(mean(bids.map((b) => payload(b) - b.url.length - b.channel.length))).toBeLessThan(110);
    expect(mean(events.map(jsonSize))).toBeGreaterThan(100);
    // log-uniform over [1 $, 1 M $]: a sixth of the prices in each decade
    const decades = [0, 0, 0, 0, 0, 0];
    for (const b of bids) decades[Math.min(5, Math.floor(Math.log10(b.price / 100)))]! += 1;
    for (const d of decades) expect(d / bids.length).toBeCloseTo(1 / 6, 1);
  });

  it('stamps event n at base + floor(n × 1e6 / rate µs) in whole ms', () => {
    const gen = new NexmarkGenerator({ events: 10, rate: 3_000, baseTime: 1_000 });
    expect([0, 1, 2, 3, 4, 3_000].map((n) => gen.timestampOf(n))).toEqual([1_000, 1_000, 1_000, 1_001, 1_001, 2_000]);
    expect(events[0]?.dateTime).toBe(1_700_000_000_000);
    expect(events.every((e, i) => e.dateTime === 1_700_000_000_000 + Math.floor(i / 10))).toBe(true);
  });

  it('out-of-order groups permute the same events within the declared bound', () => {
    const options = { events: N + 123, seed: 11, rate: 1_000, outOfOrderGroupSize: 400 };
    const shuffled = generateEvents(options);
    const ordered = generateEvents({ ...options, outOfOrderGroupSize: 1 });
    expect(shuffled).not.toEqual(ordered);
    const key = (e: NexmarkEvent): string => JSON.stringify(e);
    expect(shuffled.map(key).sort()).toEqual(ordered.map(key).sort());
    const worst = measuredDisorder(shuffled);
    expect(measuredDisorder(ordered)).toBe(0);
    expect(worst).toBeGreaterThan(100);
    expect(worst).toBeLessThan(maxDisorderMs(options));
  });

  it('validates its options, naming the function', () => {
    expect(() => generateEvents({ events: -1 })).toThrow(/nexmark\.generator: events/);
    expect(() => generateEvents({ events: 10, rate: 0 })).toThrow(/nexmark\.generator: rate/);
    expect(() => generateEvents({ events: 10, outOfOrderGroupSize: 953 })).toThrow(/multiple of 953/);
    expect(() => nexmarkSource({ events: 10, batchSize: 0 })).toThrow(/nexmarkSource: batchSize/);
  });

  it('as a fused source gives the same events, with their timestamps', async () => {
    const out: NexmarkEvent[] = [];
    const p = new Pipeline({ batchSize: 333 });
    p.source(nexmarkSource({ events: 5_000, seed: 11 }), { name: 'nexmark' }).sink(collect(out));
    const summary = await p.run();
    expect(out).toEqual(events.slice(0, 5_000));
    expect(summary.sources['nexmark']?.read).toBe(5_000);
  });

  it('writes JSON lines that DuckDB reads back as the same events', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nexmark-'));
    try {
      const file = join(dir, 'events.jsonl');
      const written = await writeNexmarkJsonLines(file, { events: 5_000, seed: 11 });
      expect(written.events).toBe(5_000);
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      const r = await c.runAndReadAll(`SELECT type, count(*)::INTEGER, sum(coalesce(price, 0))::DOUBLE, min("dateTime")::DOUBLE FROM read_json_auto('${file}', format = 'newline_delimited') GROUP BY type ORDER BY type`);
      const bids = events.slice(0, 5_000).filter((e) => e.type === 'bid');
      expect(r.getRowsJS()).toEqual([
        ['auction', 300, 0, 1_700_000_000_000],
        ['bid', 4_600, bids.reduce((s, b) => s + b.price, 0), 1_700_000_000_000],
        ['person', 100, 0, 1_700_000_000_000],
      ]);
      c.closeSync();
      db.closeSync();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
