/**
 * The exchange between parallel workers. On the sending side, an `ExchangeOut` sits on an edge
 * whose target runs elsewhere: it routes each record to the worker owning its key group (`hash`)
 * or to worker 0 (`gather`), delivers the local share directly, and queues the rest per
 * destination, where small batches coalesce until the next flush (a microtask: the end of the
 * current upstream call). Watermarks, idleness and end-of-stream follow the data in the same
 * queue, so each (edge, sender) channel is FIFO. On the receiving side, packets are decoded and
 * handed to the target operator's physical input for (edge, sender), so the operator's own
 * minimum rule combines the senders' watermarks.
 *
 * Flow control: a sender counts records it sent to each worker and not yet acknowledged; sources
 * wait (`ready()`) while a destination is more than `maxUnacked` behind. A receiver acknowledges a
 * packet once processed — after the asynchronous writes it caused settle, when `ackGate` says so.
 */
import type { Batch } from '../batch.js';
import { keyGroupOf } from '../key-groups.js';
import type { Key } from '../keys.js';
import { type ColumnarBatch, decodeBatch, encodeBatch } from './columnar.js';
import type { Receiver } from './output-buffer.js';

/** One message on a channel: data, a watermark (with its trace), idleness, end-of-stream. */
export type ExchangeMessage =
  | { readonly k: 0; readonly e: number; readonly b: ColumnarBatch }
  | { readonly k: 1; readonly e: number; readonly w: number; readonly tr?: readonly number[] }
  | { readonly k: 2; readonly e: number; readonly idle: boolean }
  | { readonly k: 3; readonly e: number };

/** What one `send` carries from a worker to another. */
export interface Packet {
  readonly m: readonly ExchangeMessage[];
  /** Records in the data messages (what the receiver acknowledges). */
  readonly records: number;
  /** Records of earlier packets from the destination that this worker has processed. */
  readonly ack: number;
}

/**
 * How packets move between workers: FIFO from each worker to each other worker. Implemented over
 * `MessagePort`s by the worker-threads runner and in memory by the in-thread simulation.
 */
export interface ExchangeTransport {
  /** Sends `packet` to worker `to`; the buffers in `transfer` move with it. */
  send(to: number, packet: Packet, transfer: ArrayBuffer[]): void;
  /** Sets where packets from the other workers go. */
  receive(handler: (from: number, packet: Packet) => void): void;
}

/** A local target: a receiver and its physical input number. */
interface Target {
  readonly to: Receiver;
  readonly input: number;
}

/** Data for one edge to one destination, accumulating until the next flush. */
interface OpenData {
  readonly e: number;
  values: unknown[];
  times: number[];
  keys: Key[] | undefined;
}

/** What waits to be sent to one worker. */
interface Outbox {
  items: (ExchangeMessage | OpenData)[];
  /** The open data entry of each edge (closed by a control message on the edge). */
  open: Map<number, OpenData>;
  records: number;
  ack: number;
}

/** Default: records a worker may send to another before its sources wait for acknowledgements. */
export const DEFAULT_MAX_UNACKED = 1 << 16;

/** The exchange of one worker. */
export class Exchange {
  private readonly outboxes: Outbox[];
  private readonly unacked: number[];
  /** Records sent and received per destination/sender (for quiescence checks). */
  readonly sent: number[];
  readonly received: number[];
  private readonly inbound = new Map<number, Target>();
  private flushQueued = false;
  private waiting: (() => void) | undefined;
  private waitingFor: Promise<void> | undefined;
  /** When set, acknowledgements wait for the promise it returns (async writes caused by a packet). */
  ackGate: (() => Promise<void> | undefined) | undefined;
  /** Where an error thrown while delivering a received packet goes (the run fails). */
  onError: (error: unknown) => void = (e) => {
    throw e;
  };
  /** Called after a received packet was processed. */
  onDelivered: (() => void) | undefined;

  constructor(
    readonly worker: number,
    readonly workers: number,
    readonly keyGroups: number,
    private readonly transport: ExchangeTransport,
    private readonly maxUnacked = DEFAULT_MAX_UNACKED,
  ) {
    this.outboxes = Array.from({ length: workers }, () => ({ items: [], open: new Map(), records: 0, ack: 0 }));
    this.unacked = new Array<number>(workers).fill(0);
    this.sent = new Array<number>(workers).fill(0);
    this.received = new Array<number>(workers).fill(0);
    transport.receive((from, packet) => {
      this.deliver(from, packet);
    });
  }

  /** Registers the local receiver of messages on `edge` from worker `from`. */
  inboundTo(edge: number, from: number, to: Receiver, input: number): void {
    this.inbound.set(edge * this.workers + from, { to, input });
  }

