/**
 * The fluent, typed pipeline API. Each method only adds a node to the plan and returns a typed
 * handle; nothing runs until `pipeline.run()`. Typestate keeps pipelines well-formed at compile
 * time: `.window()` exists only on a `KeyedStream`, `.aggregate()` only after `.window()`.
 */
import type { Aggregate } from '../engine/aggregate.js';
import { OrderingError, PlanError } from '../engine/errors.js';
import type { Key } from '../engine/keys.js';
import type { OperatorFactory } from '../engine/operator.js';
import type { Distribution, Ordering, Plan, PlanNode, Port } from '../engine/plan.js';
import type { DeadLetter } from '../engine/runtime/emitter.js';
import type { Sink } from '../engine/sink.js';
import { type AsyncMapOptions, asyncMapOperator, checkAsyncMapOptions } from '../operators/async-map.js';
import { filterOperator } from '../operators/filter.js';
import { flatMapOperator } from '../operators/flat-map.js';
import { keyByOperator } from '../operators/key-by.js';
import { mapOperator } from '../operators/map.js';
import { scanOperator } from '../operators/scan.js';
import { sortByEventTimeOperator } from '../operators/sort-by-event-time.js';
import { passThrough } from '../engine/runtime/sink-node.js';
import type { WindowAssigner } from '../operators/window/assigners.js';
import type { ProcessWindowFn } from '../operators/window/emitter.js';
import type { LateRecord, Window, WindowResult } from '../operators/window/types.js';
import {
  type WindowOptions,
  checkAggregate,
  checkAssigner,
  checkWindowOptions,
  windowOperator,
  windowSettings,
} from '../operators/window/window-operator.js';
import { type OperatorOptions, checkFunction, checkOptions } from './options.js';
import type { OutputTag } from './output-tag.js';

/** What a stream needs of its pipeline. */
export interface PipelineCore {
  readonly plan: Plan;
}

/** @internal What a new plan node is made of. */
export interface NodeSpec {
  kind: string;
  emitsRetractions?: boolean;
  inputs: { node: PlanNode; port: Port; broadcast?: boolean }[];
  /** Where the node runs with parallel workers (default `single`). */
  distribution?: Distribution;
  factory?: OperatorFactory;
  sink?: Sink<unknown>;
  ordering: Ordering;
  orderLost?: string | undefined;
  options: OperatorOptions | undefined;
}

/** @internal Adds a plan node (used by the API modules that extend the streams). */
export function addNode(core: PipelineCore, spec: NodeSpec, where: string): PlanNode {
  const { name, onError } = checkOptions(spec.options, where);
  const node: Parameters<Plan['add']>[0] = {
    kind: spec.kind,
    inputs: spec.inputs,
    onError,
    ordering: spec.ordering,
    name,
    ...(spec.factory === undefined ? {} : { factory: spec.factory }),
    ...(spec.sink === undefined ? {} : { sink: spec.sink }),
    ...(spec.orderLost === undefined ? {} : { orderLost: spec.orderLost }),
    ...(spec.emitsRetractions === true ? { emitsRetractions: true } : {}),
    ...(spec.distribution === undefined ? {} : { distribution: spec.distribution }),
  };
  return core.plan.add(node, where);
}

/**
 * A stream of records `T`, each with an event timestamp.
 *
 * @example
 * const clicks = p.source(fromArray(rows), { timestamp: (r) => r.ts });
 * clicks.filter((c) => !c.bot).map((c) => c.user).sink(console());
 */
export class Stream<out T> {
  /** @internal */
  constructor(
    /** @internal */ readonly core: PipelineCore,
    /** @internal */ readonly node: PlanNode,
    /** @internal */ readonly port: Port = 'main',
  ) {}

  /** @internal The order this stream guarantees. */
  get ordering(): Ordering {
    return this.port === 'main' ? this.node.ordering : 'none';
  }

  /** @internal The records may include retractions (from an upstream retracting window). */
  get retracting(): boolean {
    return this.port === 'main' && this.node.emitsRetractions === true;
  }

  /** @internal */
  protected derive(kind: string, factory: OperatorFactory, options: OperatorOptions | undefined, where: string, distribution: Distribution, ordering?: Ordering, orderLost?: string): PlanNode {
    return addNode(this.core, {
      kind,
      factory,
      distribution,
      emitsRetractions: this.retracting,
      inputs: [{ node: this.node, port: this.port }],
      ordering: ordering ?? this.ordering,
      orderLost: orderLost ?? this.orderLost(),
      options,
    }, where);
  }

  /** @internal Why this stream's order is weaker than total. */
  orderLost(): string | undefined {
    if (this.port !== 'main') return `'${this.node.name}' ${this.port === 'late' ? 'late records' : 'dead letters'} have no order`;
    return this.node.orderLost;
  }

