/**
 * Buffered output ports and the edges they feed. An operator emits into a buffer; the runtime
 * flushes the buffer as one batch to every downstream edge after each operator call, so a batch
 * in gives (at most) one batch out per port.
 */
import type { Batch } from '../batch.js';
import type { Key } from '../keys.js';
import type { Output } from '../operator.js';

/** Something that consumes batches, watermarks, idleness and end-of-stream on a numbered input. */
export interface Receiver {
  receiveBatch(batch: Batch, input: number): void;
  /**
   * The input watermark moved to `watermark`. `trace`, when present, lists the intermediate
   * watermarks (ascending, the last equal to `watermark`) that the input passed through while the
   * records before this message arrived: results are defined as if each was delivered on its own.
   */
  receiveWatermark(watermark: number, input: number, trace?: readonly number[]): void;
  receiveIdle(idle: boolean, input: number): void;
  receiveEnd(input: number): void;
}

/** An edge: a receiver and the input number it is on. */
export interface Edge {
  readonly to: Receiver;
  readonly input: number;
}

/** One output port: a buffer of emitted records plus the edges it feeds. */
export class OutputBuffer implements Output {
  private values: unknown[] = [];
  private times: number[] = [];
  private keys: Key[] | undefined = undefined;
  readonly edges: Edge[] = [];
  /** Records emitted through this port so far. */
  count = 0;

  emit(value: unknown, timestamp: number): void {
    this.values.push(value);
    this.times.push(timestamp);
  }

  emitKeyed(value: unknown, timestamp: number, key: Key): void {
    if (this.keys === undefined) this.keys = new Array<Key>(this.values.length);
    this.keys[this.values.length] = key;
    this.values.push(value);
    this.times.push(timestamp);
  }

  /**
   * Emits a whole batch at once. When nothing else is buffered the batch's arrays are passed on
   * as they are (no copy), so stages that keep every record (keyBy, the source's clean runs) cost
   * no per-record pushes.
   */
  emitBatch(batch: Batch): void {
    if (batch.values.length === 0) return;
    if (this.values.length === 0) {
      this.flushBatch(batch);
      return;
    }
    const { values, times, keys } = batch;
    for (let i = 0; i < values.length; i++) {
      if (keys === undefined) this.emit(values[i], times[i] as number);
      else this.emitKeyed(values[i], times[i] as number, keys[i] as Key);
    }
  }

  /** Sends the buffered records downstream as one batch. */
  flush(): void {
    if (this.values.length === 0) return;
    const batch: Batch = this.keys === undefined
      ? { values: this.values, times: this.times }
      : { values: this.values, times: this.times, keys: this.keys };
    this.values = [];
    this.times = [];
    this.keys = undefined;
    this.flushBatch(batch);
  }

  private flushBatch(batch: Batch): void {
    this.count += batch.values.length;
    const edges = this.edges;
    for (let i = 0; i < edges.length; i++) {
      const e = edges[i] as Edge;
      e.to.receiveBatch(batch, e.input);
    }
  }
}
