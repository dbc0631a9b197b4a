/**
 * Hosts one operator: combines its input watermarks (minimum over active inputs, idle inputs
 * left out until they catch up), calls its logic, flushes its outputs and forwards the output
 * watermark, idleness and end-of-stream.
 */
import type { Batch } from '../batch.js';
import type { NodeWatermarks } from '../checkpoint.js';
import type { Cancel, Clock } from '../clock.js';
import { CheckpointError, describeError } from '../errors.js';
import type { OnError, OperatorContext, OperatorFactory, OperatorLogic } from '../operator.js';
import { Emitter } from './emitter.js';
import type { Receiver } from './output-buffer.js';

/** The instance of a node that runs once (not on parallel workers). */
const ONE_OF_ONE = Object.freeze({ index: 0, count: 1 });

/** A running operator with `inputs` input edges. */
export class OperatorNode extends Emitter implements Receiver, OperatorContext {
  readonly logic: OperatorLogic;
  private readonly inWm: number[];
  private readonly inIdle: boolean[];
  /** An input that came back from idleness rejoins the minimum once it has caught up. */
  private readonly inJoined: boolean[];
  private readonly inEnded: boolean[];
  /** Processing time at which each input's watermark last advanced (for explanations). */
  private readonly inWmAt: number[];
  private endedInputs = 0;
  /** The combined input watermark (what `ctx.watermark` reads). */
  watermark = -Infinity;
  recordsIn = 0;

  constructor(
    name: string,
    position: string,
    readonly kind: string,
    readonly clock: Clock,
    private readonly onError: OnError,
    factory: OperatorFactory,
    inputs: number,
    resume?: unknown,
    /** Which instance this is of a node running on several parallel workers (absent: 0 of 1). */
    readonly worker: { readonly index: number; readonly count: number } = ONE_OF_ONE,
  ) {
    super(name, position);
    this.inWm = new Array<number>(inputs).fill(-Infinity);
    this.inIdle = new Array<boolean>(inputs).fill(false);
    this.inJoined = new Array<boolean>(inputs).fill(true);
    this.inEnded = new Array<boolean>(inputs).fill(false);
    this.inWmAt = new Array<number>(inputs).fill(clock.now());
    if (resume === undefined) {
      this.logic = factory.build(this);
    } else {
      try {
        this.logic = factory.build(this, resume);
      } catch (e) {
        throw new CheckpointError(`restore: operator '${name}' (${factory.kind}) refused its saved state: ${describeError(e)}`, { cause: e });
      }
    }
  }

  /**
   * The logical input of each physical input, when they differ: with parallel workers a logical
   * input has one physical input per sending worker (each with its own watermark, idleness and
   * end), while the logic sees logical input numbers.
   */
  inputOf: readonly number[] | undefined;

  /** Physical inputs whose records this instance does not count (a broadcast input on all but the first instance). */
  uncounted: readonly boolean[] | undefined;

  receiveBatch(batch: Batch, input: number): void {
    if (this.uncounted?.[input] !== true) this.recordsIn += batch.values.length;
    const map = this.inputOf;
    this.logic.onBatch(batch, map === undefined ? input : (map[input] as number));
    this.flushAll();
  }

  receiveWatermark(w: number, input: number, trace?: readonly number[]): void {
    if (!(w > (this.inWm[input] as number))) return;
    this.inWmAt[input] = this.clock.now();
    if (this.inWm.length === 1 && !this.inIdle[0] && this.inJoined[0]) {
      // One input: its watermark is ours; replay the trace only if the logic listens.
      this.inWm[0] = w;
      const logic = this.logic;
      if (logic.onWatermark !== undefined) {
        if (trace !== undefined) {
          for (let i = 0; i < trace.length; i++) {
            const v = trace[i] as number;
            if (v > this.watermark && v < w) {
              this.watermark = v;
              logic.onWatermark(v);
            }
          }
        }
        this.watermark = w;
        logic.onWatermark(w);
      } else {
        this.watermark = w;
      }
      this.forwardOut(trace);
      return;
    }
    let steps: number[] | undefined;
    if (trace !== undefined && trace.length > 1) {
      // Replay the intermediate watermarks, as if each had arrived on its own.
      for (let i = 0; i < trace.length - 1; i++) {
        const v = trace[i] as number;
        if (!(v > (this.inWm[input] as number))) continue;
        this.inWm[input] = v;
        if (!this.inJoined[input] && v >= this.watermark) this.inJoined[input] = true;
        if (this.step()) (steps ??= []).push(this.watermark);
      }
    }
    this.inWm[input] = w;
    if (!this.inJoined[input] && w >= this.watermark) this.inJoined[input] = true;
    if (this.step()) (steps ??= []).push(this.watermark);
    if (steps === undefined) return;
    this.forwardOut(steps.length > 1 ? steps : undefined);
  }

  /**
   * Forwards the output watermark: the input watermark, held back by what the logic still holds
   * (`holdWatermark`), never backwards. `trace` lists the intermediate input watermarks.
   */
  private forwardOut(trace?: readonly number[]): void {
    const hold = this.logic.holdWatermark?.() ?? Infinity;
    const out = hold < this.watermark ? hold : this.watermark;
    this.flushAll();
    if (!(out > this.outWatermark)) return;
    let steps = trace;
    if (steps !== undefined && hold < this.watermark) {
      const kept = steps.filter((v) => v > this.outWatermark && v < out);
      kept.push(out);
      steps = kept;
    }
    this.forwardWatermark(out, steps !== undefined && steps.length > 1 ? steps : undefined);
  }

  /** The node's watermarks, for a checkpoint. */
  savedWatermarks(): NodeWatermarks {
    return { inputs: [...this.inWm], input: this.watermark, output: this.outWatermark };
  }

