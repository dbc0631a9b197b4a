/**
 * The oracle: the same Nexmark queries written in SQL and run by DuckDB (`@duckdb/node-api`), an
 * independent engine, over the same events. The SQL derives every window from the raw
 * timestamps itself (tumbling: `ts // size × size`; hop: the five starts per bid; sessions: a
 * gap-and-island scan with `LAG` and a running `SUM`), so it shares no window code with Tidemark.
 *
 * Results on both sides are normalised to rows (arrays of numbers and strings), serialised and
 * sorted, and compared in full — every row, ties included.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { NexmarkEvent } from './events.js';
import { AUCTION_SKIP, Q4_SIZE, Q4_SLIDE, Q5_SIZE, Q5_SLIDE, WINDOW, type BidderCount, type Q1Row, type Q2Row, type Q4Row, type Q5Row, type Q7Row, type Q8Row, type QueryName } from './queries.js';

/** One result row, normalised: numbers and strings in a fixed column order. */
export type Row = readonly (number | string)[];

/** The queries the oracle can check (q12 runs on processing time, which SQL cannot see). */
export const ORACLE_QUERIES = ['q0', 'q1', 'q2', 'q4', 'q5', 'q7', 'q8', 'q11'] as const;
export type OracleQuery = (typeof ORACLE_QUERIES)[number];

/** True when the oracle has SQL for the query. */
export function hasOracle(q: QueryName): q is OracleQuery {
  return (ORACLE_QUERIES as readonly string[]).includes(q);
}

/** Tidemark's result of `query`, as the oracle's row. */
export function rowOf(query: QueryName, r: unknown): Row {
  switch (query) {
    case 'q0': {
      const e = r as NexmarkEvent;
      if (e.type === 'person') return ['person', e.id, e.name, e.emailAddress, e.creditCard, e.city, e.state, e.dateTime, e.extra];
      if (e.type === 'auction') return ['auction', e.id, e.itemName, e.description, e.initialBid, e.reserve, e.dateTime, e.expires, e.seller, e.category, e.extra];
      return ['bid', e.auction, e.bidder, e.price, e.channel, e.url, e.dateTime, e.extra];
    }
    case 'q1': {
      const b = r as Q1Row;
      return [b.auction, b.bidder, b.price, b.channel, b.url, b.dateTime, b.extra];
    }
    case 'q2': {
      const b = r as Q2Row;
      return [b.auction, b.price];
    }
    case 'q4': {
      const x = r as Q4Row;
      return [x.category, x.average, x.start, x.end];
    }
    case 'q5': {
      const x = r as Q5Row;
      return [x.auction, x.count, x.start, x.end];
    }
    case 'q7': {
      const x = r as Q7Row;
      return [x.auction, x.price, x.bidder, x.dateTime, x.extra, x.start, x.end];
    }
    case 'q8': {
      const x = r as Q8Row;
      return [x.id, x.name, x.start];
    }
    case 'q11':
    case 'q12': {
      const x = r as BidderCount;
      return [x.bidder, x.count, x.start, x.end];
    }
  }
}

