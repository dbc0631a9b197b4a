/**
 * Keyed process functions in the fluent API: `keyed.process({ state, onRecord, onTimer })`,
 * `stream.broadcast()` and `keyed.connect(broadcast).process({ onRecord, onBroadcast, onTimer })`.
 * Added to `Stream` / `KeyedStream` by declaration merging; importing this module installs them.
 */
import { PlanError } from '../engine/errors.js';
import type { Key } from '../engine/keys.js';
import { toMillis } from '../engine/time.js';
import { broadcastProcessOperator } from '../operators/process/broadcast-operator.js';
import type { ProcessCtx } from '../operators/process/core.js';
import { type ProcessSettings, processOperator } from '../operators/process/process-operator.js';
import { type StateSpec, checkStateSpec } from '../operators/process/state.js';
import type { BroadcastProcessFunction, LateOutput, ProcessFunction, TimerInfo } from '../operators/process/types.js';
import { type OperatorOptions, checkFunction } from './options.js';
import { KeyedStream, Stream, addNode } from './stream.js';

export {
  listState, mapState, valueState,
  type ListState, type ListStateDescriptor, type MapState, type MapStateDescriptor, type StateDescriptor, type StateOf,
  type StateOptions, type StateSpec, type ValueState, type ValueStateDescriptor,
} from '../operators/process/state.js';
export type {
  BroadcastProcessContext, BroadcastProcessFunction, BroadcastState, LateOutput, OnBroadcastContext, ProcessContext,
  ProcessFunction, ProcessOutput, ReadOnlyBroadcastState, SideOutputTag, TimerInfo, TimerService,
} from '../operators/process/types.js';

/**
 * The output of a process function: a stream of what it emitted, plus `late()` for emissions
 * that fell at or behind the operator's output watermark, and `sideOutput(tag)`.
 *
 * @example
 * const out = keyed.process({ onRecord(r, ctx) { ctx.emit(r); } });
 * out.late().sink(forEach((l) => audit(l.value, l.timestamp)));
 */
export class ProcessStream<O, K> extends Stream<O> {
  /**
   * Emissions whose timestamp was at or behind the output watermark (typically outputs of
   * records that arrived behind the watermark), each with its key and the watermark.
   *
   * @example
   * processed.late().sink(collect(lateOutputs));
   */
  late(): Stream<LateOutput<O, K>> {
    return new Stream<LateOutput<O, K>>(this.core, this.node, 'late');
  }
}

/**
 * A stream marked for broadcast: every key of a connected process function sees its elements
 * (through `onBroadcast` and the broadcast state). Made by `stream.broadcast()`.
 *
 * @example
 * const rules = p.source(fromArray(ruleRows), { timestamp: (r) => r.ts, watermark: monotonic() }).broadcast();
 */
export class BroadcastStream<out B> {
  /** @internal */
  constructor(/** @internal */ readonly stream: Stream<B>) {}
}

/**
 * A keyed stream connected to a broadcast stream; follow with `.process({ onRecord, onBroadcast })`.
 *
 * @example
 * clicks.keyBy((c) => c.user).connect(rules.broadcast()).process({ onBroadcast, onRecord });
 */
export class BroadcastConnectedStream<K extends Key, T, B> {
  /** @internal */
  constructor(private readonly keyed: KeyedStream<K, T>, private readonly rules: BroadcastStream<B>) {}

  /**
   * Per-key logic that also sees broadcast state. Both inputs are applied in event-time order
   * once the combined watermark passes them (broadcast elements first at equal timestamps), so a
   * keyed record at `t` sees exactly the broadcast elements at or before `t`. Elements arriving
   * at or behind the watermark are applied at once (counted in `behindWatermark`).
   *
   * @example
   * keyed.connect(limits.broadcast()).process({
   *   onBroadcast(l, ctx) { ctx.broadcast.set(l.page, l.max); },
   *   onRecord(c, ctx) { if (c.n > (ctx.broadcast.get(c.page) ?? Infinity)) ctx.emit(c); } });
   */
  process<O = unknown, S extends StateSpec = Record<never, never>, BK = string, BV = unknown>(
    fn: BroadcastProcessFunction<K, T, B, S, O, BK, BV>,
    options?: OperatorOptions,
  ): ProcessStream<O, K> {
    const where = 'tidemark.connect().process';
    const settings = checkProcessFunction(fn, where);
    checkFunction((fn as { onBroadcast?: unknown }).onBroadcast, where, 'onBroadcast to be a function');
    const bs = (fn as { broadcastState?: { kind?: unknown; ttl?: unknown } }).broadcastState;
    if (bs !== undefined && (bs === null || typeof bs !== 'object' || bs.kind !== 'map')) throw new PlanError(`${where}: broadcastState must be a descriptor from mapState()`);
    if (bs?.ttl !== undefined) throw new PlanError(`${where}: broadcast state has no TTL (it changes only through onBroadcast)`);
    const factory = broadcastProcessOperator({ ...settings, onBroadcast: fn.onBroadcast as unknown as (e: unknown, ctx: ProcessCtx) => unknown });
    const node = addNode(this.keyed.core, {
      kind: 'broadcastProcess',
      factory,
      // Keyed records go to the owner of their key group, broadcast elements to every instance;
      // only the first instance forwards what onBroadcast emits (OperatorContext.worker).
      distribution: 'keyed',
      inputs: [{ node: this.keyed.node, port: this.keyed.port }, { node: this.rules.stream.node, port: this.rules.stream.port, broadcast: true }],
      ordering: 'none',
      orderLost: 'a process function emits in event-time and timer order',
      options,
    }, where);
    return new ProcessStream<O, K>(this.keyed.core, node);
  }
}

