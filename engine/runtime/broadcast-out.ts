/**
 * The sending end of a broadcast edge between parallel workers: every record, watermark,
 * idleness change and end goes to every instance of the target (a keyed operator with a
 * broadcast input, such as a connected broadcast process function) — to the local instance
 * directly, to the others through the exchange, FIFO per channel like every other edge.
 */
import type { Batch } from '../batch.js';
import type { Control, Exchange } from './exchange.js';
import type { Receiver } from './output-buffer.js';

type Placed<C> = C extends unknown ? Omit<C, 'at'> : never;

/** Sends everything on `edge` to every worker in `targets`. */
export class BroadcastOut implements Receiver {
  constructor(
    private readonly exchange: Exchange,
    readonly edge: number,
    /** The target's instance on this worker and its physical input for this worker's sends. */
    private readonly local: { readonly to: Receiver; readonly input: number } | undefined,
    /** Where the target runs. */
    private readonly targets: readonly number[],
  ) {}

  receiveBatch(batch: Batch, _input: number): void {
    const ex = this.exchange;
    for (const w of this.targets) {
      if (w === ex.worker) this.local?.to.receiveBatch(batch, this.local.input);
      else ex.enqueueData(w, this.edge, batch.values, batch.times, batch.keys);
    }
  }

  /** `control` to every target, after the records queued so far on this edge to each. */
  private send(control: Placed<Control>, local: (to: Receiver, input: number) => void): void {
    const ex = this.exchange;
    for (const w of this.targets) {
      if (w === ex.worker) {
        if (this.local !== undefined) local(this.local.to, this.local.input);
      } else {
        ex.enqueueControl(w, this.edge, { ...control, at: ex.edgeOut(w, this.edge, false).values.length } as Control);
      }
    }
  }

  receiveWatermark(watermark: number, _input: number, trace?: readonly number[]): void {
    this.send(trace === undefined ? { k: 1, w: watermark } : { k: 1, w: watermark, tr: trace }, (to, input) => to.receiveWatermark(watermark, input, trace));
  }

  receiveIdle(idle: boolean, _input: number): void {
    this.send({ k: 2, idle }, (to, input) => to.receiveIdle(idle, input));
  }

  receiveEnd(_input: number): void {
    this.send({ k: 3 }, (to, input) => to.receiveEnd(input));
  }
}