  /**
   * One output per record, with the record's timestamp.
   *
   * @example
   * clicks.map((c) => ({ user: c.user, ms: c.duration }));
   */
  map<U>(fn: (record: T) => U, options?: OperatorOptions): Stream<U> {
    checkFunction(fn, 'tidemark.map');
    return new Stream<U>(this.core, this.derive('map', mapOperator(fn), options, 'tidemark.map', 'forward'));
  }

  /**
   * An async call per record with bounded concurrency, results in input order (default) or as
   * completed; the output watermark waits for calls in flight. Calls that fail (after `retries`)
   * or time out go to dead letters with the reason.
   *
   * @example
   * orders.asyncMap(async (o, signal) => ({ ...o, customer: await crm.get(o.customerId, { signal }) }), { concurrency: 32, timeout: 2_000 });
   */
  asyncMap<U>(fn: (record: T, signal: AbortSignal) => Promise<U>, options?: AsyncMapOptions & OperatorOptions): Stream<U> {
    checkFunction(fn, 'tidemark.asyncMap');
    const settings = checkAsyncMapOptions(options);
    const ordering = settings.ordered ? this.ordering : 'none';
    const lost = settings.ordered ? undefined : 'asyncMap with ordered: false emits as calls complete';
    return new Stream<U>(this.core, this.derive('asyncMap', asyncMapOperator(fn, settings), options, 'tidemark.asyncMap', 'single', ordering, lost));
  }

  /**
   * Keeps the records for which `predicate` is truthy (a type guard narrows the type).
   *
   * @example
   * events.filter((e): e is Purchase => e.type === 'purchase');
   */
  filter<S extends T>(predicate: (record: T) => record is S, options?: OperatorOptions): Stream<S>;
  filter(predicate: (record: T) => unknown, options?: OperatorOptions): Stream<T>;
  filter(predicate: (record: T) => unknown, options?: OperatorOptions): Stream<T> {
    checkFunction(predicate, 'tidemark.filter');
    return new Stream<T>(this.core, this.derive('filter', filterOperator(predicate), options, 'tidemark.filter', 'forward'));
  }

  /**
   * Zero or more outputs per record (any iterable), each with the record's timestamp.
   *
   * @example
   * orders.flatMap((o) => o.lines);
   */
  flatMap<U>(fn: (record: T) => Iterable<U>, options?: OperatorOptions): Stream<U> {
    checkFunction(fn, 'tidemark.flatMap');
    return new Stream<U>(this.core, this.derive('flatMap', flatMapOperator(fn), options, 'tidemark.flatMap', 'forward'));
  }

  /**
   * Merges streams of the same type. The watermark is the minimum over the inputs (idle inputs
   * excluded); the merged stream has no order guarantee. To name the union, pass the other
   * streams as an array followed by options.
   *
   * @example
   * web.union(mobile, kiosk).keyBy((c) => c.user);
   * web.union([mobile, kiosk], { name: 'allClicks' });
   */
  union(...others: Stream<T>[]): Stream<T>;
  union(others: readonly Stream<T>[], options: OperatorOptions): Stream<T>;
  union(...args: unknown[]): Stream<T> {
    const named = Array.isArray(args[0]);
    const others = (named ? args[0] : args) as Stream<T>[];
    const options = (named ? args[1] : undefined) as OperatorOptions | undefined;
    for (const o of others) {
      if (!(o instanceof Stream) || o.core !== this.core) throw new PlanError('tidemark.union: every input must be a stream of the same pipeline');
    }
    const node = addNode(this.core, {
      kind: 'union',
      factory: passThrough,
      distribution: 'forward',
      inputs: [this, ...others].map((s) => ({ node: s.node, port: s.port })),
      emitsRetractions: [this, ...others].some((s) => s.retracting),
      ordering: others.length === 0 ? this.ordering : 'none',
      orderLost: others.length === 0 ? this.orderLost() : 'a union interleaves several inputs',
      options,
    }, 'tidemark.union');
    return new Stream<T>(this.core, node);
  }

  /**
   * Partitions the stream by key: a primitive or an array of primitives, compared by value. A
   * record whose key is anything else is dead-lettered with the reason.
   *
   * @example
   * clicks.keyBy((c) => [c.user, c.page]);
   */
  keyBy<K extends Key>(fn: (record: T) => K, options?: OperatorOptions): KeyedStream<K, T> {
    checkFunction(fn, 'tidemark.keyBy');
    const o = this.ordering;
    const ordering: Ordering = o === 'total' || o === 'per-key' ? o : 'none';
    const lost = o === 'per-partition' ? 'keyBy re-keys a per-partition stream (partitions are not keys)' : undefined;
    return new KeyedStream<K, T>(this.core, this.derive('keyBy', keyByOperator(fn as (r: T) => Key), options, 'tidemark.keyBy', 'forward', ordering, lost));
  }

