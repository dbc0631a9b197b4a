/**
 * Seeded, reproducible input for the benchmarks.
 *
 * `generateClicks` produces click records `{ user, ts }` whose event time advances at a fixed
 * rate (`eventsPerSecond`) and is jittered *back* by a uniform amount in `[0, maxDisorderMs]`.
 * So the stream is slightly out of order, but never by more than the bound: with a watermark of
 * bounded out-of-orderness `B ≥ maxDisorderMs`, no record is late (see `README.md`).
 *
 * Keys are strings `u0 … u{keys-1}`, built once up front and shared by every record that uses
 * them (no string is built per record). Every record has the same shape (one hidden class).
 */
import { seededRandom } from 'tidemark/testing';

export interface Click {
  readonly user: string;
  readonly ts: number;
}

export interface ClickOptions {
  /** Number of records. */
  readonly records: number;
  /** Number of distinct keys, chosen uniformly at random per record. */
  readonly keys: number;
  /** PRNG seed (32-bit). */
  readonly seed: number;
  /** Event-time rate: records per second of event time. */
  readonly eventsPerSecond: number;
  /** Each record's timestamp is moved back by a uniform integer in [0, maxDisorderMs]. */
  readonly maxDisorderMs: number;
  /** Event time of the first record before jitter (epoch ms). Default 2023-11-14T22:13:20Z. */
  readonly startTime?: number;
}

export const DEFAULT_START_TIME = 1_700_000_000_000;

/** mulberry32 (the testing kit's seeded generator): floats in [0, 1). */
export const mulberry32 = seededRandom;

/** The key strings, built once. */
export function makeKeys(count: number): string[] {
  const keys: string[] = [];
  for (let i = 0; i < count; i++) keys.push(`u${i}`);
  return keys;
}

export function generateClicks(options: ClickOptions): Click[] {
  const { records, keys: keyCount, seed, eventsPerSecond, maxDisorderMs } = options;
  const start = options.startTime ?? DEFAULT_START_TIME;
  if (!Number.isInteger(records) || records < 0) throw new RangeError('generateClicks: records must be a non-negative integer');
  if (!Number.isInteger(keyCount) || keyCount < 1) throw new RangeError('generateClicks: keys must be a positive integer');
  if (!(eventsPerSecond > 0)) throw new RangeError('generateClicks: eventsPerSecond must be > 0');
  if (!Number.isInteger(maxDisorderMs) || maxDisorderMs < 0) throw new RangeError('generateClicks: maxDisorderMs must be a non-negative integer');

  const rand = mulberry32(seed);
  const keys = makeKeys(keyCount);
  const msPerRecord = 1000 / eventsPerSecond;
  const out: Click[] = [];
  for (let i = 0; i < records; i++) {
    const base = start + Math.floor(i * msPerRecord);
    const jitter = Math.floor(rand() * (maxDisorderMs + 1));
    const user = keys[Math.floor(rand() * keyCount)] as string;
    out.push({ user, ts: base - jitter });
  }
  return out;
}

/** Largest amount by which any record is behind the maximum timestamp seen before it. */
export function measuredDisorder(records: readonly Click[]): number {
  let maxTs = -Infinity;
  let worst = 0;
  for (const r of records) {
    if (r.ts < maxTs && maxTs - r.ts > worst) worst = maxTs - r.ts;
    if (r.ts > maxTs) maxTs = r.ts;
  }
  return worst;
}
