/**
 * The Nexmark queries as ordinary Tidemark pipelines, written with the public API the way a user
 * would write them (no private fast paths). Each takes the stream of all events (timestamps and
 * watermark set by the caller's source) and returns a stream of plain result rows.
 *
 * | query | what | how |
 * | --- | --- | --- |
 * | q0 | pass-through | `map` of every event |
 * | q1 | currency conversion | bids, `price × 89 / 100` (integer, as Beam) |
 * | q2 | selection | bids with `auction mod 123 = 0` |
 * | q4 | average winning price per category | winning bid of each closed auction (keyed process function), then the mean per category in hop windows 10 s / 5 s (Beam's definition) |
 * | q5 | hot items | bids per auction in hop windows 10 s / 2 s; per window, the auctions with the maximum count (ties all kept) |
 * | q7 | highest bid | per tumbling 10 s window, the bids with the highest price (ties all kept) |
 * | q8 | new users | people who opened an auction in the 10 s tumbling window they registered in (window join) |
 * | q11 | user sessions | bids per bidder per session (gap 10 s) |
 * | q12 | processing-time windows | bids per bidder per tumbling 10 s window of processing time (the injected clock) |
 *
 * Window semantics are Tidemark's (docs/semantics.md): half-open `[start, end)`, sessions merge
 * on strict overlap (records exactly a gap apart are separate sessions, as in Beam).
 */
import { count, listState, mean, session, sliding, tumbling, valueState } from 'tidemark';
import type { Aggregate, Stream } from 'tidemark';
import { type Auction, type Bid, type NexmarkEvent, isAuction, isBid, isPerson } from './events.js';

/** Hop window of q5. */
export const Q5_SIZE = 10_000;
export const Q5_SLIDE = 2_000;
/** Tumbling window of q7, q8 and q12; session gap of q11. */
export const WINDOW = 10_000;
/** Hop window of q4 (Beam's defaults `windowSizeSec` 10, `windowPeriodSec` 5). */
export const Q4_SIZE = 10_000;
export const Q4_SLIDE = 5_000;
/** q2 keeps the bids on auctions whose id is a multiple of this. */
export const AUCTION_SKIP = 123;

/** q1's result: a bid with its price converted to euros (cents, rounded down). */
export type Q1Row = Omit<Bid, 'type'>;
/** q2's result. */
export interface Q2Row {
  readonly auction: number;
  readonly price: number;
}
/** The winning bid of a closed auction (q4's first stage), stamped `expires − 1`. */
export interface WinningBid {
  readonly auction: number;
  readonly category: number;
  readonly price: number;
  readonly bidder: number;
  readonly dateTime: number;
  readonly expires: number;
}
/** q4's result: the mean winning price of a category's auctions that closed in the hop window `[start, end)`. */
export interface Q4Row {
  readonly category: number;
  readonly average: number;
  readonly start: number;
  readonly end: number;
}
/** q5's result: an auction with the most bids in the hop window `[start, end)`. */
export interface Q5Row {
  readonly auction: number;
  readonly count: number;
  readonly start: number;
  readonly end: number;
}
/** q7's result: a bid with the highest price in its tumbling window. */
export interface Q7Row {
  readonly auction: number;
  readonly price: number;
  readonly bidder: number;
  readonly dateTime: number;
  readonly extra: string;
  readonly start: number;
  readonly end: number;
}
/** q8's result: a person who opened an auction in the window they registered in. */
export interface Q8Row {
  readonly id: number;
  readonly name: string;
  readonly start: number;
}
/** q11's and q12's result: bids of a bidder in a session / processing-time window. */
export interface BidderCount {
  readonly bidder: number;
  readonly count: number;
  readonly start: number;
  readonly end: number;
}

/** q0: every event, passed through a `map`. */
export function q0(events: Stream<NexmarkEvent>): Stream<NexmarkEvent> {
  return events.map((e) => e, { name: 'q0' });
}

