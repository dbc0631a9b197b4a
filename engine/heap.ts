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
 * A min-heap of items by a numeric priority kept in a parallel array (comparisons read numbers,
 * not objects — cache-friendly), with `tie` breaking equal priorities.
 *
 * @example
 * const h = new NumericHeap<{ id: number }>((a, b) => a.id < b.id);
 * h.push({ id: 1 }, 30); h.push({ id: 2 }, 10); h.pop(); // { id: 2 }
 */
export class NumericHeap<T> {
  private readonly keys: number[] = [];
  private readonly items: T[] = [];
  constructor(private readonly tie: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  /** The smallest priority (+∞ when empty). */
  firstKey(): number {
    return this.keys.length === 0 ? Infinity : (this.keys[0] as number);
  }

  private less(i: number, j: number): boolean {
    const a = this.keys[i] as number;
    const b = this.keys[j] as number;
    return a < b || (a === b && this.tie(this.items[i] as T, this.items[j] as T));
  }

  private swap(i: number, j: number): void {
    const k = this.keys[i] as number;
    this.keys[i] = this.keys[j] as number;
    this.keys[j] = k;
    const v = this.items[i] as T;
    this.items[i] = this.items[j] as T;
    this.items[j] = v;
  }

  push(item: T, key: number): void {
    this.keys.push(key);
    this.items.push(item);
    let i = this.items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes and returns the item with the smallest priority. */
  pop(): T | undefined {
    const n = this.items.length;
    if (n === 0) return undefined;
    const top = this.items[0];
    const lastKey = this.keys.pop() as number;
    const lastItem = this.items.pop() as T;
    if (n === 1) return top;
    this.keys[0] = lastKey;
    this.items[0] = lastItem;
    let i = 0;
    const m = n - 1;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= m) break;
      const r = l + 1;
      const c = r < m && this.less(r, l) ? r : l;
      if (!this.less(c, i)) break;
      this.swap(i, c);
      i = c;
    }
    return top;
  }
}
