/** `topK(fn, k)`: the most frequent values, counted exactly while few and with Space-Saving beyond. */
import type { Aggregate } from '../../engine/aggregate.js';
import type { KeyPrimitive } from '../../engine/keys.js';

/** Options of `topK`. */
export interface TopKOptions {
  /** Counters kept, c ≥ k (default max(64, 4k)): memory, and the error bound n/c. */
  readonly capacity?: number;
}

/**
 * Accumulator of `topK`: plain, JSON-safe data (bigint items need a format that keeps bigints).
 * Counter i watches `items[i]`, counted `counts[i]` times, of which at most `errors[i]` may be
 * overcounted; the three arrays form a binary min-heap by count. `n` counts every value added.
 */
export interface TopKAcc<I extends KeyPrimitive = KeyPrimitive> {
  readonly capacity: number;
  n: number;
  items: I[];
  counts: number[];
  errors: number[];
}

/** One entry of a `topK` result. */
export interface TopKEntry<I extends KeyPrimitive = KeyPrimitive> {
  item: I;
  count: number;
}

/**
 * The `k` most frequent `fn(record)` values (strings, numbers, bigints, booleans) as
 * `{ item, count }`, most frequent first, ties in item order: `false < true <` numbers (ascending,
 * NaN last) `<` bigints (ascending) `<` strings (by UTF-16 code units); `-0` counts as `0`.
 *
 * Counts are exact while there are at most c distinct values (c = `capacity`). Beyond, the
 * accumulator is a Space-Saving summary (Metwally, Agrawal and El Abbadi, 2005) of c counters: a
 * new value takes over the smallest counter, adding 1 to it. With n values in all, every reported
 * count overestimates the true count by at most the smallest counter, which is at most n/c; every
 * value whose true count exceeds the smallest counter (so every value more frequent than n/c) holds
 * a counter. Merging adds the two summaries' counts item by item — an item missing from a full
 * summary counts that summary's smallest counter, its upper bound there — and keeps the c largest
 * (Agarwal et al., "Mergeable summaries", 2012): the same guarantees hold with n = n₁ + n₂. The
 * counters (not the guarantees) depend on arrival order and on how panes merge.
 *
 * @example
 * searches.keyBy((s) => s.country).window(tumbling('PT1H')).aggregate(topK((s) => s.query, 10));
 * // value: [{ item: 'weather', count: 812 }, { item: 'news', count: 640 }, …]
 */
export function topK<T, I extends KeyPrimitive>(fn: (record: T) => I, k: number, options: TopKOptions = {}): Aggregate<T, TopKAcc<I>, TopKEntry<I>[]> {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`topK: k must be a positive integer; got ${k}`);
  const capacity = options.capacity ?? Math.max(64, 4 * k);
  if (!Number.isInteger(capacity) || capacity < k) throw new RangeError(`topK: capacity must be an integer of at least k (${k}); got ${capacity}`);
  return {
    name: 'topK',
    create: () => ({ capacity, n: 0, items: [], counts: [], errors: [] }),
    add: (acc, r) => {
      let v = fn(r);
      const t = typeof v;
      if (t !== 'string' && t !== 'number' && t !== 'bigint' && t !== 'boolean') {
        throw new TypeError(`topK: value must be a string, number, bigint or boolean; got ${v === null ? 'null' : t}`);
      }
      if (v === 0) v = 0 as I;
      acc.n++;
      const positions = indexOf(acc);
      const at = positions.get(v);
      if (at !== undefined) {
        acc.counts[at] = (acc.counts[at] as number) + 1;
        siftDown(acc, positions, at);
      } else if (acc.items.length < acc.capacity) {
        acc.items.push(v);
        acc.counts.push(1);
        acc.errors.push(0);
        positions.set(v, acc.items.length - 1);
        siftUp(acc, positions, acc.items.length - 1);
      } else {
        positions.delete(acc.items[0] as I);
        const smallest = acc.counts[0] as number;
        acc.items[0] = v;
        acc.errors[0] = smallest;
        acc.counts[0] = smallest + 1;
        positions.set(v, 0);
        siftDown(acc, positions, 0);
      }
      return acc;
    },
    merge: (a, b) => {
      if (b.n === 0) return a;
      const floorA = a.items.length >= a.capacity ? (a.counts[0] as number) : 0;
      const floorB = b.items.length >= b.capacity ? (b.counts[0] as number) : 0;
      const inB = indexOf(b);
      const entries: Entry<I>[] = [];
      const seen = new Set<I>();
      for (let i = 0; i < a.items.length; i++) {
        const item = a.items[i] as I;
        const j = inB.get(item);
        seen.add(item);
        entries.push({
          item,
          count: (a.counts[i] as number) + (j === undefined ? floorB : (b.counts[j] as number)),
          error: (a.errors[i] as number) + (j === undefined ? floorB : (b.errors[j] as number)),
        });
      }
      for (let j = 0; j < b.items.length; j++) {
        const item = b.items[j] as I;
        if (!seen.has(item)) entries.push({ item, count: floorA + (b.counts[j] as number), error: floorA + (b.errors[j] as number) });
      }
      entries.sort(byCountThenItem);
      entries.length = Math.min(entries.length, a.capacity);
      entries.reverse(); // ascending counts: a valid min-heap
      a.items = entries.map((e) => e.item);
      a.counts = entries.map((e) => e.count);
      a.errors = entries.map((e) => e.error);
      a.n += b.n;
      INDEX.delete(a);
      return a;
    },
    result: (acc) => {
      const entries: Entry<I>[] = acc.items.map((item, i) => ({ item, count: acc.counts[i] as number, error: 0 }));
      entries.sort(byCountThenItem);
      return entries.slice(0, k).map((e) => ({ item: e.item, count: e.count }));
    },
  };
}

