/**
 * Joins on keyed streams: `windowJoin` (both sides in the same windows), `intervalJoin` (pairs
 * whose timestamps are within bounds of each other) and `temporalJoin` (each record with the
 * version of a table row valid at its time). Each adds a two-input node: input 0 is the stream the
 * method is called on (left), input 1 the argument (right). Join results have no order guarantee;
 * `late()` routes the records that arrived too late, saying which side they came from.
 */
import { PlanError } from '../engine/errors.js';
import type { Key } from '../engine/keys.js';
import { type IntervalJoinOptions, checkIntervalJoinOptions, intervalJoinOperator } from '../operators/joins/interval-join.js';
import { type TemporalJoinOptions, checkTemporalJoinOptions, temporalJoinOperators } from '../operators/joins/temporal-join.js';
import type { JoinLateRecord, JoinPair } from '../operators/joins/types.js';
import { type CoGroupFn, type WindowJoinOptions, type WindowJoinSettings, checkWindowJoinOptions, windowJoinOperator } from '../operators/joins/window-join.js';
import type { WindowAssigner } from '../operators/window/assigners.js';
import type { Window } from '../operators/window/types.js';
import { type OperatorOptions, checkFunction } from './options.js';
import { KeyedStream, Stream, addNode } from './stream.js';

const ORDER_LOST = 'a join interleaves two inputs';

/**
 * The output of a join: a stream of `O`, plus `late()` for records that arrived too late.
 *
 * @example
 * const joined = clicks.keyBy((c) => c.ad).intervalJoin(views.keyBy((v) => v.ad), { lower: -60_000, upper: 0 });
 * joined.late().sink(forEach((l) => audit(l.side, l.value)));
 */
export class JoinStream<O, L, R, K> extends Stream<O> {
  /**
   * Records too late for the join, each with its `side` (`'left'` or `'right'`), key and
   * timestamp (window joins add the `missedWindows`).
   *
   * @example
   * joined.late().filter((l) => l.side === 'right');
   */
  late(): Stream<JoinLateRecord<L, R, K>> {
    return new Stream<JoinLateRecord<L, R, K>>(this.core, this.node, 'late');
  }
}

/**
 * Two keyed streams joined in the same windows, waiting for `apply(fn)` or `pairs()`.
 *
 * @example
 * orders.keyBy((o) => o.id).windowJoin(payments.keyBy((p) => p.order), tumbling(60_000))
 *   .apply((id, w, os, ps) => [{ id, paid: ps.reduce((s, p) => s + p.amount, 0) }]);
 */
export class WindowJoinedStreams<K extends Key, L, R, P> {
  /** @internal */
  constructor(
    private readonly left: KeyedStream<K, L>,
    private readonly right: KeyedStream<K, R>,
    private readonly settings: Omit<WindowJoinSettings, 'apply'>,
    private readonly options: OperatorOptions | undefined,
  ) {}

  private build(apply: CoGroupFn | undefined, options: OperatorOptions | undefined, where: string): Stream<unknown>['node'] {
    const merged: OperatorOptions = { ...(this.options ?? {}), ...(options ?? {}) };
    return addNode(this.left.core, {
      kind: 'join:window',
      distribution: 'keyed',
      factory: windowJoinOperator({ ...this.settings, apply }),
      inputs: [{ node: this.left.node, port: this.left.port }, { node: this.right.node, port: this.right.port }],
      ordering: 'none',
      orderLost: ORDER_LOST,
      options: { ...(merged.name === undefined ? {} : { name: merged.name }), ...(merged.onError === undefined ? {} : { onError: merged.onError }) },
    }, where);
  }

  /**
   * Co-groups each (key, window): `fn(key, window, lefts, rights)` returns the outputs, each emitted
   * with timestamp `window.end − 1`. Which windows fire depends on the join type: `inner` — both
   * sides present; `left`/`right` — that side present; `full` — either. An admitted late record
   * re-fires its key's window with everything so far.
   *
   * @example
   * keyedA.windowJoin(keyedB, tumbling(10_000)).apply((key, w, as, bs) => [{ key, n: as.length * bs.length }]);
   */
  apply<O>(fn: (key: K, window: Window, lefts: L[], rights: R[]) => Iterable<O>, options?: OperatorOptions): JoinStream<O, L, R, K> {
    checkFunction(fn, 'tidemark.windowJoin.apply');
    return new JoinStream<O, L, R, K>(this.left.core, this.build(fn as unknown as CoGroupFn, options, 'tidemark.windowJoin.apply'));
  }

