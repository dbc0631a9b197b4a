/**
 * A seeded, deterministic Nexmark event generator: our own implementation of the published
 * event model (Apache Beam's `NexmarkGenerator`, the nexmark/nexmark generator used by Flink).
 *
 * - Event `n` (0-based event number = event id) is a Person, an Auction or a Bid by `n mod 50`:
 *   1 : 3 : 46.
 * - Person and auction ids count from 1000 in creation order. Bids go to a *hot* auction (the
 *   first of the latest block of 100 auctions) with probability 1/2 (`hotAuctionRatio` 2),
 *   otherwise to a random recent auction; bidders are hot (first of the latest block of 100
 *   people, + 1) with probability 3/4 (`hotBiddersRatio` 4); sellers likewise (`hotSellersRatio`
 *   4, first of the block). "Recent" means among the last 1000 people / 100 auctions, plus a
 *   lead of 10 ids not created yet — as in Beam.
 * - Prices are log-uniform: `round(10^(6·u) · 100)` cents, u uniform in [0, 1).
 * - String fields are random lower-case text; `extra` pads each event to the published average
 *   sizes (Person ≈ 200 B, Auction ≈ 500 B, Bid ≈ 100 B, plus the url for bids), ± 20 %.
 * - Event time: `baseTime + floor(floor(n × 1e6 / rate) µs / 1000)` ms (whole milliseconds).
 * - Out-of-order groups (`outOfOrderGroupSize` g > 1): within each full group of g event numbers
 *   the events are emitted in the permuted order `base + (i × 953) mod g` (Beam's rule), so an
 *   event is at most g − 1 positions (≈ g × 1000 / rate ms) away from its place.
 * - Each event is drawn from its own PRNG seeded by `(seed, n)`: the same seed and number give
 *   the same event whatever the emission order, so an out-of-order run holds exactly the events
 *   of the in-order run.
 *
 * Cost. Every string field is *picked* from a pool of 8 192 strings built once per generator
 * (from the seed, so runs stay deterministic) instead of being cut per event: lengths are drawn
 * uniformly over the same ranges when the pool is built, so the sizes above hold on average, and
 * generating an event costs a handful of PRNG draws plus one object (each event type is a class,
 * so all events of a type share one hidden class). No closure or string is allocated per event.
 * `extra` is sized from the pools' mean field sizes rather than per event, so an event's
 * `extra` does not shrink when its other strings happen to be long (the average is the same).
 */

import type { Auction, Bid, NexmarkEvent, Person } from './events.js';

/** Options of the generator; every field but `events` has Beam's default. */
export interface NexmarkOptions {
  /** Number of events to generate. */
  readonly events: number;
  /** PRNG seed (32-bit integer). Default 1. */
  readonly seed?: number;
  /** Events per second of event time. Default 10 000. */
  readonly rate?: number;
  /** Event time of event 0 (epoch ms). Default 1 700 000 000 000 (2023-11-14T22:13:20Z). */
  readonly baseTime?: number;
  /** Out-of-order group size; 1 (default) emits in event-number order. Must not be a multiple of 953. */
  readonly outOfOrderGroupSize?: number;
  /** 1 in `hotAuctionRatio` bids goes to a random auction, the rest to the hot one. Default 2. */
  readonly hotAuctionRatio?: number;
  /** 1 in `hotBiddersRatio` bids comes from a random person, the rest from the hot one. Default 4. */
  readonly hotBiddersRatio?: number;
  /** 1 in `hotSellersRatio` auctions is opened by a random person, the rest by the hot one. Default 4. */
  readonly hotSellersRatio?: number;
  /** How many of the latest people bid and sell. Default 1000. */
  readonly numActivePeople?: number;
  /** How many of the latest auctions receive random bids. Default 100. */
  readonly numInFlightAuctions?: number;
  /** Average sizes in bytes that `extra` pads to. Defaults 200, 500, 100. */
  readonly avgPersonByteSize?: number;
  readonly avgAuctionByteSize?: number;
  readonly avgBidByteSize?: number;
}

/** The validated options, every field present. */
export type NexmarkConfig = Required<NexmarkOptions>;

