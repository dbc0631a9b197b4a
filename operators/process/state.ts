/**
 * Keyed state of process functions: descriptors (`valueState`, `listState`, `mapState`, each with
 * an optional event-time TTL) and the cells that hold one key's state. A key's cells are created
 * once, from the descriptors, when the key is first seen; `ctx.state.<name>` is then a plain
 * property of that key's state object — no string lookup per record.
 */
import { PlanError } from '../../engine/errors.js';
import { type Duration, toMillis } from '../../engine/time.js';

/** Options of a state descriptor. */
export interface StateOptions {
  /**
   * Event-time time-to-live: the state is cleared once the watermark passes `lastUpdate + ttl`,
   * where `lastUpdate` is the timestamp of the record or event-time timer that last wrote it.
   */
  readonly ttl?: Duration;
}

/** A single value per key. */
export interface ValueStateDescriptor<T> {
  readonly kind: 'value';
  /** TTL in milliseconds, or `undefined` (kept until end of input). */
  readonly ttl: number | undefined;
  /** Type marker only (never set). */
  readonly __type?: T;
}

/** A list of values per key (appended in call order). */
export interface ListStateDescriptor<T> {
  readonly kind: 'list';
  readonly ttl: number | undefined;
  readonly __type?: T;
}

/** A map per key (keys compared as in a JavaScript `Map`). */
export interface MapStateDescriptor<K, V> {
  readonly kind: 'map';
  readonly ttl: number | undefined;
  readonly __key?: K;
  readonly __type?: V;
}

/** Any state descriptor. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a descriptor of any element type
export type StateDescriptor = ValueStateDescriptor<any> | ListStateDescriptor<any> | MapStateDescriptor<any, any>;

/** The `state` option of a process function: named descriptors. */
export type StateSpec = { readonly [name: string]: StateDescriptor };

/** Typed access to a value state. */
export interface ValueState<T> {
  /** The value, or `undefined` when unset (or cleared, or expired). */
  get(): T | undefined;
  set(value: T): void;
  clear(): void;
}

/** Typed access to a list state. */
export interface ListState<T> {
  add(value: T): void;
  /** The values in insertion order (a live read-only view: copy it to keep it). */
  get(): readonly T[];
  readonly size: number;
  clear(): void;
}

/** Typed access to a map state. */
export interface MapState<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V): void;
  delete(key: K): boolean;
  has(key: K): boolean;
  entries(): IterableIterator<[K, V]>;
  readonly size: number;
  clear(): void;
}

/** The typed `ctx.state` object for a `state` spec. */
export type StateOf<S extends StateSpec> = {
  readonly [N in keyof S]: S[N] extends ValueStateDescriptor<infer T>
    ? ValueState<T>
    : S[N] extends ListStateDescriptor<infer T>
      ? ListState<T>
      : S[N] extends MapStateDescriptor<infer K, infer V>
        ? MapState<K, V>
        : never;
};

function ttlOf(options: StateOptions | undefined, where: string): number | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object') throw new PlanError(`${where}: options must be an object`);
  if (options.ttl === undefined) return undefined;
  const ttl = toMillis(options.ttl, where);
  if (!(ttl > 0)) throw new PlanError(`${where}: ttl must be positive, got ${ttl} ms`);
  return ttl;
}

/**
 * A value-state descriptor for a process function's `state`.
 *
 * @example
 * keyed.process({ state: { seen: valueState<number>({ ttl: 'PT1H' }) },
 *   onRecord(r, ctx) { ctx.state.seen.set((ctx.state.seen.get() ?? 0) + 1); } });
 */
export function valueState<T>(options?: StateOptions): ValueStateDescriptor<T> {
  return Object.freeze({ kind: 'value', ttl: ttlOf(options, 'tidemark.valueState') });
}

/**
 * A list-state descriptor for a process function's `state`.
 *
 * @example
 * keyed.process({ state: { recent: listState<Click>() },
 *   onRecord(c, ctx) { ctx.state.recent.add(c); } });
 */
export function listState<T>(options?: StateOptions): ListStateDescriptor<T> {
  return Object.freeze({ kind: 'list', ttl: ttlOf(options, 'tidemark.listState') });
}

/**
 * A map-state descriptor for a process function's `state` (also the shape of broadcast state).
 *
 * @example
 * keyed.process({ state: { byPage: mapState<string, number>() },
 *   onRecord(c, ctx) { ctx.state.byPage.set(c.page, (ctx.state.byPage.get(c.page) ?? 0) + 1); } });
 */
export function mapState<K, V>(options?: StateOptions): MapStateDescriptor<K, V> {
  return Object.freeze({ kind: 'map', ttl: ttlOf(options, 'tidemark.mapState') });
}

/** Validates a `state` spec (plan time); returns its entries with each TTL resolved. */
export function checkStateSpec(spec: unknown, defaultTtl: number | undefined, where: string): { name: string; kind: StateDescriptor['kind']; ttl: number | undefined }[] {
  if (spec === undefined) return [];
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new PlanError(`${where}: state must be an object of state descriptors`);
  return Object.keys(spec).map((name) => {
    const d = (spec as Record<string, unknown>)[name] as StateDescriptor | undefined;
    if (d === null || typeof d !== 'object' || (d.kind !== 'value' && d.kind !== 'list' && d.kind !== 'map')) {
      throw new PlanError(`${where}: state '${name}' must be a descriptor from valueState(), listState() or mapState()`);
    }
    return { name, kind: d.kind, ttl: d.ttl ?? defaultTtl };
  });
}

