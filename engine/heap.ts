/**
 * A binary min-heap with a comparator, used for timers, session firings and event-time sorting.
 * Ties are broken by the comparator only, so callers include a sequence number for determinism.
 */

/**
 * A min-heap of `T` ordered by `less`.
 *
 * @example
 * const h = new MinHeap<number>((a, b) => a < b);
 * h.push(3); h.push(1); h.pop(); // 1
 */
export class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  /** The smallest item, without removing it. */
  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = a[parent] as T;
      if (!this.less(item, p)) break;
      a[i] = p;
      i = parent;
    }
    a[i] = item;
  }

  /** Removes and returns the smallest item. */
  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    let i = 0;
    const n = a.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(a[r] as T, a[l] as T) ? r : l;
      if (!this.less(a[c] as T, last)) break;
      a[i] = a[c] as T;
      i = c;
    }
    a[i] = last;
    return top;
  }

  /** All items, in no particular order (for snapshots and introspection). */
  toArray(): T[] {
    return this.items.slice();
  }
}

/**
 * A min-heap of items by a numeric priority with two numeric tie-breakers, kept in parallel
 * arrays: comparisons read numbers only, never the items (cache-friendly, no callbacks).
 *
 * @example
 * const h = new NumericHeap<string>();
 * h.push('b', 30, 0, 1); h.push('a', 10, 5, 2); h.pop(); // 'a'
 */
export class NumericHeap<T> {
  private readonly k1: number[] = [];
  private readonly k2: number[] = [];
  private readonly k3: number[] = [];
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  /** The smallest priority (+∞ when empty). */
  firstKey(): number {
    return this.k1.length === 0 ? Infinity : (this.k1[0] as number);
  }

  /** Whether the entry at `i` sorts before `(a, b, c)`. */
  private before(i: number, a: number, b: number, c: number): boolean {
    const x = this.k1[i] as number;
    if (x !== a) return x < a;
    const y = this.k2[i] as number;
    if (y !== b) return y < b;
    return (this.k3[i] as number) < c;
  }

  /** Moves the entry at `from` into slot `to` (sifting moves a hole instead of swapping). */
  private move(from: number, to: number): void {
    this.k1[to] = this.k1[from] as number;
    this.k2[to] = this.k2[from] as number;
    this.k3[to] = this.k3[from] as number;
    this.items[to] = this.items[from] as T;
  }

  private place(i: number, item: T, a: number, b: number, c: number): void {
    this.k1[i] = a;
    this.k2[i] = b;
    this.k3[i] = c;
    this.items[i] = item;
  }

  /** Adds `item` with priority `(key, tie, tie2)` (compared in that order). */
  push(item: T, key: number, tie = 0, tie2 = 0): void {
    let i = this.items.length;
    this.k1.push(key);
    this.k2.push(tie);
    this.k3.push(tie2);
    this.items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.after(parent, key, tie, tie2)) break;
      this.move(parent, i);
      i = parent;
    }
    this.place(i, item, key, tie, tie2);
  }

  /** Whether the entry at `i` sorts after `(a, b, c)`. */
  private after(i: number, a: number, b: number, c: number): boolean {
    const x = this.k1[i] as number;
    if (x !== a) return x > a;
    const y = this.k2[i] as number;
    if (y !== b) return y > b;
    return (this.k3[i] as number) > c;
  }

  /** Removes and returns the item with the smallest priority. */
  pop(): T | undefined {
    const n = this.items.length;
    if (n === 0) return undefined;
    const top = this.items[0];
    const a = this.k1.pop() as number;
    const b = this.k2.pop() as number;
    const c = this.k3.pop() as number;
    const item = this.items.pop() as T;
    if (n === 1) return top;
    const m = n - 1;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= m) break;
      const r = child + 1;
      if (r < m && this.before(r, this.k1[child] as number, this.k2[child] as number, this.k3[child] as number)) child = r;
      if (!this.before(child, a, b, c)) break;
      this.move(child, i);
      i = child;
    }
    this.place(i, item, a, b, c);
    return top;
  }
}