  /**
   * Every left × right pair of each (key, window), as `{ left, right }` with timestamp
   * `window.end − 1`; outer types add unmatched records with the other side `undefined`.
   *
   * @example
   * keyedA.windowJoin(keyedB, sliding(10_000, 5_000), { type: 'left' }).pairs();
   */
  pairs(options?: OperatorOptions): JoinStream<P, L, R, K> {
    return new JoinStream<P, L, R, K>(this.left.core, this.build(undefined, options, 'tidemark.windowJoin.pairs'));
  }
}

type IntervalOpts<J> = IntervalJoinOptions & OperatorOptions & J;
type WindowOpts<J> = WindowJoinOptions & OperatorOptions & J;

declare module './stream.js' {
  interface KeyedStream<K extends Key, T> {
    /**
     * Pairs each record `a` of this stream with each record `b` of `other` with the same key and
     * `a.ts + lower ≤ b.ts ≤ a.ts + upper` (bounds inclusive unless `lowerInclusive` /
     * `upperInclusive` is false), as `{ left: a, right: b }` with timestamp `max(a.ts, b.ts)`.
     * Outer types (`'left' | 'right' | 'full'`) also emit each record that matched nothing, with its
     * own timestamp, once the watermark passes the last moment it could have matched (the output
     * watermark is held back for them). Records behind the watermark go to `late()`.
     *
     * @example
     * clicks.keyBy((c) => c.ad).intervalJoin(views.keyBy((v) => v.ad), { lower: -5_000, upper: 0 });
     * clicks.keyBy((c) => c.ad).intervalJoin(views.keyBy((v) => v.ad), { lower: -5_000, upper: 0, type: 'left' }); // right: View | undefined
     */
    intervalJoin<U>(other: KeyedStream<K, U>, options: IntervalOpts<{ readonly type?: 'inner' }>): JoinStream<JoinPair<T, U>, T, U, K>;
    intervalJoin<U>(other: KeyedStream<K, U>, options: IntervalOpts<{ readonly type: 'left' }>): JoinStream<JoinPair<T, U | undefined>, T, U, K>;
    intervalJoin<U>(other: KeyedStream<K, U>, options: IntervalOpts<{ readonly type: 'right' }>): JoinStream<JoinPair<T | undefined, U>, T, U, K>;
    intervalJoin<U>(other: KeyedStream<K, U>, options: IntervalOpts<{ readonly type: 'full' }>): JoinStream<JoinPair<T | undefined, U | undefined>, T, U, K>;
    /**
     * Groups this stream and `other` by key into the same windows (`tumbling`, `sliding`,
     * `calendar`, `session(gap)` — sessions formed over both sides' records, allowed lateness 0 —
     * or `globalWindow`); follow with `.apply(fn)` (co-group) or `.pairs()`.
     *
     * @example
     * left.keyBy((r) => r.id).windowJoin(right.keyBy((r) => r.id), tumbling(10_000)).apply((key, window, lefts, rights) => [{ key, lefts, rights }]);
     * left.keyBy((r) => r.id).windowJoin(right.keyBy((r) => r.id), tumbling(10_000), { type: 'full', allowedLateness: 5_000 }).pairs();
     */
    windowJoin<U>(other: KeyedStream<K, U>, assigner: WindowAssigner<never>, options?: WindowOpts<{ readonly type?: 'inner' }>): WindowJoinedStreams<K, T, U, JoinPair<T, U>>;
    windowJoin<U>(other: KeyedStream<K, U>, assigner: WindowAssigner<never>, options: WindowOpts<{ readonly type: 'left' }>): WindowJoinedStreams<K, T, U, JoinPair<T, U | undefined>>;
    windowJoin<U>(other: KeyedStream<K, U>, assigner: WindowAssigner<never>, options: WindowOpts<{ readonly type: 'right' }>): WindowJoinedStreams<K, T, U, JoinPair<T | undefined, U>>;
    windowJoin<U>(other: KeyedStream<K, U>, assigner: WindowAssigner<never>, options: WindowOpts<{ readonly type: 'full' }>): WindowJoinedStreams<K, T, U, JoinPair<T | undefined, U | undefined>>;
    /**
     * Joins each record of this stream at `t` with the row of `table` (a changelog: each record a
     * new version of its key's row) with the largest version timestamp `≤ t`, or `undefined`, as
     * `{ left, right }` with timestamp `t`. Records wait for the table's watermark to pass them, so
     * results do not depend on arrival order; `grace` bounds the wait (by the join's watermark).
     *
     * @example
     * orders.keyBy((o) => o.currency).temporalJoin(rates.keyBy((r) => r.currency), { grace: 60_000 })
     *   .map(({ left: o, right: r }) => ({ ...o, eur: r === undefined ? undefined : o.amount * r.rate }));
     */
    temporalJoin<U>(table: KeyedStream<K, U>, options?: TemporalJoinOptions & OperatorOptions): JoinStream<JoinPair<T, U | undefined>, T, U, K>;
  }
}