  /**
   * Applies a custom operator (the extension point for operators Tidemark does not ship). The
   * factory's logic receives batches and watermarks through the `OperatorLogic` contract.
   *
   * @example
   * const tap: OperatorFactory = { kind: 'tap', build: (ctx) => ({ onBatch: (b) => b.values.forEach((v, i) => ctx.out.emit(v, b.times[i]!)) }) };
   * stream.transform<Click>(tap, { name: 'tap' });
   */
  transform<U>(factory: OperatorFactory, options?: OperatorOptions): Stream<U> {
    if (factory === null || typeof factory !== 'object' || typeof factory.build !== 'function' || typeof factory.kind !== 'string') {
      throw new PlanError('tidemark.transform: expected an operator factory { kind, build(ctx) }');
    }
    return new Stream<U>(this.core, this.derive(factory.kind, factory, options, 'tidemark.transform', 'single', 'none', `custom operator '${factory.kind}' declares no order`));
  }

  /**
   * Sends every record to `sink`. Returns this stream, so several sinks can follow.
   *
   * @example
   * results.sink(collect(out)).sink(console());
   */
  sink(sink: Sink<T>, options?: { readonly name?: string }): this {
    if (sink === null || typeof sink !== 'object' || typeof sink.write !== 'function') {
      throw new PlanError('tidemark.sink: expected a sink (an object with write(values, timestamps))');
    }
    addNode(this.core, {
      kind: 'sink',
      sink: sink as Sink<unknown>,
      inputs: [{ node: this.node, port: this.port }],
      ordering: 'none',
      options: options?.name === undefined ? undefined : { name: options.name },
    }, 'tidemark.sink');
    return this;
  }

  /**
   * The side output `tag` of the operator behind this stream (e.g. alerts a process function
   * routes with `ctx.output(tag, value)`).
   *
   * @example
   * const alerts = outputTag<Alert>('alerts');
   * processed.sideOutput(alerts).sink(forEach(page));
   */
  sideOutput<S>(tag: OutputTag<S>): Stream<S> {
    if (tag === null || typeof tag !== 'object' || typeof tag.name !== 'string' || tag.name.length === 0) {
      throw new PlanError('tidemark.sideOutput: expected a tag from outputTag(name)');
    }
    return new Stream<S>(this.core, this.node, `side:${tag.name}`);
  }

  /**
   * The records rejected by the node behind this stream (bad timestamps at a source, invalid
   * keys, failing user functions with `onError: 'dead-letter'`), each with the reason.
   *
   * @example
   * clicks.deadLetters().sink(forEach((d) => log.warn(d.reason)));
   */
  deadLetters(): Stream<DeadLetter> {
    return new Stream<DeadLetter>(this.core, this.node, 'dead');
  }
}

/**
 * A keyed stream: records partitioned by key `K`. Windows, scans and sorting live here.
 *
 * @example
 * clicks.keyBy((c) => c.user).window(session('PT30M')).aggregate(count());
 */
export class KeyedStream<K extends Key, T> extends Stream<T> {
  /**
   * Groups each key's records into event-time windows; follow with `.aggregate()` or `.process()`.
   *
   * @example
   * keyed.window(sliding(10_000, 2_000), { allowedLateness: 60_000, accumulation: 'discarding' });
   */
  window(assigner: WindowAssigner<T>, options: WindowOptions & OperatorOptions = {}): WindowedStream<K, T> {
    checkAssigner(assigner);
    checkWindowOptions(options);
    return new WindowedStream<K, T>(this, assigner as WindowAssigner, options);
  }

  /**
   * A running fold per key in arrival order, emitting the new state after each record. Needs
   * per-key or total order: building it over a stream without one is an `OrderingError`.
   *
   * @example
   * trades.keyBy((t) => t.symbol).scan((position, t) => position + t.qty, 0);
   */
  scan<S>(fn: (acc: S, record: T) => S, init: S, options?: OperatorOptions): Stream<S> {
    checkFunction(fn, 'tidemark.scan');
    const o = this.ordering;
    if (o !== 'per-key' && o !== 'total') {
      const why = this.orderLost() ?? `the input's ordering is '${o}'`;
      throw new OrderingError(
        `tidemark.scan: a running fold needs per-key or total order, but its input has none: ${why}. ` +
        `Declare the source's ordering, or add .sortByEventTime() before .scan()`,
      );
    }
    return new Stream<S>(this.core, this.derive('scan', scanOperator(fn, init), options, 'tidemark.scan', 'keyed'));
  }