export const PERSON_PROPORTION = 1;
export const AUCTION_PROPORTION = 3;
export const BID_PROPORTION = 46;
export const PROPORTION_DENOMINATOR = PERSON_PROPORTION + AUCTION_PROPORTION + BID_PROPORTION;
export const FIRST_PERSON_ID = 1000;
export const FIRST_AUCTION_ID = 1000;
export const FIRST_CATEGORY_ID = 10;
export const NUM_CATEGORIES = 5;
/** Hot sellers, bidders and auctions come in blocks of this many ids. */
export const HOT_BLOCK = 100;
export const DEFAULT_BASE_TIME = 1_700_000_000_000;

const PERSON_ID_LEAD = 10;
const AUCTION_ID_LEAD = 10;
const HOT_CHANNELS_RATIO = 2;
const CHANNELS_NUMBER = 10_000;
const HOT_CHANNELS = ['Google', 'Facebook', 'Baidu', 'Apple'] as const;
const US_STATES = ['AZ', 'CA', 'ID', 'OR', 'WA', 'WY'] as const;
const US_CITIES = ['Phoenix', 'Los Angeles', 'San Francisco', 'Boise', 'Portland', 'Bend', 'Redmond', 'Seattle', 'Kent', 'Cheyenne'] as const;
const FIRST_NAMES = ['Peter', 'Paul', 'Luke', 'John', 'Saul', 'Vicky', 'Kate', 'Julie', 'Sarah', 'Deiter', 'Walter'] as const;
const LAST_NAMES = ['Shultz', 'Abrams', 'Spencer', 'White', 'Bartels', 'Walton', 'Smith', 'Jones', 'Noris'] as const;
const POOL_SIZE = 1 << 16;
/** Strings per field pool (a power of two: a pick is one PRNG draw and a mask). */
const PICK_POOL = 1 << 13;
const PICK_MASK = PICK_POOL - 1;
/** ln(10⁶): prices are e^(u·ln 10⁶) = 10^(6u) dollars. */
const LN_1E6 = Math.log(1e6);
const OUT_OF_ORDER_STRIDE = 953;