/** q1: bid prices converted from dollars to euros. */
export function q1(events: Stream<NexmarkEvent>): Stream<Q1Row> {
  return events
    .filter(isBid)
    .map((b): Q1Row => ({ auction: b.auction, bidder: b.bidder, price: Math.floor((b.price * 89) / 100), channel: b.channel, url: b.url, dateTime: b.dateTime, extra: b.extra }), { name: 'q1' });
}

/** q2: the bids on a few auctions (`auction mod 123 = 0`). */
export function q2(events: Stream<NexmarkEvent>): Stream<Q2Row> {
  return events
    .filter(isBid)
    .filter((b) => b.auction % AUCTION_SKIP === 0)
    .map((b): Q2Row => ({ auction: b.auction, price: b.price }), { name: 'q2' });
}

const isAuctionOrBid = (e: NexmarkEvent): e is Auction | Bid => e.type !== 'person';

const winningState = { auction: valueState<Auction>(), best: valueState<Bid>(), early: listState<Bid>() };

/** Beam's `PRICE_THEN_DESCENDING_TIME`: the higher price wins, then the earlier bid. */
function beats(b: Bid, best: Bid | undefined): boolean {
  return best === undefined || b.price > best.price || (b.price === best.price && b.dateTime < best.dateTime);
}

/** A bid counts for an auction when it is placed while the auction is open and meets the reserve. */
function qualifies(b: Bid, a: Auction): boolean {
  return b.dateTime >= a.dateTime && b.dateTime < a.expires && b.price >= a.reserve;
}

/**
 * Winning bids (Beam's `WinningBids`): per auction, the highest bid placed in
 * `[auction.dateTime, auction.expires)` with `price ≥ reserve` (ties: the earliest), emitted when
 * the auction closes — when the watermark reaches `expires − 1`, so every bid that could count
 * has arrived — with timestamp `expires − 1`. Auctions without such a bid emit nothing.
 *
 * A keyed process function over auctions and bids keyed by auction id: the auction's event-time
 * timer closes it; a bid that arrives before its auction (disordered input, or an id not
 * created yet) waits in list state until the watermark passes it — no on-time auction that it
 * could belong to can arrive after that.
 */
export function winningBids(events: Stream<NexmarkEvent>): Stream<WinningBid> {
  return events
    .filter(isAuctionOrBid)
    .keyBy((e) => (e.type === 'auction' ? e.id : e.auction))
    .process<WinningBid, typeof winningState>({
      state: winningState,
      onRecord(e, ctx) {
        const s = ctx.state;
        if (e.type === 'auction') {
          s.auction.set(e);
          ctx.timers.registerEventTime(e.expires - 1);
          if (s.early.size === 0) return;
          let best = s.best.get();
          for (const b of s.early.get()) {
            if (b.dateTime !== e.expires - 1) ctx.timers.deleteEventTime(b.dateTime);
            if (qualifies(b, e) && beats(b, best)) best = b;
          }
          s.early.clear();
          if (best !== undefined) s.best.set(best);
          return;
        }
        const a = s.auction.get();
        if (a !== undefined) {
          if (qualifies(e, a) && beats(e, s.best.get())) s.best.set(e);
        } else if (e.dateTime > ctx.watermark) {
          s.early.add(e);
          ctx.timers.registerEventTime(e.dateTime);
        }
      },
      onTimer(timer, ctx) {
        const s = ctx.state;
        const a = s.auction.get();
        if (a !== undefined) {
          if (timer.timestamp < a.expires - 1) return;
          const b = s.best.get();
          if (b !== undefined) ctx.emit({ auction: a.id, category: a.category, price: b.price, bidder: b.bidder, dateTime: b.dateTime, expires: a.expires }, a.expires - 1);
          s.auction.clear();
          s.best.clear();
          return;
        }
        // bids that waited for an auction that never came (in time): drop the ones now passed
        const keep = s.early.get().filter((b) => b.dateTime > timer.timestamp);
        s.early.clear();
        for (const b of keep) s.early.add(b);
      },
    }, { name: 'q4.winning' });
}

