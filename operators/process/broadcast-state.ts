/**
 * Broadcast state: one map that every key of a connected process function sees. Only
 * `onBroadcast` writes it (applied in a deterministic order, see `broadcast-operator.ts`); keyed
 * records and timers read it.
 */
import type { BroadcastState } from './types.js';

/**
 * The broadcast state of one operator instance (a `Map` underneath: keys compared as in `Map`).
 *
 * @example
 * const rules = new BroadcastStore<string, number>();
 * rules.set('max-clicks', 10);
 * rules.get('max-clicks'); // 10
 */
export class BroadcastStore<BK, BV> implements BroadcastState<BK, BV> {
  private readonly map = new Map<BK, BV>();
  get size(): number {
    return this.map.size;
  }
  get(key: BK): BV | undefined {
    return this.map.get(key);
  }
  has(key: BK): boolean {
    return this.map.has(key);
  }
  entries(): IterableIterator<[BK, BV]> {
    return this.map.entries();
  }
  set(key: BK, value: BV): void {
    this.map.set(key, value);
  }
  delete(key: BK): boolean {
    return this.map.delete(key);
  }
  clear(): void {
    this.map.clear();
  }
}