/** Validates generator options (errors name `nexmark.generator`) and fills in the defaults. */
export function nexmarkConfig(options: NexmarkOptions): NexmarkConfig {
  const where = 'nexmark.generator';
  if (options === null || typeof options !== 'object') throw new TypeError(`${where}: options must be an object`);
  const int = (name: keyof NexmarkOptions, v: number | undefined, fallback: number, min: number): number => {
    const n = v ?? fallback;
    if (!Number.isSafeInteger(n) || n < min) throw new RangeError(`${where}: ${name} must be an integer ≥ ${min}, got ${String(v)}`);
    return n;
  };
  const rate = options.rate ?? 10_000;
  if (typeof rate !== 'number' || !(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`${where}: rate must be a positive number of events per second, got ${String(options.rate)}`);
  const config: NexmarkConfig = {
    events: int('events', options.events, NaN, 0),
    seed: int('seed', options.seed, 1, -(2 ** 31)),
    rate,
    baseTime: int('baseTime', options.baseTime, DEFAULT_BASE_TIME, -8.64e15),
    outOfOrderGroupSize: int('outOfOrderGroupSize', options.outOfOrderGroupSize, 1, 1),
    hotAuctionRatio: int('hotAuctionRatio', options.hotAuctionRatio, 2, 1),
    hotBiddersRatio: int('hotBiddersRatio', options.hotBiddersRatio, 4, 1),
    hotSellersRatio: int('hotSellersRatio', options.hotSellersRatio, 4, 1),
    numActivePeople: int('numActivePeople', options.numActivePeople, 1000, 1),
    numInFlightAuctions: int('numInFlightAuctions', options.numInFlightAuctions, 100, 1),
    avgPersonByteSize: int('avgPersonByteSize', options.avgPersonByteSize, 200, 1),
    avgAuctionByteSize: int('avgAuctionByteSize', options.avgAuctionByteSize, 500, 1),
    avgBidByteSize: int('avgBidByteSize', options.avgBidByteSize, 100, 1),
  };
  if (config.outOfOrderGroupSize % OUT_OF_ORDER_STRIDE === 0) {
    throw new RangeError(`${where}: outOfOrderGroupSize must not be a multiple of ${OUT_OF_ORDER_STRIDE} (the permutation stride)`);
  }
  return config;
}

/** 0-based id of the last person created at or before event `n`. */
export function lastBase0PersonId(n: number): number {
  const epoch = Math.floor(n / PROPORTION_DENOMINATOR);
  let offset = n % PROPORTION_DENOMINATOR;
  if (offset >= PERSON_PROPORTION) offset = PERSON_PROPORTION - 1;
  return epoch * PERSON_PROPORTION + offset;
}

/** 0-based id of the last auction created at or before event `n` (−1 before the first). */
export function lastBase0AuctionId(n: number): number {
  let epoch = Math.floor(n / PROPORTION_DENOMINATOR);
  let offset = n % PROPORTION_DENOMINATOR;
  if (offset < PERSON_PROPORTION) {
    epoch--;
    offset = AUCTION_PROPORTION - 1;
  } else if (offset >= PERSON_PROPORTION + AUCTION_PROPORTION) {
    offset = AUCTION_PROPORTION - 1;
  } else {
    offset -= PERSON_PROPORTION;
  }
  return epoch * AUCTION_PROPORTION + offset;
}

/** The per-event PRNG (mulberry32), re-seeded from `(seed, n)` for every event. */
class EventRandom {
  private state = 0;

  constructor(private readonly seedMix: number) {}

  reset(n: number): void {
    // a 32-bit avalanche of the event number (and its high bits) with the seed
    let h = Math.imul((n >>> 0) ^ this.seedMix, 0x85ebca6b) ^ Math.floor(n / 4294967296);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    this.state = h >>> 0;
  }

  /** A uniform unsigned 32-bit integer. */
  uint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An index into a pick pool. */
  pick(): number {
    return this.uint32() & PICK_MASK;
  }
}

/** Reverses the 32 bits of `n` (Java's `Integer.reverse`), as a signed 32-bit integer. */
function reverseBits(n: number): number {
  let x = n >>> 0;
  let r = 0;
  for (let i = 0; i < 32; i++) {
    r = (r << 1) | (x & 1);
    x >>>= 1;
  }
  return r | 0;
}

/** A person event: a class so that every person shares one hidden class (fields in `Person`'s order). */
class PersonEvent implements Person {
  readonly type = 'person' as const;
  constructor(
    readonly id: number,
    readonly name: string,
    readonly emailAddress: string,
    readonly creditCard: string,
    readonly city: string,
    readonly state: string,
    readonly dateTime: number,
    readonly extra: string,
  ) {}
}

/** An auction event (one hidden class). */
class AuctionEvent implements Auction {
  readonly type = 'auction' as const;
  constructor(
    readonly id: number,
    readonly itemName: string,
    readonly description: string,
    readonly initialBid: number,
    readonly reserve: number,
    readonly dateTime: number,
    readonly expires: number,
    readonly seller: number,
    readonly category: number,
    readonly extra: string,
  ) {}
}

/** A bid event (one hidden class). */
class BidEvent implements Bid {
  readonly type = 'bid' as const;
  constructor(
    readonly auction: number,
    readonly bidder: number,
    readonly price: number,
    readonly channel: string,
    readonly url: string,
    readonly dateTime: number,
    readonly extra: string,
  ) {}
}

/** Mean length of a pool's strings. */
function meanLength(pool: readonly string[]): number {
  let sum = 0;
  for (const s of pool) sum += s.length;
  return pool.length === 0 ? 0 : sum / pool.length;
}

/**
 * The string pools of one generator, built once from the seed. Each pool holds `PICK_POOL`
 * strings whose lengths are drawn as the per-event draw would draw them.
 */
class StringPools {
  /** Random text (lower-case letters, a space about one character in 13). */
  readonly text: string;
  readonly names: readonly string[];
  readonly emails: readonly string[];
  readonly creditCards: readonly string[];
  readonly itemNames: readonly string[];
  readonly descriptions: readonly string[];
  readonly personExtras: readonly string[];
  readonly auctionExtras: readonly string[];
  readonly bidExtras: readonly string[];
  private readonly r: EventRandom;

  constructor(seedMix: number, c: NexmarkConfig) {
    const r = new EventRandom(seedMix ^ 0x7f4a7c15);
    this.r = r;
    r.reset(-1);
    const chars: string[] = [];
    for (let i = 0; i < POOL_SIZE; i++) chars.push(r.int(13) === 0 ? ' ' : String.fromCharCode(97 + r.int(26)));
    this.text = chars.join('');
    const names: string[] = [];
    for (const first of FIRST_NAMES) for (const last of LAST_NAMES) names.push(`${first} ${last}`);
    this.names = names;
    this.emails = this.pool(() => `${this.nextString(7)}@${this.nextString(5)}.com`);
    this.creditCards = this.pool(() => `${this.digits()} ${this.digits()} ${this.digits()} ${this.digits()}`);
    this.itemNames = this.pool(() => this.nextString(20));
    this.descriptions = this.pool(() => this.nextString(100));
    const meanCity = meanLength(US_CITIES);
    const meanState = meanLength(US_STATES);
    const personSize = 8 + meanLength(names) + meanLength(this.emails) + 19 + meanCity + meanState;
    const auctionSize = 8 + meanLength(this.itemNames) + meanLength(this.descriptions) + 40;
    this.personExtras = this.pool(() => this.nextExtra(personSize, c.avgPersonByteSize));
    this.auctionExtras = this.pool(() => this.nextExtra(auctionSize, c.avgAuctionByteSize));
    this.bidExtras = this.pool(() => this.nextExtra(32, c.avgBidByteSize));
  }

  /** `PICK_POOL` strings made by `make` (called at construction only). */
  private pool(make: () => string): string[] {
    const out: string[] = [];
    for (let i = 0; i < PICK_POOL; i++) out.push(make());
    return out;
  }

  private digits(): string {
    return String(this.r.int(10_000)).padStart(4, '0');
  }

  /** Exactly `length` characters of random text (a slice of `text`). */
  exactString(r: EventRandom, length: number): string {
    if (length <= 0) return '';
    const at = r.int(POOL_SIZE - length);
    return this.text.substring(at, at + length);
  }

  /** Random text of 3 … maxLength − 1 characters. */
  private nextString(maxLength: number): string {
    return this.exactString(this.r, 3 + this.r.int(maxLength - 3));
  }

  /** Padding that brings an event of `currentSize` bytes to `desiredAverageSize` on average (± 20 %). */
  private nextExtra(currentSize: number, desiredAverageSize: number): string {
    if (currentSize > desiredAverageSize) return '';
    const desired = Math.round(desiredAverageSize - currentSize);
    const delta = Math.round(desired * 0.2);
    return this.exactString(this.r, desired - delta + this.r.int(2 * delta + 1));
  }

  /** `https://www.nexmark.com/<5>/<5>/<5>/item.htm?query=1` with random parts drawn from `r`. */
  baseUrl(r: EventRandom): string {
    return `https://www.nexmark.com/${this.urlPart(r)}/${this.urlPart(r)}/${this.urlPart(r)}/item.htm?query=1`;
  }

  private urlPart(r: EventRandom): string {
    const at = Math.floor(r.next() * (POOL_SIZE - 5));
    return this.text.substring(at, at + 5).replaceAll(' ', '_');
  }
}

/**
 * The generator: `event(n)` is event number `n`; `eventNumberAt(i)` is the number of the `i`-th
 * event emitted (the out-of-order permutation); iterate it for the events in emission order.
 *
 * @example
 * const gen = new NexmarkGenerator({ events: 1_000_000, seed: 7 });
 * for (const e of gen) if (e.type === 'bid') total += e.price;
 */
export class NexmarkGenerator implements Iterable<NexmarkEvent> {
  readonly config: NexmarkConfig;
  private readonly random: EventRandom;
  private readonly pools: StringPools;
  private readonly channelNames: string[];
  private readonly channelUrls: string[];
  private readonly channelSeed: number;
  private readonly hotUrls: readonly string[];
  private readonly usPerEvent: number;
  /** Event numbers below this form full out-of-order groups. */
  private readonly permutedUpTo: number;
  /** Event-time span (ms) after an auction opens within which it expires: `horizon × 2`. */
  private readonly expiryEvents: number;

  constructor(options: NexmarkOptions) {
    this.config = nexmarkConfig(options);
    const { seed, rate, events, outOfOrderGroupSize: g } = this.config;
    this.usPerEvent = 1e6 / rate;
    this.permutedUpTo = Math.floor(events / g) * g;
    const seedMix = Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) >>> 0;
    this.random = new EventRandom(seedMix);
    this.pools = new StringPools(seedMix, this.config);
    const r = new EventRandom(seedMix ^ 0x3c6ef372);
    r.reset(-2);
    this.hotUrls = HOT_CHANNELS.map((_, i) => this.pools.baseUrl(r) + `&channel_id=${reverseBits(i)}`);
    this.channelNames = new Array<string>(CHANNELS_NUMBER).fill('');
    this.channelUrls = new Array<string>(CHANNELS_NUMBER).fill('');
    this.channelSeed = Math.imul(seed ^ 0x27d4eb2f, 0x165667b1) >>> 0;
    this.expiryEvents = Math.floor((this.config.numInFlightAuctions * PROPORTION_DENOMINATOR) / AUCTION_PROPORTION);
  }

  /** Number of the `i`-th event emitted: `i` itself, or its place in the out-of-order permutation. */
  eventNumberAt(i: number): number {
    const g = this.config.outOfOrderGroupSize;
    if (g === 1 || i >= this.permutedUpTo) return i;
    const base = i - (i % g);
    return base + ((i % g) * OUT_OF_ORDER_STRIDE) % g;
  }

  /** Event time of event number `n` (epoch ms). */
  timestampOf(n: number): number {
    return this.config.baseTime + Math.floor(Math.floor(n * this.usPerEvent) / 1000);
  }

  /** Event number `n`. */
  event(n: number): NexmarkEvent {
    const rem = n % PROPORTION_DENOMINATOR;
    const ts = this.timestampOf(n);
    this.random.reset(n);
    if (rem >= PERSON_PROPORTION + AUCTION_PROPORTION) return this.bid(n, ts);
    if (rem < PERSON_PROPORTION) return this.person(n, ts);
    return this.auction(n, ts);
  }

  /** Appends the `count` events emitted from position `from` (and their timestamps). */
  fill(from: number, count: number, values: NexmarkEvent[], timestamps: number[]): void {
    const end = from + count;
    for (let i = from; i < end; i++) {
      const e = this.event(this.eventNumberAt(i));
      values.push(e);
      timestamps.push(e.dateTime);
    }
  }

  /**
   * The `count` events emitted from position `from` and their timestamps, in arrays allocated
   * at their final size (what the fused source hands to the pipeline).
   */
  chunk(from: number, count: number): { values: NexmarkEvent[]; timestamps: number[] } {
    const values = new Array<NexmarkEvent>(count);
    const timestamps = new Array<number>(count);
    for (let k = 0; k < count; k++) {
      const e = this.event(this.eventNumberAt(from + k));
      values[k] = e;
      timestamps[k] = e.dateTime;
    }
    return { values, timestamps };
  }

  *[Symbol.iterator](): Iterator<NexmarkEvent> {
    for (let i = 0; i < this.config.events; i++) yield this.event(this.eventNumberAt(i));
  }

  /** The url of a (non-hot) channel: made once per channel number, from its own PRNG. */
  private channelUrl(channel: number): string {
    const url = this.channelUrls[channel] as string;
    if (url !== '') return url;
    const r = new EventRandom(this.channelSeed);
    r.reset(channel);
    const made = this.pools.baseUrl(r) + `&channel_id=${reverseBits(channel)}`;
    this.channelUrls[channel] = made;
    this.channelNames[channel] = `channel-${channel}`;
    return made;
  }

  // --- people, auctions, bids ---

  private price(): number {
    return Math.round(Math.exp(this.random.next() * LN_1E6) * 100);
  }

  private nextBase0PersonId(n: number): number {
    const numPeople = lastBase0PersonId(n) + 1;
    const active = Math.min(numPeople, this.config.numActivePeople);
    return numPeople - active + this.random.int(active + PERSON_ID_LEAD);
  }

  private nextBase0AuctionId(n: number): number {
    const maxAuction = lastBase0AuctionId(n);
    const minAuction = Math.max(maxAuction - this.config.numInFlightAuctions, 0);
    return minAuction + this.random.int(maxAuction - minAuction + 1 + AUCTION_ID_LEAD);
  }

  private person(n: number, ts: number): Person {
    const r = this.random;
    const p = this.pools;
    return new PersonEvent(
      lastBase0PersonId(n) + FIRST_PERSON_ID,
      p.names[r.int(p.names.length)] as string,
      p.emails[r.pick()] as string,
      p.creditCards[r.pick()] as string,
      US_CITIES[r.int(US_CITIES.length)] as string,
      US_STATES[r.int(US_STATES.length)] as string,
      ts,
      p.personExtras[r.pick()] as string,
    );
  }

  private auction(n: number, ts: number): Auction {
    const r = this.random;
    const c = this.config;
    const p = this.pools;
    const seller = (r.int(c.hotSellersRatio) > 0
      ? Math.floor(lastBase0PersonId(n) / HOT_BLOCK) * HOT_BLOCK
      : this.nextBase0PersonId(n)) + FIRST_PERSON_ID;
    const category = FIRST_CATEGORY_ID + r.int(NUM_CATEGORIES);
    const initialBid = this.price();
    // an auction runs until about when `numInFlightAuctions` more auctions have been opened (× 2, uniform)
    const horizon = this.timestampOf(n + this.expiryEvents) - ts;
    const expires = ts + 1 + r.int(Math.max(horizon * 2, 1));
    const reserve = initialBid + this.price();
    return new AuctionEvent(
      lastBase0AuctionId(n) + FIRST_AUCTION_ID,
      p.itemNames[r.pick()] as string,
      p.descriptions[r.pick()] as string,
      initialBid,
      reserve,
      ts,
      expires,
      seller,
      category,
      p.auctionExtras[r.pick()] as string,
    );
  }

  private bid(n: number, ts: number): Bid {
    const r = this.random;
    const c = this.config;
    // one draw decides hot auction, hot bidder, hot channel and which hot channel: each decision
    // takes the next "digit" of the uniform u in base `ratio` (u·k − ⌊u·k⌋ is uniform again)
    let u = r.next() * c.hotAuctionRatio;
    const hotAuction = u >= 1;
    u = (u - Math.floor(u)) * c.hotBiddersRatio;
    const hotBidder = u >= 1;
    u = (u - Math.floor(u)) * HOT_CHANNELS_RATIO;
    const hotChannel = u >= 1;
    u = (u - Math.floor(u)) * HOT_CHANNELS.length;
    const auction = (hotAuction
      ? Math.floor(lastBase0AuctionId(n) / HOT_BLOCK) * HOT_BLOCK
      : this.nextBase0AuctionId(n)) + FIRST_AUCTION_ID;
    const bidder = (hotBidder
      ? Math.floor(lastBase0PersonId(n) / HOT_BLOCK) * HOT_BLOCK + 1
      : this.nextBase0PersonId(n)) + FIRST_PERSON_ID;
    const price = this.price();
    let channel: string;
    let url: string;
    if (hotChannel) {
      const i = Math.floor(u);
      channel = HOT_CHANNELS[i] as string;
      url = this.hotUrls[i] as string;
    } else {
      const ch = r.int(CHANNELS_NUMBER);
      url = this.channelUrl(ch);
      channel = this.channelNames[ch] as string;
    }
    return new BidEvent(auction, bidder, price, channel, url, ts, this.pools.bidExtras[r.pick()] as string);
  }
}

/**
 * All events of a run, in emission order.
 *
 * @example
 * const events = generateEvents({ events: 100_000, seed: 42, outOfOrderGroupSize: 500 });
 */
export function generateEvents(options: NexmarkOptions): NexmarkEvent[] {
  const gen = new NexmarkGenerator(options);
  const out: NexmarkEvent[] = [];
  const ts: number[] = [];
  gen.fill(0, gen.config.events, out, ts);
  return out;
}

/**
 * The largest disorder of an out-of-order run: how far (ms) an event can be behind the largest
 * timestamp emitted before it. A watermark bound at least this large makes no event late.
 */
export function maxDisorderMs(options: NexmarkOptions): number {
  const c = nexmarkConfig(options);
  return Math.ceil(((c.outOfOrderGroupSize - 1) * 1000) / c.rate) + 1;
}

/** The largest amount (ms) by which an event is behind the largest timestamp before it. */
export function measuredDisorder(events: Iterable<{ readonly dateTime: number }>): number {
  let maxTs = -Infinity;
  let worst = 0;
  for (const e of events) {
    if (maxTs - e.dateTime > worst) worst = maxTs - e.dateTime;
    if (e.dateTime > maxTs) maxTs = e.dateTime;
  }
  return worst;
}