function checkOther(self: KeyedStream<Key, unknown>, other: unknown, where: string): void {
  if (!(other instanceof KeyedStream)) throw new PlanError(`${where}: the other input must be a keyed stream (call .keyBy() on it)`);
  if (other.core !== self.core) throw new PlanError(`${where}: both inputs must belong to the same pipeline`);
}

function nodeOptions(options: OperatorOptions | undefined): OperatorOptions | undefined {
  if (options === undefined) return undefined;
  return { ...(options.name === undefined ? {} : { name: options.name }), ...(options.onError === undefined ? {} : { onError: options.onError }) };
}

KeyedStream.prototype.intervalJoin = function intervalJoin<K extends Key, T, U>(
  this: KeyedStream<K, T>,
  other: KeyedStream<K, U>,
  options: IntervalJoinOptions & OperatorOptions,
): JoinStream<JoinPair<T, U>, T, U, K> {
  const where = 'tidemark.intervalJoin';
  checkOther(this, other, where);
  const settings = checkIntervalJoinOptions(options);
  const node = addNode(this.core, {
    kind: 'join:interval',
    distribution: 'keyed',
    factory: intervalJoinOperator(settings),
    inputs: [{ node: this.node, port: this.port }, { node: other.node, port: other.port }],
    ordering: 'none',
    orderLost: ORDER_LOST,
    options: nodeOptions(options),
  }, where);
  return new JoinStream<JoinPair<T, U>, T, U, K>(this.core, node);
} as KeyedStream<Key, unknown>['intervalJoin'];

KeyedStream.prototype.windowJoin = function windowJoin<K extends Key, T, U>(
  this: KeyedStream<K, T>,
  other: KeyedStream<K, U>,
  assigner: WindowAssigner,
  options?: WindowJoinOptions & OperatorOptions,
): WindowJoinedStreams<K, T, U, JoinPair<T, U>> {
  const where = 'tidemark.windowJoin';
  checkOther(this, other, where);
  const settings = checkWindowJoinOptions(assigner, options);
  return new WindowJoinedStreams<K, T, U, JoinPair<T, U>>(this, other, settings, nodeOptions(options));
} as KeyedStream<Key, unknown>['windowJoin'];

KeyedStream.prototype.temporalJoin = function temporalJoin<K extends Key, T, U>(
  this: KeyedStream<K, T>,
  table: KeyedStream<K, U>,
  options?: TemporalJoinOptions & OperatorOptions,
): JoinStream<JoinPair<T, U | undefined>, T, U, K> {
  const where = 'tidemark.temporalJoin';
  checkOther(this, table, where);
  const settings = checkTemporalJoinOptions(options);
  const { table: tableFactory, join } = temporalJoinOperators(settings);
  const name = options?.name;
  const tableNode = addNode(this.core, {
    kind: 'temporal-join:table',
    distribution: 'keyed',
    factory: tableFactory,
    inputs: [{ node: table.node, port: table.port }],
    ordering: table.ordering,
    orderLost: table.orderLost(),
    options: name === undefined ? undefined : { name: `${name}.table` },
  }, where);
  const node = addNode(this.core, {
    kind: 'join:temporal',
    distribution: 'keyed',
    factory: join,
    inputs: [{ node: this.node, port: this.port }, { node: tableNode, port: 'main' }],
    ordering: 'none',
    orderLost: ORDER_LOST,
    options: nodeOptions(options),
  }, where);
  return new JoinStream<JoinPair<T, U | undefined>, T, U, K>(this.core, node);
};
