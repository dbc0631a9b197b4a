/**
 * The two-input test harness for joins: two hand-driven sources (`left` and `right`), each with
 * its own watermark, around the pipeline fragment under test. Like `harness()`: synchronous, no
 * watermark generators, no real time; output is taken with the same `take…` methods.
 */
import {
  type DeadLetter,
  ManualClock,
  Pipeline,
  type RunSummary,
  type Source,
  Stream,
  collect,
} from '../index.js';
import { type Timestamped, capture, manualInput } from './harness.js';

/** Options of `joinHarness()`. */
export interface JoinHarnessOptions {
  /** Processing time at start (default 0). */
  readonly processingTime?: number;
  /** Names of the two input sources (default `'left'` and `'right'`). */
  readonly names?: readonly [string, string];
}

type Driver = ReturnType<Pipeline['compile']>['sources'][number];

/** A two-input pipeline fragment under test. Every method is synchronous. */
export class JoinHarness<L, R, O> {
  readonly clock: ManualClock;
  private readonly output: Timestamped<O>[] = [];
  private readonly lateOut: unknown[] = [];
  private readonly dead: DeadLetter[] = [];
  private readonly runtime: ReturnType<Pipeline['compile']>;
  private readonly left: Driver;
  private readonly right: Driver;

  constructor(build: (left: Stream<L>, right: Stream<R>) => Stream<O>, options: JoinHarnessOptions = {}) {
    this.clock = new ManualClock(options.processingTime ?? 0);
    const p = new Pipeline({ clock: this.clock, maxFutureSkew: false, batchSize: 1 });
    const [ln, rn] = options.names ?? ['left', 'right'];
    const left = p.source(manualInput as Source<L>, { name: ln });
    const right = p.source(manualInput as Source<R>, { name: rn });
    const out = build(left, right);
    if (!(out instanceof Stream)) throw new TypeError('tidemark.joinHarness: build must return a stream of the input pipeline');
    out.sink(capture(this.output), { name: 'harness-output' });
    for (const node of [...p.plan.nodes]) {
      if (node.kind.startsWith('join:') || node.kind.startsWith('window:') || node.kind === 'sortByEventTime') {
        new Stream<unknown>(p, node, 'late').sink(collect(this.lateOut));
      }
    }
    p.deadLetters().sink(collect(this.dead), { name: 'harness-dead-letters' });
    this.runtime = p.compile(true);
    [this.left, this.right] = this.runtime.sources as [Driver, Driver];
  }

  /** Adds one record to the left input at `timestamp`. */
  addLeft(value: L, timestamp: number): void {
    this.left.records([value], [timestamp]);
  }

  /** Adds one record to the right input at `timestamp`. */
  addRight(value: R, timestamp: number): void {
    this.right.records([value], [timestamp]);
  }

  /** Moves both inputs' watermarks to `w` (left first; smaller values than before are ignored). */
  advanceWatermarkTo(w: number): void {
    this.left.advanceWatermark(w);
    this.right.advanceWatermark(w);
  }

  /** Moves only the left input's watermark. */
  advanceLeftWatermarkTo(w: number): void {
    this.left.advanceWatermark(w);
  }

  /** Moves only the right input's watermark. */
  advanceRightWatermarkTo(w: number): void {
    this.right.advanceWatermark(w);
  }

  /** Moves processing time to `t` (absolute), firing processing-time timers due by then. */
  advanceProcessingTimeTo(t: number): void {
    this.clock.advanceTo(t);
  }

  /** End of both inputs (left first): watermarks go to +∞, everything still held is emitted. */
  finish(): void {
    this.left.finish();
    this.right.finish();
  }

  /** Results emitted since the last take, in emission order. */
  takeOutput(): O[] {
    return this.takeOutputWithTimestamps().map((x) => x.value);
  }

  /** Results with their event timestamps, emitted since the last take. */
  takeOutputWithTimestamps(): Timestamped<O>[] {
    return this.output.splice(0, this.output.length);
  }

  /** Late records (with their `side`) since the last take. */
  takeLate<T = unknown>(): T[] {
    return this.lateOut.splice(0, this.lateOut.length) as T[];
  }

  /** Dead letters since the last take. */
  takeDeadLetters(): DeadLetter[] {
    return this.dead.splice(0, this.dead.length);
  }

  /** Counters so far, as `pipeline.run()` would report them. */
  summary(): RunSummary {
    return this.runtime.summary();
  }
}

/**
 * Builds a two-input harness around `build`, which receives the left and right input streams and
 * returns the stream to observe.
 *
 * @example
 * const h = joinHarness((l: Stream<Click>, r: Stream<View>) =>
 *   l.keyBy((c) => c.ad).intervalJoin(r.keyBy((v) => v.ad), { lower: -5_000, upper: 0 }));
 * h.addRight(view, 1_000); h.addLeft(click, 3_000);
 * h.takeOutput(); // [{ left: click, right: view }]
 */
export function joinHarness<L, R, O>(build: (left: Stream<L>, right: Stream<R>) => Stream<O>, options?: JoinHarnessOptions): JoinHarness<L, R, O> {
  return new JoinHarness<L, R, O>(build, options);
}
