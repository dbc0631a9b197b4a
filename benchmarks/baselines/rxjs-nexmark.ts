/**
 * Nexmark q5, q7 and q11 as idiomatic RxJS 7 pipelines over `from(events)`: `groupBy` per window
 * closed by the watermark and `reduce` (q5, q7); `groupBy` per bidder with its sessions as state
 * (q11). See `rxjs.ts` for the shared window and session plumbing.
 */
import { map, mergeMap, reduce } from 'rxjs/operators';
import type { Bid, NexmarkEvent } from '../nexmark/events.js';
import { Q5_SIZE, Q5_SLIDE, WINDOW, type BidderCount, type Q5Row, type Q7Row } from '../nexmark/queries.js';
import { emitMaxAuctions } from './nexmark-handwritten.js';
import { countByKey, floorTo, runSessions, runTimeWindows } from './rxjs.js';

const ts = (e: NexmarkEvent): number => e.dateTime;
const bidsOnly = (events: readonly NexmarkEvent[]): Bid[] => events.filter((e): e is Bid => e.type === 'bid');

/**
 * q5 with RxJS: bids `mergeMap`ped to their hop windows, `groupBy` window, counts per auction
 * `reduce`d into a `Map`, then the auctions with the maximum count. The bids are selected with
 * `filter` inside the timed run (the array filter is part of the job).
 */
export function rxQ5(events: readonly NexmarkEvent[], bound: number, emit: (r: Q5Row) => void): Promise<void> {
  return runTimeWindows(bidsOnly(events), {
    ts,
    starts: (t) => {
      const out: number[] = [];
      for (let s = floorTo(t, Q5_SLIDE); s > t - Q5_SIZE; s -= Q5_SLIDE) out.push(s);
      return out;
    },
    size: Q5_SIZE,
    bound,
    reduceWindow: (w) => countByKey(w, (b) => b.auction).pipe(mergeMap((counts) => {
      const rows: Q5Row[] = [];
      emitMaxAuctions(w.key, counts, (r) => rows.push(r));
      return rows;
    })),
  }, emit);
}

/** q7 with RxJS: `groupBy` tumbling window, `reduce` to the highest bids, one row per bid. */
export function rxQ7(events: readonly NexmarkEvent[], bound: number, emit: (r: Q7Row) => void): Promise<void> {
  return runTimeWindows(bidsOnly(events), {
    ts,
    starts: (t) => floorTo(t, WINDOW),
    size: WINDOW,
    bound,
    reduceWindow: (w) => w.pipe(
      reduce((h, b) => (b.price > h.price ? { price: b.price, bids: [b] } : b.price === h.price ? (h.bids.push(b), h) : h), { price: -Infinity, bids: [] as Bid[] }),
      mergeMap((h) => h.bids),
      map((b): Q7Row => ({ auction: b.auction, price: b.price, bidder: b.bidder, dateTime: b.dateTime, extra: b.extra, start: w.key, end: w.key + WINDOW })),
    ),
  }, emit);
}

/** q11 with RxJS: `groupBy` bidder, the bidder's sessions (gap 10 s) as state. */
export function rxQ11(events: readonly NexmarkEvent[], bound: number, emit: (r: BidderCount) => void): Promise<void> {
  return runSessions(bidsOnly(events), {
    ts,
    key: (b) => b.bidder,
    gap: WINDOW,
    bound,
    create: () => 0,
    add: (n) => n + 1,
    merge: (a, b) => a + b,
    result: (bidder, s) => ({ bidder, count: s.acc, start: s.start, end: s.end }),
  }, emit);
}