/**
 * q4: average winning price per category — Beam's definition: the winning bids of closed
 * auctions (`winningBids`), keyed by the auction's category, averaged in hop windows of 10 s
 * every 5 s over the auctions' closing times. (nexmark/nexmark's SQL instead keeps one running
 * average per category over all auctions, without the reserve; see benchmarks/README.md.)
 */
export function q4(events: Stream<NexmarkEvent>): Stream<Q4Row> {
  return winningBids(events)
    .keyBy((w) => w.category)
    .window(sliding(Q4_SIZE, Q4_SLIDE), { name: 'q4.average' })
    .aggregate(mean((w: WinningBid) => w.price))
    .map((r): Q4Row => ({ category: r.key, average: r.value, start: r.window.start, end: r.window.end }), { name: 'q4' });
}

/** The keys holding the largest count, and that count (an algebraic aggregate: ties are kept). */
interface MaxCount {
  count: number;
  keys: number[];
}

/**
 * Aggregate "every key with the maximum count" over `{ key, count }` items. Written by hand
 * because Tidemark's `max` keeps only the value and `topK` is approximate.
 */
export function maxCountKeys<T>(keyOf: (r: T) => number, countOf: (r: T) => number): Aggregate<T, MaxCount, MaxCount> {
  return {
    name: 'maxCountKeys',
    create: () => ({ count: -Infinity, keys: [] }),
    add(acc, r) {
      const c = countOf(r);
      if (c > acc.count) {
        acc.count = c;
        acc.keys = [keyOf(r)];
      } else if (c === acc.count) {
        acc.keys.push(keyOf(r));
      }
      return acc;
    },
    merge(a, b) {
      if (b.count > a.count) return { count: b.count, keys: [...b.keys] };
      if (b.count === a.count) a.keys.push(...b.keys);
      return a;
    },
    result: (acc) => ({ count: acc.count, keys: [...acc.keys] }),
  };
}

/**
 * q5: hot items. Bids per auction in hop windows (10 s every 2 s); then, per window, the
 * auctions with the maximum count. A window result carries timestamp `end − 1`, so the second
 * stage keys the counts by window end and gathers each window's counts in a tumbling window one
 * slide wide.
 */
export function q5(events: Stream<NexmarkEvent>): Stream<Q5Row> {
  return events
    .filter(isBid)
    .keyBy((b) => b.auction)
    .window(sliding(Q5_SIZE, Q5_SLIDE), { name: 'q5.counts' })
    .aggregate(count())
    .keyBy((r) => r.window.end)
    .window(tumbling(Q5_SLIDE), { name: 'q5.max' })
    .aggregate(maxCountKeys((r) => r.key, (r) => r.value))
    .flatMap((r) => r.value.keys.map((auction): Q5Row => ({ auction, count: r.value.count, start: r.key - Q5_SIZE, end: r.key })), { name: 'q5' });
}

/** The bids with the highest price, ties kept. */
interface HighestBids {
  price: number;
  bids: Bid[];
}

/** Aggregate "the bids with the highest price". */
export function highestBids(): Aggregate<Bid, HighestBids, Bid[]> {
  return {
    name: 'highestBids',
    create: () => ({ price: -Infinity, bids: [] }),
    add(acc, b) {
      if (b.price > acc.price) {
        acc.price = b.price;
        acc.bids = [b];
      } else if (b.price === acc.price) {
        acc.bids.push(b);
      }
      return acc;
    },
    merge(a, b) {
      if (b.price > a.price) return { price: b.price, bids: [...b.bids] };
      if (b.price === a.price) a.bids.push(...b.bids);
      return a;
    },
    result: (acc) => [...acc.bids],
  };
}

