/**
 * The Nexmark event model (as in Apache Beam's and the nexmark/nexmark generators): an online
 * auction system where people register, open auctions and bid on them.
 *
 * Events are flat objects tagged by `type`, so one stream can carry all three and a query
 * selects the ones it needs with a type guard. Times are epoch milliseconds; prices are cents.
 */

/** A person registering (≈ 200 bytes with `extra`). */
export interface Person {
  readonly type: 'person';
  readonly id: number;
  readonly name: string;
  readonly emailAddress: string;
  readonly creditCard: string;
  readonly city: string;
  readonly state: string;
  readonly dateTime: number;
  readonly extra: string;
}

/** A person opening an auction (≈ 500 bytes with `extra`). */
export interface Auction {
  readonly type: 'auction';
  readonly id: number;
  readonly itemName: string;
  readonly description: string;
  readonly initialBid: number;
  readonly reserve: number;
  readonly dateTime: number;
  readonly expires: number;
  readonly seller: number;
  readonly category: number;
  readonly extra: string;
}

/** A bid on an auction (≈ 100 bytes with `extra`, plus the url). */
export interface Bid {
  readonly type: 'bid';
  readonly auction: number;
  readonly bidder: number;
  readonly price: number;
  readonly channel: string;
  readonly url: string;
  readonly dateTime: number;
  readonly extra: string;
}

/** Any Nexmark event. */
export type NexmarkEvent = Person | Auction | Bid;

/** Type guard: the event is a bid. */
export const isBid = (e: NexmarkEvent): e is Bid => e.type === 'bid';
/** Type guard: the event is a person. */
export const isPerson = (e: NexmarkEvent): e is Person => e.type === 'person';
/** Type guard: the event is an auction. */
export const isAuction = (e: NexmarkEvent): e is Auction => e.type === 'auction';
