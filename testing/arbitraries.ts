/**
 * fast-check arbitraries for event-time tests: timestamped records, arrival orders within (or
 * beyond) a disorder bound, and watermark steps interleaved the way a bounded-out-of-orderness
 * source would emit them.
 *
 * Imports nothing of the engine (only `fast-check`, plus a type from `./reference.js`), so it can
 * drive both the engine and the reference model.
 *
 * @example
 * ```ts
 * fc.assert(fc.property(
 *   timestampedRecords(fc.integer({ min: 0, max: 3 }), { maxLength: 10 }).chain((records) =>
 *     arrivalOrders(records, 5).chain((arrival) => withWatermarks(arrival, 5))),
 *   (steps) => { ... },
 * ));
 * ```
 *
 * @module
 */
import fc from 'fast-check';
import type { RefStep } from './reference.js';

/**
 * A value with its event timestamp (integer epoch milliseconds).
 *
 * @example
 * ```ts
 * const r: Timestamped<string> = { value: 'click', timestamp: 1_700_000_000_000 };
 * ```
 */
export interface Timestamped<T> {
  value: T;
  timestamp: number;
}

function checkBound(name: string, bound: number): void {
  if (!Number.isSafeInteger(bound) || bound < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer, got ${bound}`);
  }
}

/**
 * True when every timestamp in `arrival` is at least the maximum timestamp seen before it
 * (including itself) minus `maxDisorder` — i.e. the order is one a bounded-out-of-orderness
 * watermark with bound `maxDisorder` accepts without any late record. Empty input is within
 * any bound.
 *
 * @example
 * ```ts
 * isWithinDisorder([{ timestamp: 10 }, { timestamp: 5 }], 5); // true
 * isWithinDisorder([{ timestamp: 10 }, { timestamp: 4 }], 5); // false
 * ```
 */
export function isWithinDisorder(arrival: readonly { timestamp: number }[], maxDisorder: number): boolean {
  let maxSeen = -Infinity;
  for (const { timestamp } of arrival) {
    maxSeen = Math.max(maxSeen, timestamp);
    if (timestamp < maxSeen - maxDisorder) return false;
  }
  return true;
}

/**
 * Permutes `records` by giving each one a delay `d ∈ [0, maxDelay]` and sorting by
 * `(timestamp + d, original index)`. Shrinking moves delays toward 0, i.e. toward the stable
 * timestamp-sorted order. Returns the same record objects (not copies).
 */
function delayedPermutations<T>(records: readonly Timestamped<T>[], maxDelay: number): fc.Arbitrary<Timestamped<T>[]> {
  const n = records.length;
  return fc.array(fc.integer({ min: 0, max: maxDelay }), { minLength: n, maxLength: n }).map((delays) =>
    records
      .map((record, index) => ({ record, index, due: record.timestamp + (delays[index] ?? 0) }))
      .sort((a, b) => a.due - b.due || a.index - b.index)
      .map((x) => x.record),
  );
}

/**
 * Arrival orders of `records` whose disorder stays within `maxDisorder` (so that
 * {@link isWithinDisorder} holds): each record gets a delay in `[0, maxDisorder]` and arrives in
 * `(timestamp + delay, original index)` order. Not every bounded permutation is reachable, but
 * every generated one is bounded. Shrinks toward the stable timestamp-sorted order. The output
 * holds the input's record objects. Throws `RangeError` unless `maxDisorder` is a non-negative
 * safe integer.
 *
 * @example
 * ```ts
 * fc.assert(fc.property(arrivalOrders(records, 5), (arrival) => isWithinDisorder(arrival, 5)));
 * ```
 */
export function arrivalOrders<T>(records: readonly Timestamped<T>[], maxDisorder: number): fc.Arbitrary<Timestamped<T>[]> {
  checkBound('maxDisorder', maxDisorder);
  return delayedPermutations(records, maxDisorder);
}

/**
 * Like {@link arrivalOrders} but with delays up to `maxDelay`, which may exceed whatever
 * disorder bound the pipeline under test declares — use it to produce late records. Shrinks
 * toward the timestamp-sorted order. Throws `RangeError` unless `maxDelay` is a non-negative
 * safe integer.
 *
 * @example
 * ```ts
 * // Up to 50 ms of disorder against a pipeline that only tolerates 10: some records are late.
 * const arrival = disorderedArrivals(records, 50);
 * ```
 */
export function disorderedArrivals<T>(records: readonly Timestamped<T>[], maxDelay: number): fc.Arbitrary<Timestamped<T>[]> {
  checkBound('maxDelay', maxDelay);
  return delayedPermutations(records, maxDelay);
}

/**
 * Turns an arrival order into input steps: one record step per record, in order, with a
 * watermark step `W = maxTimestampSeen − maxDisorder − 1` (the bounded-out-of-orderness
 * watermark) inserted after randomly chosen records — only where it advances past the previous
 * watermark step. Shrinks toward fewer watermark steps. If `arrival` is within `maxDisorder`,
 * no record is behind a preceding watermark. Throws `RangeError` unless `maxDisorder` is a
 * non-negative safe integer.
 *
 * @example
 * ```ts
 * // arrival [{ts 10}, {ts 7}, {ts 12}], maxDisorder 2, watermarks chosen after #0 and #2:
 * // record 10, watermark 7, record 7, record 12, watermark 9
 * ```
 */
export function withWatermarks<T>(arrival: readonly Timestamped<T>[], maxDisorder: number): fc.Arbitrary<RefStep<T>[]> {
  checkBound('maxDisorder', maxDisorder);
  const n = arrival.length;
  return fc.array(fc.boolean(), { minLength: n, maxLength: n }).map((after) => {
    const steps: RefStep<T>[] = [];
    let maxSeen = -Infinity;
    let lastWatermark = -Infinity;
    arrival.forEach((record, i) => {
      steps.push({ kind: 'record', value: record.value, timestamp: record.timestamp });
      maxSeen = Math.max(maxSeen, record.timestamp);
      const w = maxSeen - maxDisorder - 1;
      if (after[i] === true && w > lastWatermark) {
        steps.push({ kind: 'watermark', time: w });
        lastWatermark = w;
      }
    });
    return steps;
  });
}

/**
 * Arrays of records with integer timestamps in `[minTimestamp, maxTimestamp]` (negatives
 * allowed), in generation (not timestamp) order. Defaults: timestamps in `[-100, 100]`,
 * length `0..20`. Throws `RangeError` for non-integer or inverted bounds.
 *
 * @example
 * ```ts
 * timestampedRecords(fc.constantFrom('a', 'b'), { minTimestamp: 0, maxTimestamp: 50, maxLength: 8 });
 * ```
 */
export function timestampedRecords<T>(
  value: fc.Arbitrary<T>,
  opts: { minTimestamp?: number; maxTimestamp?: number; minLength?: number; maxLength?: number } = {},
): fc.Arbitrary<Timestamped<T>[]> {
  const { minTimestamp = -100, maxTimestamp = 100, minLength = 0, maxLength = Math.max(20, minLength) } = opts;
  if (!Number.isSafeInteger(minTimestamp) || !Number.isSafeInteger(maxTimestamp) || minTimestamp > maxTimestamp) {
    throw new RangeError(`timestampedRecords: need integers minTimestamp ≤ maxTimestamp, got [${minTimestamp}, ${maxTimestamp}]`);
  }
  if (!Number.isSafeInteger(minLength) || !Number.isSafeInteger(maxLength) || minLength < 0 || minLength > maxLength) {
    throw new RangeError(`timestampedRecords: need integers 0 ≤ minLength ≤ maxLength, got [${minLength}, ${maxLength}]`);
  }
  const record: fc.Arbitrary<Timestamped<T>> = fc.record({
    value,
    timestamp: fc.integer({ min: minTimestamp, max: maxTimestamp }),
  });
  return fc.array(record, { minLength, maxLength });
}
