/**
 * `TestStream`: a scripted source in the style of Apache Beam — elements, watermark moves and
 * processing-time steps in a fixed order, usable as the source of a real pipeline.
 */
import type { Source, SourceChunk } from '../index.js';

type Step<T> = SourceChunk<T>;

/**
 * A scripted source. Builder methods return a new `TestStream` (the script is immutable).
 * `advanceProcessingTime(d)` is relative (as in Beam) and needs a pipeline with a `ManualClock`.
 *
 * @example
 * const events = TestStream.create<Click>()
 *   .addElements({ value: a, timestamp: 1000 }, { value: b, timestamp: 1500 })
 *   .advanceWatermarkTo(2999)
 *   .advanceProcessingTime(60_000)
 *   .advanceWatermarkToInfinity();
 * new Pipeline({ clock: new ManualClock() }).source(events, { name: 'clicks' });
 */
export class TestStream<T> implements Source<T> {
  readonly kind = 'test-stream';
  readonly providesTimestamps = true;
  readonly providesWatermarks = true;

  private constructor(private readonly steps: readonly Step<T>[]) {}

  /** True when the script advances processing time (the pipeline then needs a ManualClock). */
  get stepsProcessingTime(): boolean {
    return this.steps.some((s) => s.kind === 'processing-time');
  }

  /** An empty script. */
  static create<T>(): TestStream<T> {
    return new TestStream<T>([]);
  }

  /** Adds elements (delivered together, in this order). */
  addElements(...elements: readonly { value: T; timestamp: number }[]): TestStream<T> {
    if (elements.length === 0) return this;
    return new TestStream<T>([...this.steps, {
      kind: 'records',
      values: elements.map((e) => e.value),
      timestamps: elements.map((e) => e.timestamp),
    }]);
  }

  /** Moves the watermark to `time` (never backwards). */
  advanceWatermarkTo(time: number): TestStream<T> {
    return new TestStream<T>([...this.steps, { kind: 'watermark', time }]);
  }

  /** Advances processing time by `d` milliseconds (relative). */
  advanceProcessingTime(d: number): TestStream<T> {
    if (!(d >= 0)) throw new RangeError(`TestStream.advanceProcessingTime: expected a non-negative duration, got ${d}`);
    return new TestStream<T>([...this.steps, { kind: 'processing-time', advanceBy: d }]);
  }

  /** Ends the script: the watermark goes to +∞ (as at end of input). */
  advanceWatermarkToInfinity(): TestStream<T> {
    return new TestStream<T>([...this.steps, { kind: 'watermark', time: Infinity }]);
  }

  open(): { next(): SourceChunk<T> | null } {
    let i = 0;
    const steps = this.steps;
    return {
      next: () => (i < steps.length ? (steps[i++] as Step<T>) : null),
    };
  }
}