  /** Restores `savedWatermarks()` (before any input arrives). */
  restoreWatermarks(saved: NodeWatermarks): void {
    if (saved.inputs.length !== this.inWm.length) return; // the plan changed around this node: start over
    for (let i = 0; i < this.inWm.length; i++) this.inWm[i] = saved.inputs[i] as number;
    this.watermark = saved.input;
    this.outWatermark = saved.output;
  }

  /** Each input's watermark, whether it is idle, and when it last advanced (processing time). */
  inputs(): { watermark: number; idle: boolean; joined: boolean; since: number }[] {
    return this.inWm.map((w, i) => ({ watermark: w, idle: this.inIdle[i] as boolean, joined: this.inJoined[i] as boolean, since: this.inWmAt[i] as number }));
  }

  /** Re-evaluates the output watermark after the logic released a hold (timers, async work). */
  releaseHold(): void {
    if (this.logic.holdWatermark === undefined) return;
    this.forwardOut();
    if (this.endPending && this.logic.holdWatermark() === Infinity) {
      this.endPending = false;
      this.flushAll();
      this.forwardEnd();
    }
  }

  private trackerFn: ((p: Promise<unknown>) => void) | undefined;
  /** Promises tracked before the runtime attached (e.g. work restored while building). */
  private early: Promise<unknown>[] = [];

  /** Where tracked promises go (the runtime awaits them). */
  set tracker(fn: (p: Promise<unknown>) => void) {
    this.trackerFn = fn;
    for (const p of this.early) fn(p);
    this.early = [];
  }

  track(promise: Promise<unknown>): void {
    if (this.trackerFn === undefined) this.early.push(promise);
    else this.trackerFn(promise);
  }

  callback<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      if (this.ended || this.disposed) return;
      try {
        fn(...args);
        this.flushAll();
        this.releaseHold();
      } catch (e) {
        if (this.onAsyncError === undefined) throw e;
        this.onAsyncError(e);
      }
    };
  }

  receiveIdle(idle: boolean, input: number): void {
    if (this.inIdle[input] === idle) return;
    this.inIdle[input] = idle;
    if (!idle) this.inJoined[input] = (this.inWm[input] as number) >= this.watermark;
    const all = this.inIdle.every((x) => x);
    if (this.logic.onIdle !== undefined) {
      this.logic.onIdle(all);
      this.flushAll(); // (what it emitted goes out before the idleness)
    }
    this.forwardIdle(all);
    this.advance();
  }

  receiveEnd(input: number): void {
    if (this.inEnded[input]) return;
    this.inEnded[input] = true;
    this.inIdle[input] = false;
    this.inJoined[input] = true;
    this.inWm[input] = Infinity;
    this.advance();
    if (++this.endedInputs === this.inEnded.length) {
      this.logic.onEnd?.();
      this.flushAll();
      // Work still held (in-flight async calls) finishes before end-of-stream goes downstream.
      if ((this.logic.holdWatermark?.() ?? Infinity) < Infinity) this.endPending = true;
      else this.forwardEnd();
    }
  }

  private endPending = false;

  /** Recomputes the combined input watermark; if it advanced, lets the logic react. */
  private step(): boolean {
    let min = Infinity;
    let any = false;
    let catchingUp = false;
    for (let i = 0; i < this.inWm.length; i++) {
      if (this.inIdle[i]) continue;
      if (!this.inJoined[i]) {
        catchingUp = true; // active, resumed from idleness, not yet caught up
        continue;
      }
      any = true;
      const w = this.inWm[i] as number;
      if (w < min) min = w;
    }
    // An active input still catching up keeps the output from jumping to the end of the others.
    if (min === Infinity && catchingUp) return false;
    if (!any || !(min > this.watermark)) return false;
    this.watermark = min;
    this.logic.onWatermark?.(min);
    return true;
  }

  /** Advances (if the inputs allow it) and forwards the new watermark. */
  private advance(): void {
    if (!this.step()) return;
    this.forwardOut();
  }

  userError(error: unknown, value: unknown, timestamp: number | undefined, what = 'user function threw'): void {
    if (this.onError === 'dead-letter') {
      this.deadLetter(value, `${what}: ${describeError(error)}`, timestamp);
      return;
    }
    throw this.userFunctionError(what, timestamp, error);
  }

  fail(message: string, timestamp: number | undefined, cause?: unknown): never {
    throw this.userFunctionError(message, timestamp, cause);
  }

  /** Where errors from timer callbacks go (the runtime fails the run); unset: they are thrown. */
  onAsyncError: ((error: unknown) => void) | undefined;

  schedule(at: number, callback: () => void): Cancel {
    if (this.disposed) return () => undefined;
    let cancelled = false;
    const cancel: Cancel = () => {
      if (cancelled) return;
      cancelled = true;
      this.timers.delete(cancel);
      clockCancel();
    };
    const clockCancel = this.clock.schedule(at, () => {
      this.timers.delete(cancel);
      if (this.ended || this.disposed || cancelled) return;
      try {
        callback();
        this.flushAll();
        this.releaseHold();
      } catch (e) {
        if (this.onAsyncError === undefined) throw e;
        this.onAsyncError(e);
      }
    });
    this.timers.add(cancel);
    return cancel;
  }

  /** Processing-time timers armed and not yet fired or cancelled. */
  private readonly timers = new Set<Cancel>();
  private disposed = false;

  /**
   * The run is over (ended, stopped or failed): cancels pending timers, and timers or async
   * continuations that still come do nothing — a restarted run's sinks never see a stale write.
   */
  dispose(): void {
    this.disposed = true;
    for (const cancel of [...this.timers]) cancel();
    this.timers.clear();
  }
}