function checkProcessFunction(fn: unknown, where: string): ProcessSettings {
  if (fn === null || typeof fn !== 'object') throw new PlanError(`${where}: expected a process function { state?, onRecord, onTimer? }`);
  const f = fn as { state?: unknown; ttl?: unknown; onRecord?: unknown; onTimer?: unknown };
  checkFunction(f.onRecord, where, 'onRecord to be a function');
  if (f.onTimer !== undefined) checkFunction(f.onTimer, where, 'onTimer to be a function');
  let ttl: number | undefined;
  if (f.ttl !== undefined) {
    ttl = toMillis(f.ttl as Parameters<typeof toMillis>[0], where);
    if (!(ttl > 0)) throw new PlanError(`${where}: ttl must be positive, got ${ttl} ms`);
  }
  return {
    state: checkStateSpec(f.state, ttl, where),
    onRecord: (f.onRecord as (r: unknown, c: ProcessCtx) => unknown).bind(fn),
    onTimer: f.onTimer === undefined ? undefined : (f.onTimer as (t: TimerInfo, c: ProcessCtx) => unknown).bind(fn),
  };
}

declare module './stream.js' {
  interface Stream<out T> {
    /**
     * Marks this stream for broadcast, to connect to a keyed stream (`keyed.connect(s.broadcast())`).
     *
     * @example
     * const rules = ruleSource.broadcast();
     */
    broadcast(): BroadcastStream<T>;
  }
  interface KeyedStream<K extends Key, T> {
    /**
     * Per-key logic with typed state and timers. `onRecord(record, ctx)` reads and writes
     * `ctx.state.<name>`, emits with `ctx.emit(value, timestamp?)` and `ctx.output(tag, value)`,
     * and sets timers with `ctx.timers`; `onTimer(timer, ctx)` handles them with the key's state.
     * Records behind the watermark are processed too (counted in `behindWatermark`); emissions at
     * or behind the output watermark go to `late()`. Name the output type with type arguments
     * (`process<Alert, typeof state>`) — TypeScript cannot infer it from `ctx.emit` calls.
     *
     * @example
     * const state = { seen: valueState<number>() };
     * clicks.keyBy((c) => c.user).process<{ user: string; n: number }, typeof state>({ state,
     *   onRecord(c, ctx) { ctx.state.seen.set((ctx.state.seen.get() ?? 0) + 1); ctx.timers.registerEventTime(ctx.timestamp + 60_000); },
     *   onTimer(timer, ctx) { ctx.emit({ user: ctx.key, n: ctx.state.seen.get() ?? 0 }); ctx.state.seen.clear(); } });
     */
    process<O = unknown, S extends StateSpec = Record<never, never>>(fn: ProcessFunction<K, T, S, O>, options?: OperatorOptions): ProcessStream<O, K>;
    /**
     * Connects a broadcast stream: its elements update state that every key sees.
     *
     * @example
     * clicks.keyBy((c) => c.user).connect(rules.broadcast()).process({ onBroadcast, onRecord });
     */
    connect<B>(broadcast: BroadcastStream<B>): BroadcastConnectedStream<K, T, B>;
  }
}

Stream.prototype.broadcast = function broadcast<T>(this: Stream<T>): BroadcastStream<T> {
  return new BroadcastStream<T>(this);
};

KeyedStream.prototype.process = function process<K extends Key, T, O, S extends StateSpec>(
  this: KeyedStream<K, T>,
  fn: ProcessFunction<K, T, S, O>,
  options?: OperatorOptions,
): ProcessStream<O, K> {
  const where = 'tidemark.process';
  const settings = checkProcessFunction(fn, where);
  const node = addNode(this.core, {
    kind: 'process',
    factory: processOperator(settings),
    distribution: 'keyed',
    inputs: [{ node: this.node, port: this.port }],
    ordering: 'none',
    orderLost: 'a process function emits in arrival and timer order',
    options,
  }, where);
  return new ProcessStream<O, K>(this.core, node);
};

KeyedStream.prototype.connect = function connect<K extends Key, T, B>(this: KeyedStream<K, T>, broadcast: BroadcastStream<B>): BroadcastConnectedStream<K, T, B> {
  if (!(broadcast instanceof BroadcastStream)) throw new PlanError('tidemark.connect: expected a broadcast stream (stream.broadcast())');
  if (broadcast.stream.core !== this.core) throw new PlanError('tidemark.connect: the broadcast stream must belong to the same pipeline');
  return new BroadcastConnectedStream<K, T, B>(this, broadcast);
};