  /**
   * Buffers records until the watermark passes them, then emits them in timestamp order
   * (records already behind the watermark go to `.late()`). The result is per-key ordered.
   *
   * @example
   * readings.keyBy((r) => r.sensor).sortByEventTime().scan((n, r) => n + r.delta, 0);
   */
  sortByEventTime(options?: OperatorOptions): SortedStream<K, T> {
    return new SortedStream<K, T>(this.core, this.derive('sortByEventTime', sortByEventTimeOperator(), options, 'tidemark.sortByEventTime', 'single', 'total', undefined));
  }
}

/** A keyed stream sorted by event time; its `late()` holds records that arrived too late to sort. */
export class SortedStream<K extends Key, T> extends KeyedStream<K, T> {
  /** Records that arrived behind the watermark (their `missedWindows` is empty). */
  late(): Stream<LateRecord<T, K>> {
    return new Stream<LateRecord<T, K>>(this.core, this.node, 'late');
  }
}

/**
 * A keyed stream grouped into windows, waiting for what to compute per window.
 *
 * @example
 * keyed.window(tumbling(60_000)).aggregate(sum((r) => r.amount));
 */
export class WindowedStream<K extends Key, T> {
  /** @internal */
  constructor(
    private readonly input: KeyedStream<K, T>,
    private readonly assigner: WindowAssigner,
    private readonly options: WindowOptions & OperatorOptions,
  ) {}

  private build(aggregate: Aggregate<unknown, unknown, unknown>, process: ProcessWindowFn | undefined, options: OperatorOptions | undefined, where: string): PlanNode {
    const settings = windowSettings(this.options, aggregate, process, this.input.retracting);
    const merged: OperatorOptions = { ...this.options, ...(options ?? {}) };
    return addNode(this.input.core, {
      kind: `window:${this.assigner.kind}`,
      factory: windowOperator(this.assigner, settings),
      distribution: 'keyed',
      emitsRetractions: settings.retracting,
      inputs: [{ node: this.input.node, port: this.input.port }],
      ordering: 'none',
      orderLost: 'window results come in firing order',
      options: { ...(merged.name === undefined ? {} : { name: merged.name }), ...(merged.onError === undefined ? {} : { onError: merged.onError }) },
    }, where);
  }

  /**
   * Computes `aggregate` per key and window; each pane is a `WindowResult` with timestamp `end − 1`.
   *
   * @example
   * keyed.window(tumbling(60_000)).aggregate(count(), { name: 'perPage' });
   */
  aggregate<A, R>(aggregate: Aggregate<T, A, R>, options?: OperatorOptions): WindowStream<K, T, R> {
    const agg = checkAggregate(aggregate, 'tidemark.aggregate');
    return new WindowStream<K, T, R>(this.input.core, this.build(agg, undefined, options, 'tidemark.aggregate'));
  }

  /**
   * Full-window logic: `fn(key, window, records)` returns the outputs of a fired pane (records in
   * arrival order), each emitted with timestamp `end − 1`.
   *
   * @example
   * keyed.window(session(60_000)).process((user, w, clicks) => [{ user, pages: clicks.length, ms: w.end - w.start }]);
   */
  process<O>(fn: (key: K, window: Window, records: T[]) => Iterable<O>, options?: OperatorOptions): LateAwareStream<O, T, K> {
    checkFunction(fn, 'tidemark.process');
    const list: Aggregate<unknown, unknown[], unknown[]> = {
      create: () => [],
      add: (acc, r) => {
        acc.push(r);
        return acc;
      },
      merge: (a, b) => {
        for (const x of b) a.push(x);
        return a;
      },
      result: (acc) => acc.slice(),
    };
    const node = this.build(list as Aggregate<unknown, unknown, unknown>, fn as unknown as ProcessWindowFn, options, 'tidemark.process');
    return new LateAwareStream<O, T, K>(this.input.core, node);
  }
}

/** A stream produced by a window operator: its `late()` routes records too late for a window. */
export class LateAwareStream<O, T, K> extends Stream<O> {
  /**
   * Records too late for at least one of their windows, with the windows they missed.
   *
   * @example
   * perUser.late().sink(forEach((l) => audit(l.value, l.missedWindows)));
   */
  late(): Stream<LateRecord<T, K>> {
    return new Stream<LateRecord<T, K>>(this.core, this.node, 'late');
  }
}

/** The results of a windowed aggregate: `WindowResult<K, R>` panes, plus `late()`. */
export class WindowStream<K, T, R> extends LateAwareStream<WindowResult<K, R>, T, K> {}