/** Where cells report writes (for TTL) — the operator's key table. */
export interface StateHost {
  /** The event time a write happens at (the record's or event-time timer's timestamp). */
  readonly updateTime: number;
  /** Queues an expiry check for `cell` at `at` (called once per cell until it fires). */
  queueExpiry(cell: Cell, at: number): void;
}

/** One key's state under one descriptor. */
export abstract class Cell {
  /** Largest update time of a write (TTL cells only). */
  lastUpdate = -Infinity;
  /** An expiry check for this cell is queued. */
  queued = false;
  /** When the queued expiry check runs (meaningful while `queued`). */
  queuedAt = Infinity;

  constructor(protected readonly host: StateHost, readonly ttl: number | undefined) {}

  abstract get empty(): boolean;
  abstract clear(): void;
  /** The cell's contents as plain data (for snapshots; may share the live objects). */
  abstract dump(): unknown;
  /** Sets the contents from what `dump()` returned; returns a problem, or undefined when it fits. */
  abstract load(data: unknown): string | undefined;

  /** Records a write for TTL. */
  protected touch(): void {
    const ttl = this.ttl;
    if (ttl === undefined) return;
    const t = this.host.updateTime;
    if (t > this.lastUpdate) this.lastUpdate = t;
    if (!this.queued) {
      this.queued = true;
      this.host.queueExpiry(this, this.lastUpdate + ttl);
    }
  }
}

/** @internal */
export class ValueCell<T> extends Cell implements ValueState<T> {
  private value: T | undefined = undefined;
  private has = false;
  get empty(): boolean {
    return !this.has;
  }
  get(): T | undefined {
    return this.value;
  }
  set(value: T): void {
    this.value = value;
    this.has = true;
    this.touch();
  }
  clear(): void {
    this.value = undefined;
    this.has = false;
  }
  /** `[]` when unset, `[value]` when set. */
  dump(): unknown {
    return this.has ? [this.value] : [];
  }
  load(data: unknown): string | undefined {
    if (!Array.isArray(data) || data.length > 1) return 'a value state must be [] or [value]';
    this.has = data.length === 1;
    this.value = data[0] as T | undefined;
    return undefined;
  }
}

/** @internal */
export class ListCell<T> extends Cell implements ListState<T> {
  private values: T[] = [];
  get empty(): boolean {
    return this.values.length === 0;
  }
  get size(): number {
    return this.values.length;
  }
  add(value: T): void {
    this.values.push(value);
    this.touch();
  }
  get(): readonly T[] {
    return this.values;
  }
  clear(): void {
    if (this.values.length > 0) this.values = [];
  }
  /** The values in order (a copy: the list grows in place). */
  dump(): unknown {
    return this.values.slice();
  }
  load(data: unknown): string | undefined {
    if (!Array.isArray(data)) return 'a list state must be an array';
    this.values = data.slice() as T[];
    return undefined;
  }
}

/** @internal */
export class MapCell<K, V> extends Cell implements MapState<K, V> {
  private readonly map = new Map<K, V>();
  get empty(): boolean {
    return this.map.size === 0;
  }
  get size(): number {
    return this.map.size;
  }
  get(key: K): V | undefined {
    return this.map.get(key);
  }
  set(key: K, value: V): void {
    this.map.set(key, value);
    this.touch();
  }
  delete(key: K): boolean {
    const had = this.map.delete(key);
    if (had) this.touch();
    return had;
  }
  has(key: K): boolean {
    return this.map.has(key);
  }
  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
  }
  clear(): void {
    this.map.clear();
  }
  /** `[[key, value], …]` in insertion order. */
  dump(): unknown {
    return [...this.map];
  }
  load(data: unknown): string | undefined {
    const problem = entriesProblem(data);
    if (problem !== undefined) return `a map state ${problem}`;
    for (const [k, v] of data as [K, V][]) this.map.set(k, v);
    return undefined;
  }
}

/** Why `data` is not a list of `[key, value]` pairs, or undefined. */
export function entriesProblem(data: unknown): string | undefined {
  if (!Array.isArray(data)) return 'must be an array of [key, value] pairs';
  for (const e of data) if (!Array.isArray(e) || e.length !== 2) return 'must be an array of [key, value] pairs';
  return undefined;
}

/** Creates one key's cells for the resolved spec (once per key). */
export function createCells(
  spec: readonly { name: string; kind: StateDescriptor['kind']; ttl: number | undefined }[],
  host: StateHost,
): { cells: Cell[]; state: Record<string, Cell> } {
  const cells: Cell[] = [];
  const state: Record<string, Cell> = {};
  for (const d of spec) {
    const cell = d.kind === 'value' ? new ValueCell(host, d.ttl) : d.kind === 'list' ? new ListCell(host, d.ttl) : new MapCell(host, d.ttl);
    cells.push(cell);
    state[d.name] = cell;
  }
  return { cells, state };
}