interface Entry<I> {
  item: I;
  count: number;
  error: number;
}

/** Item → heap position, per accumulator: a cache beside the plain data, rebuilt after a restore. */
const INDEX = new WeakMap<object, Map<KeyPrimitive, number>>();

function indexOf<I extends KeyPrimitive>(acc: TopKAcc<I>): Map<KeyPrimitive, number> {
  let positions = INDEX.get(acc);
  if (positions === undefined) {
    positions = new Map();
    for (let i = 0; i < acc.items.length; i++) positions.set(acc.items[i] as I, i);
    INDEX.set(acc, positions);
  }
  return positions;
}

function swap<I extends KeyPrimitive>(acc: TopKAcc<I>, positions: Map<KeyPrimitive, number>, i: number, j: number): void {
  const item = acc.items[i] as I;
  const count = acc.counts[i] as number;
  const error = acc.errors[i] as number;
  acc.items[i] = acc.items[j] as I;
  acc.counts[i] = acc.counts[j] as number;
  acc.errors[i] = acc.errors[j] as number;
  acc.items[j] = item;
  acc.counts[j] = count;
  acc.errors[j] = error;
  positions.set(acc.items[i] as I, i);
  positions.set(item, j);
}

function siftUp<I extends KeyPrimitive>(acc: TopKAcc<I>, positions: Map<KeyPrimitive, number>, i: number): void {
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if ((acc.counts[parent] as number) <= (acc.counts[i] as number)) return;
    swap(acc, positions, i, parent);
    i = parent;
  }
}

function siftDown<I extends KeyPrimitive>(acc: TopKAcc<I>, positions: Map<KeyPrimitive, number>, i: number): void {
  const n = acc.items.length;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= n) return;
    const right = left + 1;
    const child = right < n && (acc.counts[right] as number) < (acc.counts[left] as number) ? right : left;
    if ((acc.counts[i] as number) <= (acc.counts[child] as number)) return;
    swap(acc, positions, i, child);
    i = child;
  }
}

function byCountThenItem<I extends KeyPrimitive>(x: Entry<I>, y: Entry<I>): number {
  return y.count - x.count || compareItems(x.item, y.item);
}

const TYPE_ORDER: Record<string, number> = { boolean: 0, number: 1, bigint: 2, string: 3 };

/** The total order on items used for ties: booleans, numbers (NaN last), bigints, strings. */
function compareItems(x: KeyPrimitive, y: KeyPrimitive): number {
  const tx = typeof x;
  const ty = typeof y;
  if (tx !== ty) return (TYPE_ORDER[tx] as number) - (TYPE_ORDER[ty] as number);
  if (x !== x) return y !== y ? 0 : 1; // NaN
  if (y !== y) return -1;
  return x < y ? -1 : x > y ? 1 : 0;
}