/** The SQL of each query; a query with several statements returns their rows concatenated. */
export const SQL: Readonly<Record<OracleQuery, readonly string[]>> = {
  q0: [
    `SELECT 'person', id, name, email_address, credit_card, city, state, date_time, extra FROM person`,
    `SELECT 'auction', id, item_name, description, initial_bid, reserve, date_time, expires, seller, category, extra FROM auction`,
    `SELECT 'bid', auction, bidder, price, channel, url, date_time, extra FROM bid`,
  ],
  q1: [`SELECT auction, bidder, (price * 89) // 100, channel, url, date_time, extra FROM bid`],
  q2: [`SELECT auction, price FROM bid WHERE auction % ${AUCTION_SKIP} = 0`],
  // winning bid per auction: open-interval bids meeting the reserve; closes at expires − 1; hop 10 s / 5 s
  q4: [`
    WITH winners AS (
      SELECT a.id, a.category, a.expires - 1 AS closed, max(b.price) AS price
      FROM auction a JOIN bid b ON b.auction = a.id
      WHERE b.date_time >= a.date_time AND b.date_time < a.expires AND b.price >= a.reserve
      GROUP BY a.id, a.category, a.expires
    ),
    hop AS (
      SELECT category, price, (closed // ${Q4_SLIDE}) * ${Q4_SLIDE} - k * ${Q4_SLIDE} AS ws
      FROM winners, range(0, ${Q4_SIZE / Q4_SLIDE}) AS t(k)
    )
    SELECT category, sum(price)::DOUBLE / count(*), ws, ws + ${Q4_SIZE} FROM hop GROUP BY category, ws`],
  q5: [`
    WITH hop AS (
      SELECT auction, (date_time // ${Q5_SLIDE}) * ${Q5_SLIDE} - k * ${Q5_SLIDE} AS ws
      FROM bid, range(0, ${Q5_SIZE / Q5_SLIDE}) AS t(k)
    ),
    counts AS (SELECT auction, ws, count(*) AS num FROM hop GROUP BY auction, ws),
    maxes AS (SELECT ws, max(num) AS maxn FROM counts GROUP BY ws)
    SELECT c.auction, c.num, c.ws, c.ws + ${Q5_SIZE}
    FROM counts c JOIN maxes m ON c.ws = m.ws
    WHERE c.num = m.maxn`],
  q7: [`
    WITH w AS (SELECT *, (date_time // ${WINDOW}) * ${WINDOW} AS ws FROM bid),
    m AS (SELECT ws, max(price) AS maxp FROM w GROUP BY ws)
    SELECT w.auction, w.price, w.bidder, w.date_time, w.extra, w.ws, w.ws + ${WINDOW}
    FROM w JOIN m ON w.ws = m.ws
    WHERE w.price = m.maxp`],
  q8: [`
    WITH p AS (SELECT id, name, (date_time // ${WINDOW}) * ${WINDOW} AS ws FROM person),
    a AS (SELECT DISTINCT seller, (date_time // ${WINDOW}) * ${WINDOW} AS ws FROM auction)
    SELECT p.id, p.name, p.ws FROM p JOIN a ON p.id = a.seller AND p.ws = a.ws`],
  q11: [`
    WITH marked AS (
      SELECT bidder, date_time,
        CASE WHEN date_time - lag(date_time) OVER (PARTITION BY bidder ORDER BY date_time) < ${WINDOW} THEN 0 ELSE 1 END AS starts
      FROM bid
    ),
    numbered AS (
      SELECT bidder, date_time, sum(starts) OVER (PARTITION BY bidder ORDER BY date_time ROWS UNBOUNDED PRECEDING) AS session
      FROM marked
    )
    SELECT bidder, count(*), min(date_time), max(date_time) + ${WINDOW}
    FROM numbered GROUP BY bidder, session`],
};

/** DuckDB loaded with a run's events (tables `person`, `auction`, `bid`), ready for queries. */
export class DuckDbOracle {
  private constructor(private readonly instance: DuckDBInstance, private readonly connection: DuckDBConnection) {}