  /** Queues data for `edge` to worker `to`. */
  enqueueData(to: number, edge: number, values: readonly unknown[], times: readonly number[], keys: readonly Key[] | undefined, from = 0, end = values.length): void {
    const box = this.outboxes[to] as Outbox;
    let open = box.open.get(edge);
    if (open === undefined) {
      open = { e: edge, values: [], times: [], keys: keys === undefined ? undefined : [] };
      box.open.set(edge, open);
      box.items.push(open);
    }
    const ov = open.values;
    const ot = open.times;
    const ok = open.keys;
    for (let i = from; i < end; i++) {
      ov.push(values[i]);
      ot.push(times[i] as number);
      if (ok !== undefined) ok.push((keys as readonly Key[])[i] as Key);
    }
    box.records += end - from;
    this.scheduleFlush();
  }

  /** Queues data for `edge` to worker `to`, record by record (`keys` present for keyed edges). */
  enqueueRecord(to: number, edge: number, value: unknown, time: number, key: Key | undefined): void {
    const box = this.outboxes[to] as Outbox;
    let open = box.open.get(edge);
    if (open === undefined) {
      open = { e: edge, values: [], times: [], keys: key === undefined ? undefined : [] };
      box.open.set(edge, open);
      box.items.push(open);
    }
    open.values.push(value);
    open.times.push(time);
    if (open.keys !== undefined) open.keys.push(key as Key);
    box.records++;
  }

  /** Queues a control message (after the data already queued on its edge). */
  enqueueControl(to: number, message: ExchangeMessage): void {
    const box = this.outboxes[to] as Outbox;
    box.open.delete(message.e);
    box.items.push(message);
    this.scheduleFlush();
  }

  /** Flushes on the next microtask (the end of the current upstream call). */
  scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  /** Sends everything queued, one packet per destination. */
  flush(): void {
    this.flushQueued = false;
    for (let to = 0; to < this.workers; to++) {
      const box = this.outboxes[to] as Outbox;
      if (box.items.length === 0 && box.ack === 0) continue;
      const transfer: ArrayBuffer[] = [];
      const m: ExchangeMessage[] = [];
      for (const item of box.items) {
        if ('values' in item) {
          if (item.values.length > 0) m.push({ k: 0, e: item.e, b: encodeBatch(item.values, item.times, item.keys, transfer) });
        } else {
          m.push(item);
        }
      }
      const packet: Packet = { m, records: box.records, ack: box.ack };
      this.unacked[to] = (this.unacked[to] as number) + box.records;
      this.sent[to] = (this.sent[to] as number) + box.records;
      box.items = [];
      box.open.clear();
      box.records = 0;
      box.ack = 0;
      this.transport.send(to, packet, transfer);
    }
  }

  /** `undefined` when every destination is within its budget, else a promise for when it is. */
  ready(): Promise<void> | undefined {
    this.flush();
    if (!this.overBudget()) return undefined;
    this.waitingFor ??= new Promise<void>((resolve) => {
      this.waiting = resolve;
    });
    return this.waitingFor;
  }

  private overBudget(): boolean {
    for (let i = 0; i < this.workers; i++) if ((this.unacked[i] as number) > this.maxUnacked) return true;
    return false;
  }

  /** Wakes sources waiting in `ready()` (e.g. when the run stops). */
  release(): void {
    const wake = this.waiting;
    this.waiting = undefined;
    this.waitingFor = undefined;
    wake?.();
  }

  /** Packets that arrived before `start()` (the receiving run was still opening its sinks). */
  private early: { from: number; packet: Packet }[] | undefined = [];

  /** Starts delivering received packets (those that came early first). */
  start(): void {
    const early = this.early ?? [];
    this.early = undefined;
    for (const { from, packet } of early) this.deliver(from, packet);
  }

  private deliver(from: number, packet: Packet): void {

    if (this.early !== undefined) {
      this.early.push({ from, packet });
      return;
    }
    if (packet.ack > 0) {
      this.unacked[from] = (this.unacked[from] as number) - packet.ack;
      if (this.waiting !== undefined && !this.overBudget()) this.release();
    }
    try {
      const workers = this.workers;
      for (const msg of packet.m) {
        const target = this.inbound.get(msg.e * workers + from);
        if (target === undefined) throw new Error(`exchange: worker ${this.worker} has no receiver for edge ${msg.e} from worker ${from}`);
        switch (msg.k) {
          case 0:
            target.to.receiveBatch(decodeBatch(msg.b), target.input);
            break;
          case 1:
            target.to.receiveWatermark(msg.w, target.input, msg.tr);
            break;
          case 2:
            target.to.receiveIdle(msg.idle, target.input);
            break;
          case 3:
            target.to.receiveEnd(target.input);
            break;
        }
      }
    } catch (error) {
      this.onError(error);
    }
    this.received[from] = (this.received[from] as number) + packet.records;
    if (packet.records > 0) this.acknowledge(from, packet.records);
    this.onDelivered?.();
  }

