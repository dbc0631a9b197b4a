/**
 * The test harness: run a pipeline fragment by hand. The test adds records, moves the watermark
 * and processing time, and takes what came out — no watermark generator, no real time, no sleeps.
 */
import {
  type DeadLetter,
  type Key,
  type LateRecord,
  ManualClock,
  Pipeline,
  type RunSummary,
  type Sink,
  type Source,
  Stream,
  collect,
} from '../index.js';

/** Options of `harness()`. */
export interface HarnessOptions {
  /** Processing time at start (default 0). */
  readonly processingTime?: number;
  /** Name of the harness input source (default `'input'`). */
  readonly name?: string;
  /** Operator state to start from (what `snapshot()` of an earlier harness returned). */
  readonly restore?: Readonly<Record<string, unknown>>;
}

/** An output value with its event timestamp. */
export interface Timestamped<T> {
  readonly value: T;
  readonly timestamp: number;
}

/** @internal A source whose records and watermarks the harness pushes by hand. */
export const manualInput: Source<never> = Object.freeze({
  kind: 'harness',
  providesTimestamps: true,
  providesWatermarks: true,
  open(): never {
    throw new Error('harness inputs are driven by hand');
  },
});

/** @internal A sink that records every value with its timestamp. */
export function capture<T>(into: Timestamped<T>[]): Sink<T> {
  return {
    kind: 'harness-capture',
    write(values, timestamps) {
      for (let i = 0; i < values.length; i++) into.push({ value: values[i] as T, timestamp: timestamps[i] as number });
    },
  };
}

/**
 * A pipeline fragment under test. Every method is synchronous (awaiting it also works). Output
 * within one step comes in a deterministic order.
 */
export class Harness<T, R> {
  readonly clock: ManualClock;
  private readonly output: Timestamped<R>[] = [];
  private readonly lateOut: LateRecord<unknown, unknown>[] = [];
  private readonly dead: DeadLetter[] = [];
  private readonly runtime: ReturnType<Pipeline['compile']>;
  private readonly driver: ReturnType<Pipeline['compile']>['sources'][number];

  constructor(build: (input: Stream<T>) => Stream<R>, options: HarnessOptions = {}) {
    this.clock = new ManualClock(options.processingTime ?? 0);
    const p = new Pipeline({ clock: this.clock, maxFutureSkew: false, batchSize: 1 });
    const input = p.source(manualInput as Source<T>, { name: options.name ?? 'input' });
    const out = build(input);
    if (!(out instanceof Stream)) throw new TypeError('tidemark.harness: build must return a stream of the input pipeline');
    out.sink(capture(this.output), { name: 'harness-output' });
    for (const node of [...p.plan.nodes]) {
      if (node.kind.startsWith('window:') || node.kind.startsWith('join:') || ['sortByEventTime', 'process', 'broadcastProcess'].includes(node.kind)) {
        new Stream<LateRecord<unknown, unknown>>(p, node, 'late').sink(collect(this.lateOut));
      }
    }
    p.deadLetters().sink(collect(this.dead), { name: 'harness-dead-letters' });
    this.runtime = p.compile(true, options.restore);
    this.driver = this.runtime.sources[0] as Harness<T, R>['driver'];
  }

  /** Adds one record at `timestamp` (at the current processing time). */
  addElement(value: T, timestamp: number): void {
    this.driver.records([value], [timestamp]);
  }

  /** Adds several records in order, as one batch. */
  addElements(...elements: readonly Timestamped<T>[]): void {
    this.driver.records(elements.map((e) => e.value), elements.map((e) => e.timestamp));
  }

  /** Moves the input watermark to `w` (a smaller value than before is ignored). */
  advanceWatermarkTo(w: number): void {
    this.driver.advanceWatermark(w);
  }

  /** Moves processing time to `t` (absolute), firing processing-time timers due by then. */
  advanceProcessingTimeTo(t: number): void {
    this.clock.advanceTo(t);
  }

  /** End of input: the watermark goes to +∞ and every window fires. */
  finish(): void {
    this.driver.finish();
  }

  /** Waits for asynchronous work in the pipeline (asyncMap calls, async sink writes) to settle. */
  async settle(): Promise<void> {
    await this.runtime.settle();
  }

  /** Results emitted since the last take, in emission order. */
  takeOutput(): R[] {
    return this.takeOutputWithTimestamps().map((x) => x.value);
  }

  /** Results with their event timestamps, emitted since the last take. */
  takeOutputWithTimestamps(): Timestamped<R>[] {
    return this.output.splice(0, this.output.length);
  }

  /** Late records (too late for at least one window) since the last take. */
  takeLate<L = LateRecord<unknown, unknown>>(): L[] {
    return this.lateOut.splice(0, this.lateOut.length) as L[];
  }

  /** Dead letters since the last take. */
  takeDeadLetters(): DeadLetter[] {
    return this.dead.splice(0, this.dead.length);
  }

  /** The plan with live watermarks and counters (`pipeline.explain()`). */
  explain(): string {
    return this.runtime.explain();
  }

  /** Why `[start, end)` of `key` has not fired yet (`pipeline.whyNotFired()`). */
  whyNotFired(key: Key, window: { readonly start: number; readonly end: number }): string {
    return this.runtime.whyNotFired(key, window.start, window.end);
  }

  /**
   * The state of every operator that supports snapshots, by operator name — plain data that a new
   * harness built with `{ restore }` starts from (the checkpoint contract, operator by operator).
   */
  snapshot(): Record<string, unknown> {
    return this.runtime.snapshot();
  }

  /** Counters so far, as `pipeline.run()` would report them. */
  summary(): RunSummary {
    return this.runtime.summary();
  }
}

/**
 * Builds a harness around `build`, which receives the input stream and returns the stream to observe.
 *
 * @example
 * const h = harness((input: Stream<{ k: string; v: number }>) =>
 *   input.keyBy((r) => r.k).window(tumbling(3000)).aggregate(sum((r) => r.v)));
 * h.addElement({ k: 'a', v: 2 }, 1000);
 * h.advanceWatermarkTo(2999);
 * h.takeOutput(); // [{ key: 'a', window: { start: 0, end: 3000 }, value: 2, pane: { timing: 'on-time', index: 0, final: true } }]
 */
export function harness<T, R>(build: (input: Stream<T>) => Stream<R>, options?: HarnessOptions): Harness<T, R> {
  return new Harness<T, R>(build, options);
}