  /**
   * Creates an in-memory database and appends the events.
   *
   * @example
   * const oracle = await DuckDbOracle.load(events);
   * const rows = await oracle.rows('q5');
   * oracle.close();
   */
  static async load(events: Iterable<NexmarkEvent>): Promise<DuckDbOracle> {
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    await c.run(`CREATE TABLE person (id BIGINT, name VARCHAR, email_address VARCHAR, credit_card VARCHAR, city VARCHAR, state VARCHAR, date_time BIGINT, extra VARCHAR)`);
    await c.run(`CREATE TABLE auction (id BIGINT, item_name VARCHAR, description VARCHAR, initial_bid BIGINT, reserve BIGINT, date_time BIGINT, expires BIGINT, seller BIGINT, category BIGINT, extra VARCHAR)`);
    await c.run(`CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, date_time BIGINT, extra VARCHAR)`);
    const persons = await c.createAppender('person');
    const auctions = await c.createAppender('auction');
    const bids = await c.createAppender('bid');
    const int = BigInt;
    for (const e of events) {
      if (e.type === 'bid') {
        bids.appendBigInt(int(e.auction));
        bids.appendBigInt(int(e.bidder));
        bids.appendBigInt(int(e.price));
        bids.appendVarchar(e.channel);
        bids.appendVarchar(e.url);
        bids.appendBigInt(int(e.dateTime));
        bids.appendVarchar(e.extra);
        bids.endRow();
      } else if (e.type === 'auction') {
        auctions.appendBigInt(int(e.id));
        auctions.appendVarchar(e.itemName);
        auctions.appendVarchar(e.description);
        auctions.appendBigInt(int(e.initialBid));
        auctions.appendBigInt(int(e.reserve));
        auctions.appendBigInt(int(e.dateTime));
        auctions.appendBigInt(int(e.expires));
        auctions.appendBigInt(int(e.seller));
        auctions.appendBigInt(int(e.category));
        auctions.appendVarchar(e.extra);
        auctions.endRow();
      } else {
        persons.appendBigInt(int(e.id));
        persons.appendVarchar(e.name);
        persons.appendVarchar(e.emailAddress);
        persons.appendVarchar(e.creditCard);
        persons.appendVarchar(e.city);
        persons.appendVarchar(e.state);
        persons.appendBigInt(int(e.dateTime));
        persons.appendVarchar(e.extra);
        persons.endRow();
      }
    }
    for (const a of [persons, auctions, bids]) {
      a.flushSync();
      a.closeSync();
    }
    return new DuckDbOracle(instance, c);
  }

  /** Runs SQL and returns its rows (BIGINTs as numbers). */
  async sql(text: string): Promise<Row[]> {
    const reader = await this.connection.runAndReadAll(text);
    return reader.getRowsJS().map((row) => row.map((v) => (typeof v === 'bigint' ? Number(v) : typeof v === 'number' || typeof v === 'string' ? v : String(v))));
  }

  /** The query's result rows, computed by DuckDB. */
  async rows(query: OracleQuery): Promise<Row[]> {
    const out: Row[] = [];
    for (const statement of SQL[query]) out.push(...(await this.sql(statement)));
    return out;
  }

  /** Closes the connection and the database. */
  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** The outcome of comparing two result sets. */
export interface RowComparison {
  readonly equal: boolean;
  readonly tidemarkRows: number;
  readonly oracleRows: number;
  /** Up to 5 serialised rows found only on one side. */
  readonly onlyTidemark: string[];
  readonly onlyOracle: string[];
}

/** Serialises and sorts rows: the canonical form of a result set (a multiset). */
export function canonicalRows(rows: Iterable<Row>): string[] {
  const out: string[] = [];
  for (const r of rows) out.push(JSON.stringify(r));
  return out.sort();
}

/** Compares two result sets as multisets of rows. */
export function compareRows(tidemark: Iterable<Row>, oracle: Iterable<Row>): RowComparison {
  const a = canonicalRows(tidemark);
  const b = canonicalRows(oracle);
  const onlyTidemark: string[] = [];
  const onlyOracle: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (x !== undefined && x === y) {
      i++;
      j++;
    } else if (y === undefined || (x !== undefined && x < y)) {
      if (onlyTidemark.length < 5) onlyTidemark.push(x as string);
      i++;
    } else {
      if (onlyOracle.length < 5) onlyOracle.push(y);
      j++;
    }
  }
  return { equal: onlyTidemark.length === 0 && onlyOracle.length === 0, tidemarkRows: a.length, oracleRows: b.length, onlyTidemark, onlyOracle };
}