  private acknowledge(from: number, records: number): void {
    const gate = this.ackGate?.();
    const send = (): void => {
      (this.outboxes[from] as Outbox).ack += records;
      this.scheduleFlush();
    };
    if (gate === undefined) send();
    else gate.then(send, send);
  }
}

/**
 * The sending end of one edge whose target runs on other workers (or on several): routes
 * records by key group (`hash`) or to worker 0 (`gather`); the local share goes straight to
 * `local`, the target's instance on this worker, if there is one.
 */
export class ExchangeOut implements Receiver {
  /** Destination of each record of the current batch (reused). */
  private dest = new Int32Array(1024);
  private readonly counts: Int32Array;

  constructor(
    private readonly exchange: Exchange,
    readonly edge: number,
    private readonly mode: 'hash' | 'gather',
    /** The target's instance on this worker and its physical input for this worker's sends. */
    private readonly local: { readonly to: Receiver; readonly input: number } | undefined,
    /** Where the target runs (all workers for `hash`, worker 0 for `gather`). */
    private readonly targets: readonly number[],
    private readonly what: string,
  ) {
    this.counts = new Int32Array(exchange.workers);
  }

  receiveBatch(batch: Batch, _input: number): void {
    const ex = this.exchange;
    const me = ex.worker;
    if (this.mode === 'gather') {
      if (me === 0) (this.local as Target).to.receiveBatch(batch, (this.local as Target).input);
      else ex.enqueueData(0, this.edge, batch.values, batch.times, batch.keys);
      return;
    }
    const keys = batch.keys;
    if (keys === undefined) throw new Error(`exchange: ${this.what} needs a keyed stream, but received records without keys`);
    const n = keys.length;
    const workers = ex.workers;
    const groups = ex.keyGroups;
    if (this.dest.length < n) this.dest = new Int32Array(Math.max(n, this.dest.length * 2));
    const dest = this.dest;
    const counts = this.counts;
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const d = keyGroupOf(keys[i] as Key, groups) % workers;
      dest[i] = d;
      counts[d] = (counts[d] as number) + 1;
    }
    for (let w = 0; w < workers; w++) {
      const c = counts[w] as number;
      if (c === 0) continue;
      if (c === n) {
        // The whole batch goes to one worker.
        if (w === me) (this.local as Target).to.receiveBatch(batch, (this.local as Target).input);
        else ex.enqueueData(w, this.edge, batch.values, batch.times, keys);
        return;
      }
    }
    const { values, times } = batch;
    let localBatch: { values: unknown[]; times: number[]; keys: Key[] } | undefined;
    for (let i = 0; i < n; i++) {
      const d = dest[i] as number;
      if (d === me) {
        localBatch ??= { values: [], times: [], keys: [] };
        localBatch.values.push(values[i]);
        localBatch.times.push(times[i] as number);
        localBatch.keys.push(keys[i] as Key);
      } else {
        ex.enqueueRecord(d, this.edge, values[i], times[i] as number, keys[i] as Key);
      }
    }
    ex.scheduleFlush();
    if (localBatch !== undefined) (this.local as Target).to.receiveBatch(localBatch, (this.local as Target).input);
  }

  receiveWatermark(watermark: number, _input: number, trace?: readonly number[]): void {
    for (const w of this.targets) {
      if (w === this.exchange.worker) (this.local as Target).to.receiveWatermark(watermark, (this.local as Target).input, trace);
      else this.exchange.enqueueControl(w, trace === undefined ? { k: 1, e: this.edge, w: watermark } : { k: 1, e: this.edge, w: watermark, tr: trace });
    }
  }

  receiveIdle(idle: boolean, _input: number): void {
    for (const w of this.targets) {
      if (w === this.exchange.worker) (this.local as Target).to.receiveIdle(idle, (this.local as Target).input);
      else this.exchange.enqueueControl(w, { k: 2, e: this.edge, idle });
    }
  }

  receiveEnd(_input: number): void {
    for (const w of this.targets) {
      if (w === this.exchange.worker) (this.local as Target).to.receiveEnd((this.local as Target).input);
      else this.exchange.enqueueControl(w, { k: 3, e: this.edge });
    }
  }
}
