/**
 * Hand-written plain-JS loops for Nexmark q5, q7 and q11 — what a user writes without an engine:
 * a `Map` per window (q5, q7) or per bidder (q11), the same watermark rule as Tidemark
 * (`W = maxTs − bound − 1` after each event) and windows fired once `W ≥ end − 1`, everything left
 * at the end of input. Results have the shapes of `benchmarks/nexmark/queries.ts`.
 */
import type { Bid, NexmarkEvent } from '../nexmark/events.js';
import { Q5_SIZE, Q5_SLIDE, WINDOW, type BidderCount, type Q5Row, type Q7Row } from '../nexmark/queries.js';
import { floorTo } from './rxjs.js';

/**
 * Fires (and deletes) every window of `windows` whose end − 1 ≤ `upTo`; returns the smallest
 * `end − 1` still open (the next time to look).
 */
function fireDue<S>(windows: Map<number, S>, size: number, upTo: number, fire: (start: number, state: S) => void): number {
  let next = Infinity;
  for (const [start, state] of windows) {
    if (start + size - 1 <= upTo) {
      fire(start, state);
      windows.delete(start);
    } else if (start + size - 1 < next) {
      next = start + size - 1;
    }
  }
  return next;
}

/** Emits the auctions with the maximum count of one hop window. */
export function emitMaxAuctions(start: number, counts: Map<number, number>, emit: (r: Q5Row) => void): void {
  let max = -Infinity;
  for (const c of counts.values()) if (c > max) max = c;
  for (const [auction, c] of counts) if (c === max) emit({ auction, count: c, start, end: start + Q5_SIZE });
}

/** q5 by hand: `Map<windowStart, Map<auction, count>>`, each bid counted in its 5 hop windows. */
export function handQ5(events: readonly NexmarkEvent[], bound: number, emit: (r: Q5Row) => void): void {
  const windows = new Map<number, Map<number, number>>();
  let maxTs = -Infinity;
  let nextDue = Infinity;
  const fire = (start: number, counts: Map<number, number>): void => emitMaxAuctions(start, counts, emit);
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as NexmarkEvent;
    const t = e.dateTime;
    if (e.type === 'bid') {
      for (let start = floorTo(t, Q5_SLIDE); start > t - Q5_SIZE; start -= Q5_SLIDE) {
        let counts = windows.get(start);
        if (counts === undefined) {
          counts = new Map();
          windows.set(start, counts);
          if (start + Q5_SIZE - 1 < nextDue) nextDue = start + Q5_SIZE - 1;
        }
        counts.set(e.auction, (counts.get(e.auction) ?? 0) + 1);
      }
    }
    if (t > maxTs) {
      maxTs = t;
      if (maxTs - bound - 1 >= nextDue) nextDue = fireDue(windows, Q5_SIZE, maxTs - bound - 1, fire);
    }
  }
  fireDue(windows, Q5_SIZE, Infinity, fire);
}

interface Highest {
  price: number;
  bids: Bid[];
}

/** q7 by hand: `Map<windowStart, { price, bids }>` of the highest bids so far. */
export function handQ7(events: readonly NexmarkEvent[], bound: number, emit: (r: Q7Row) => void): void {
  const windows = new Map<number, Highest>();
  let maxTs = -Infinity;
  let nextDue = Infinity;
  const fire = (start: number, h: Highest): void => {
    for (const b of h.bids) emit({ auction: b.auction, price: b.price, bidder: b.bidder, dateTime: b.dateTime, extra: b.extra, start, end: start + WINDOW });
  };
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as NexmarkEvent;
    const t = e.dateTime;
    if (e.type === 'bid') {
      const start = floorTo(t, WINDOW);
      const h = windows.get(start);
      if (h === undefined) {
        windows.set(start, { price: e.price, bids: [e] });
        if (start + WINDOW - 1 < nextDue) nextDue = start + WINDOW - 1;
      } else if (e.price > h.price) {
        h.price = e.price;
        h.bids = [e];
      } else if (e.price === h.price) {
        h.bids.push(e);
      }
    }
    if (t > maxTs) {
      maxTs = t;
      if (maxTs - bound - 1 >= nextDue) nextDue = fireDue(windows, WINDOW, maxTs - bound - 1, fire);
    }
  }
  fireDue(windows, WINDOW, Infinity, fire);
}

interface Session {
  start: number;
  end: number;
  count: number;
}

/**
 * q11 by hand: `Map<bidder, Session[]>`; a bid's proto-window `[t, t + 10 s)` merges with every
 * session of the bidder it strictly overlaps. Every 1 024 events (and at the end) a sweep emits
 * the sessions the watermark has passed.
 */
export function handQ11(events: readonly NexmarkEvent[], bound: number, emit: (r: BidderCount) => void): void {
  const sessions = new Map<number, Session[]>();
  let maxTs = -Infinity;
  const sweep = (wm: number): void => {
    for (const [bidder, list] of sessions) {
      let keep = 0;
      for (const s of list) {
        if (s.end - 1 <= wm) emit({ bidder, count: s.count, start: s.start, end: s.end });
        else list[keep++] = s;
      }
      if (keep === 0) sessions.delete(bidder);
      else list.length = keep;
    }
  };
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as NexmarkEvent;
    const t = e.dateTime;
    if (t > maxTs) maxTs = t;
    if ((i & 1023) === 1023) sweep(maxTs - bound - 1);
    if (e.type !== 'bid') continue;
    const list = sessions.get(e.bidder);
    if (list === undefined) {
      sessions.set(e.bidder, [{ start: t, end: t + WINDOW, count: 1 }]);
      continue;
    }
    let start = t;
    let end = t + WINDOW;
    let count = 1;
    let keep = 0;
    for (const s of list) {
      if (s.start < end && start < s.end) {
        if (s.start < start) start = s.start;
        if (s.end > end) end = s.end;
        count += s.count;
      } else {
        list[keep++] = s;
      }
    }
    list.length = keep;
    list.push({ start, end, count });
  }
  sweep(Infinity);
}