/** q7: the highest bids of each tumbling 10 s window (one global key: the window spans every auction). */
export function q7(events: Stream<NexmarkEvent>): Stream<Q7Row> {
  return events
    .filter(isBid)
    .keyBy(() => 0)
    .window(tumbling(WINDOW), { name: 'q7.max' })
    .aggregate(highestBids())
    .flatMap(
      (r) => r.value.map((b): Q7Row => ({ auction: b.auction, price: b.price, bidder: b.bidder, dateTime: b.dateTime, extra: b.extra, start: r.window.start, end: r.window.end })),
      { name: 'q7' },
    );
}

/** q8: new users — people who registered and opened an auction in the same tumbling 10 s window. */
export function q8(events: Stream<NexmarkEvent>): Stream<Q8Row> {
  const persons = events.filter(isPerson).keyBy((p) => p.id);
  const auctions = events.filter(isAuction).keyBy((a) => a.seller);
  return persons
    .windowJoin(auctions, tumbling(WINDOW), { name: 'q8.join' })
    .apply((id, w, ps) => ps.map((p): Q8Row => ({ id, name: p.name, start: w.start })), { name: 'q8' });
}

/** q11: user sessions — bids per bidder per session (gap 10 s). */
export function q11(events: Stream<NexmarkEvent>): Stream<BidderCount> {
  return events
    .filter(isBid)
    .keyBy((b) => b.bidder)
    .window(session(WINDOW), { name: 'q11.sessions' })
    .aggregate(count())
    .map((r): BidderCount => ({ bidder: r.key, count: r.value, start: r.window.start, end: r.window.end }), { name: 'q11' });
}

const q12State = { count: valueState<number>(), end: valueState<number>() };

/**
 * q12: bids per bidder per tumbling 10 s window of *processing* time (the pipeline's clock).
 * Tidemark's windows are event-time windows, so this is a keyed process function with a
 * processing-time timer at the window's end. A result is emitted at the timer's time, or just
 * past the watermark if event time has already passed it (results need an event timestamp).
 */
export function q12(events: Stream<NexmarkEvent>): Stream<BidderCount> {
  return events
    .filter(isBid)
    .keyBy((b) => b.bidder)
    .process<BidderCount, typeof q12State>({
      state: q12State,
      onRecord(_b, ctx) {
        const end = Math.floor(ctx.processingTime / WINDOW) * WINDOW + WINDOW;
        if (ctx.state.end.get() !== end) {
          ctx.state.end.set(end);
          ctx.state.count.set(0);
          ctx.timers.registerProcessingTime(end);
        }
        ctx.state.count.set((ctx.state.count.get() ?? 0) + 1);
      },
      onTimer(timer, ctx) {
        const n = ctx.state.count.get() ?? 0;
        ctx.emit({ bidder: ctx.key, count: n, start: timer.timestamp - WINDOW, end: timer.timestamp }, Math.max(timer.timestamp, ctx.watermark + 1));
        ctx.state.count.clear();
        ctx.state.end.clear();
      },
    }, { name: 'q12' });
}

/** The query names, in the suite's order. */
export const QUERY_NAMES = ['q0', 'q1', 'q2', 'q4', 'q5', 'q7', 'q8', 'q11', 'q12'] as const;
export type QueryName = (typeof QUERY_NAMES)[number];

/** Every query by name (results typed loosely: the caller normalises them with `rowOf`). */
export const QUERIES: Readonly<Record<QueryName, (events: Stream<NexmarkEvent>) => Stream<unknown>>> = { q0, q1, q2, q4, q5, q7, q8, q11, q12 };

/** Checks a query name, naming the function that asked. */
export function queryName(name: string, where: string): QueryName {
  if (!(QUERY_NAMES as readonly string[]).includes(name)) throw new RangeError(`${where}: unknown query '${name}' (expected one of ${QUERY_NAMES.join(', ')})`);
  return name as QueryName;
}
