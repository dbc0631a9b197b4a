/**
 * The shapes a keyed process function sees: its context (`ctx`) in `onRecord` / `onTimer` /
 * `onBroadcast`, timers, broadcast state, and what it is built from.
 */
import type { Duration } from '../../engine/time.js';
import type { MapStateDescriptor, StateOf, StateSpec } from './state.js';

/** A tag naming a side output (structurally what `outputTag<T>(name)` returns). */
export interface SideOutputTag<T> {
  readonly name: string;
  readonly __type?: T;
}

/** A fired timer. */
export interface TimerInfo {
  /** The time it was registered for: event time, or processing time (the injected clock). */
  readonly timestamp: number;
  readonly domain: 'event-time' | 'processing-time';
}

/**
 * A key's timers. Registering the same (key, time, domain) twice gives one timer (as in Flink);
 * deleting a timer that does not exist does nothing.
 */
export interface TimerService {
  /** Fires `onTimer` once the watermark reaches `t` (`W ≥ t`); `t` is a valid event timestamp. */
  registerEventTime(t: number): void;
  deleteEventTime(t: number): void;
  /** Fires `onTimer` once processing time (the pipeline's clock) reaches `t`. */
  registerProcessingTime(t: number): void;
  deleteProcessingTime(t: number): void;
}

/** Output of a process function (main and side outputs). */
export interface ProcessOutput<O> {
  /**
   * Emits `value` at `timestamp` (default: the record's or the timer's timestamp). A timestamp
   * at or behind the operator's output watermark goes to the stream's `late()` instead, so the
   * main output never runs behind its watermark.
   */
  emit(value: O, timestamp?: number): void;
  /** Emits `value` to the side output `tag` (read with `stream.sideOutput(tag)`); not checked against the watermark. */
  output<X>(tag: SideOutputTag<X>, value: X, timestamp?: number): void;
}

/** Broadcast state as keyed records and timers see it (read only). */
export interface ReadOnlyBroadcastState<BK, BV> {
  get(key: BK): BV | undefined;
  has(key: BK): boolean;
  entries(): IterableIterator<[BK, BV]>;
  readonly size: number;
}

/** Broadcast state as `onBroadcast` sees it. */
export interface BroadcastState<BK, BV> extends ReadOnlyBroadcastState<BK, BV> {
  set(key: BK, value: BV): void;
  delete(key: BK): boolean;
  clear(): void;
}

/** The context of `onRecord` and `onTimer`; valid only during the call. */
export interface ProcessContext<K, S extends StateSpec, O> extends ProcessOutput<O> {
  readonly key: K;
  /** The record's timestamp, or the fired timer's. */
  readonly timestamp: number;
  /** The operator's current (combined) input watermark. */
  readonly watermark: number;
  /** The pipeline clock's current time. */
  readonly processingTime: number;
  /** This key's state, one typed field per descriptor. */
  readonly state: StateOf<S>;
  readonly timers: TimerService;
}

/** The context of a connected process function's `onRecord` / `onTimer`: adds read-only broadcast state. */
export interface BroadcastProcessContext<K, S extends StateSpec, O, BK, BV> extends ProcessContext<K, S, O> {
  readonly broadcast: ReadOnlyBroadcastState<BK, BV>;
}

/** The context of `onBroadcast`: no key; writable broadcast state. */
export interface OnBroadcastContext<O, BK, BV> extends ProcessOutput<O> {
  /** The broadcast element's timestamp. */
  readonly timestamp: number;
  readonly watermark: number;
  readonly processingTime: number;
  readonly broadcast: BroadcastState<BK, BV>;
}

/** What `keyed.process()` is built from. */
export interface ProcessFunction<K, T, S extends StateSpec, O> {
  /** Named state descriptors (`valueState`, `listState`, `mapState`). */
  readonly state?: S;
  /** Default event-time TTL for every descriptor that sets none. */
  readonly ttl?: Duration;
  onRecord(record: T, ctx: ProcessContext<K, S, O>): void;
  onTimer?(timer: TimerInfo, ctx: ProcessContext<K, S, O>): void;
}

/** What `keyed.connect(b).process()` is built from. */
export interface BroadcastProcessFunction<K, T, B, S extends StateSpec, O, BK, BV> {
  readonly state?: S;
  /** Declares the broadcast state's key and value types (`mapState<BK, BV>()`; no TTL). */
  readonly broadcastState?: MapStateDescriptor<BK, BV>;
  readonly ttl?: Duration;
  onRecord(record: T, ctx: BroadcastProcessContext<K, S, O, BK, BV>): void;
  onBroadcast(element: B, ctx: OnBroadcastContext<O, BK, BV>): void;
  onTimer?(timer: TimerInfo, ctx: BroadcastProcessContext<K, S, O, BK, BV>): void;
}

/** A main output that fell at or behind the output watermark (routed to `late()`). */
export interface LateOutput<O, K> {
  readonly value: O;
  readonly timestamp: number;
  /** The key it was emitted for (`undefined` from `onBroadcast`). */
  readonly key: K | undefined;
  /** The operator's output watermark at the time. */
  readonly watermark: number;
}
