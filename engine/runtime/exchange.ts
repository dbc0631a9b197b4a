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
 * A packet that cannot be encoded or sent (a record structured cloning rejects, a failed
 * transport) fails the run through `onError` with an `ExchangeError` naming the edge's target, the
 * destination and the record at fault; its records stay queued (none is dropped silently) and the
 * exchange sends nothing more.
 *
 * Flow control: a sender counts records it sent to each worker and not yet acknowledged; sources
 * wait (`ready()`) while a destination is more than `maxUnacked` behind. A receiver acknowledges a
 * packet once processed — after the asynchronous writes it caused settle, when `ackGate` says so.
 */
import type { Batch } from '../batch.js';
import { ExchangeError, describeError } from '../errors.js';
import { keyGroupOf } from '../key-groups.js';
import type { Key } from '../keys.js';
import { type ColumnarBatch, decodeBatch, encodeBatch } from './columnar.js';
import type { Receiver } from './output-buffer.js';
import { whyUncloneable } from './uncloneable.js';

/** A watermark (with its trace), idleness or end-of-stream, after the first `at` records of its edge in the packet. */
export type Control =
  | { readonly at: number; readonly k: 1; readonly w: number; readonly tr?: readonly number[] }
  | { readonly at: number; readonly k: 2; readonly idle: boolean }
  | { readonly at: number; readonly k: 3 };

/** What a packet carries for one edge: its records (one columnar batch) and the controls between them, in order. */
export interface EdgeMessage {
  readonly e: number;
  readonly b?: ColumnarBatch;
  readonly c?: readonly Control[];
}

/** What one `send` carries from a worker to another. */
export interface Packet {
  readonly m: readonly EdgeMessage[];
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
  /**
   * Runs `flush` soon — after the current task, so that the records of several upstream calls
   * travel together (default: the next microtask).
   */
  schedule?(flush: () => void): void;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A local target: a receiver and its physical input number. */
interface Target {
  readonly to: Receiver;
  readonly input: number;
}

/** What waits to be sent on one edge to one worker. */
interface EdgeOut {
  readonly e: number;
  values: unknown[];
  times: number[];
  keys: Key[] | undefined;
  controls: Control[] | undefined;
}

/** What waits to be sent to one worker. */
interface Outbox {
  readonly edges: Map<number, EdgeOut>;
  records: number;
  ack: number;
}

/** Default: records a worker may send to another before its sources wait for acknowledgements. */
export const DEFAULT_MAX_UNACKED = 1 << 15;
/** Queued records for one worker that are sent at once, without waiting for the scheduled flush. */
const FLUSH_RECORDS = 1 << 10;

/** The exchange of one worker. */
export class Exchange {
  private readonly outboxes: Outbox[];
  private readonly unacked: number[];
  /** Messages (records and controls) sent to / received from each worker: a cut is quiet when they match. */
  readonly sent: number[];
  readonly received: number[];
  private readonly inbound = new Map<number, Target>();
  /** What each outgoing edge feeds (for errors), e.g. `'count'`. */
  private readonly edgeNames = new Map<number, string>();
  /** Set once a send failed: the run is failing, nothing more is sent. */
  private failed = false;
  private flushQueued = false;
  private waiting: (() => void) | undefined;
  private waitingFor: Promise<void> | undefined;
  private readonly flushNow = (): void => this.flush();
  /** When set, acknowledgements wait for the promise it returns (async writes caused by a packet). */
  ackGate: (() => Promise<void> | undefined) | undefined;
  /** Where an error thrown while delivering a received packet, or sending one, goes (the run fails). */
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
    this.outboxes = Array.from({ length: workers }, () => ({ edges: new Map(), records: 0, ack: 0 }));
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

  /** Names what outgoing `edge` feeds (its target operator), for error messages. */
  nameEdge(edge: number, what: string): void {
    this.edgeNames.set(edge, what);
  }

  /** The queue of `edge` to worker `to`. */
  edgeOut(to: number, edge: number, keyed: boolean): EdgeOut {
    const box = this.outboxes[to] as Outbox;
    let out = box.edges.get(edge);
    if (out === undefined) {
      out = { e: edge, values: [], times: [], keys: keyed ? [] : undefined, controls: undefined };
      box.edges.set(edge, out);
    } else if (keyed && out.keys === undefined) {
      out.keys = new Array<Key>(out.values.length);
    }
    return out;
  }

  /** Queues records `[from, end)` of a batch for `edge` to worker `to`. */
  enqueueData(to: number, edge: number, values: readonly unknown[], times: readonly number[], keys: readonly Key[] | undefined, from = 0, end = values.length): void {
    const out = this.edgeOut(to, edge, keys !== undefined);
    const ov = out.values;
    const ot = out.times;
    // A port may emit batches with and without keys: keys of records without one stay undefined.
    if (keys === undefined && out.keys !== undefined) out.keys.length = ov.length + end - from;
    const ok = keys === undefined ? undefined : out.keys;
    for (let i = from; i < end; i++) {
      ov.push(values[i]);
      ot.push(times[i] as number);
      if (ok !== undefined) ok.push((keys as readonly Key[])[i] as Key);
    }
    this.added(to, end - from);
  }

  /** Counts `n` records queued for `to` (after `edgeOut(…)` pushes); flushes at the threshold. */
  added(to: number, n: number): void {
    this.count(to, n);
    this.flushIfFull(to);
  }

  /** Counts `n` records queued for `to` without flushing (several destinations filled at once). */
  count(to: number, n: number): void {
    (this.outboxes[to] as Outbox).records += n;
  }

  /** Flushes at once when `to`'s queue reached the threshold, else soon. */
  flushIfFull(to: number): void {
    if ((this.outboxes[to] as Outbox).records >= FLUSH_RECORDS) this.flush();
    else this.scheduleFlush();
  }

  /** Queues a control message on `edge` to worker `to` (after the records already queued on it). */
  enqueueControl(to: number, edge: number, control: Control): void {
    const out = this.edgeOut(to, edge, false);
    (out.controls ??= []).push(control);
    this.scheduleFlush();
  }

  /** Flushes soon (the transport decides when; default: the next microtask). */
  scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    if (this.transport.schedule !== undefined) this.transport.schedule(this.flushNow);
    else queueMicrotask(this.flushNow);
  }

  /** Sends everything queued, one packet per destination; a failure fails the run (`onError`). */
  flush(): void {
    this.flushQueued = false;
    for (let to = 0; to < this.workers && !this.failed; to++) {
      const box = this.outboxes[to] as Outbox;
      if (box.edges.size === 0 && box.ack === 0) continue;
      const transfer: ArrayBuffer[] = [];
      const m: EdgeMessage[] = [];
      let controls = 0;
      // What the packet really carries (the count the receiver acknowledges and the budget uses).
      let records = 0;
      try {
        for (const out of box.edges.values()) {
          controls += out.controls?.length ?? 0;
          records += out.values.length;
          const data = out.values.length === 0 ? undefined : encodeBatch(out.values, out.times, out.keys, transfer);
          m.push(data === undefined ? { e: out.e, ...(out.controls === undefined ? {} : { c: out.controls }) } : { e: out.e, b: data, ...(out.controls === undefined ? {} : { c: out.controls }) });
        }
        // Sent before the queue is cleared: if the transport throws, the records are still queued.
        this.transport.send(to, { m, records, ack: box.ack }, transfer);
      } catch (error) {
        this.failed = true;
        this.onError(this.sendError(to, box, error));
        return;
      }
      this.unacked[to] = (this.unacked[to] as number) + records;
      this.sent[to] = (this.sent[to] as number) + records + controls;
      box.edges.clear();
      box.records = 0;
      box.ack = 0;
    }
  }

  /** The error for a packet to `to` that could not be encoded or sent: names the record at fault, if one is. */
  private sendError(to: number, box: Outbox, cause: unknown): ExchangeError {
    let queued = 0;
    for (const out of box.edges.values()) queued += out.values.length;
    const unsent = `${queued} queued record(s) to worker ${to} not sent`;
    for (const out of box.edges.values()) {
      const what = this.edgeNames.get(out.e) ?? `edge ${out.e}`;
      for (let i = 0; i < out.values.length; i++) {
        const why = whyUncloneable(out.values[i]) ?? (out.keys === undefined ? undefined : whyUncloneable(out.keys[i]));
        if (why === undefined) continue;
        return new ExchangeError(
          `exchange: a record for ${what} (timestamp ${out.times[i] as number}) cannot cross from worker ${this.worker} to worker ${to}: value cannot be cloned: ${why}; ${unsent}`,
          what,
          { cause },
        );
      }
    }
    const what = [...box.edges.keys()].map((e) => this.edgeNames.get(e) ?? `edge ${e}`).join(', ');
    return new ExchangeError(`exchange: sending to worker ${to} failed (for ${what === '' ? 'acknowledgements' : what}): ${describeError(cause)}; ${unsent}`, what, { cause });
  }

  /** `undefined` when every destination is within its budget, else a promise for when it is. */
  ready(): Promise<void> | undefined {
    if (!this.overBudget()) return undefined;
    this.flush();
    this.waitingFor ??= new Promise<void>((resolve) => {
      this.waiting = resolve;
    });
    return this.waitingFor;
  }

  private overBudget(): boolean {
    for (let i = 0; i < this.workers; i++) {
      if ((this.unacked[i] as number) + (this.outboxes[i] as Outbox).records > this.maxUnacked) return true;
    }
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
    let controls = 0;
    try {
      for (const msg of packet.m) {
        controls += msg.c?.length ?? 0;
        this.deliverEdge(from, msg);
      }
    } catch (error) {
      this.onError(error);
    }
    this.received[from] = (this.received[from] as number) + packet.records + controls;
    if (packet.records > 0) this.acknowledge(from, packet.records);
    this.onDelivered?.();
  }

  /** Replays one edge's part of a packet: records up to each control, the control, the rest. */
  private deliverEdge(from: number, msg: EdgeMessage): void {
    const target = this.inbound.get(msg.e * this.workers + from);
    if (target === undefined) throw new Error(`exchange: worker ${this.worker} has no receiver for edge ${msg.e} from worker ${from}`);
    const { to, input } = target;
    const batch = msg.b === undefined ? undefined : decodeBatch(msg.b);
    const n = batch === undefined ? 0 : batch.values.length;
    let at = 0;
    const upTo = (end: number): void => {
      if (end <= at || batch === undefined) return;
      to.receiveBatch(at === 0 && end === n ? batch : slice(batch, at, end), input);
      at = end;
    };
    for (const c of msg.c ?? []) {
      upTo(c.at);
      if (c.k === 1) to.receiveWatermark(c.w, input, c.tr);
      else if (c.k === 2) to.receiveIdle(c.idle, input);
      else to.receiveEnd(input);
    }
    upTo(n);
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

const EMPTY: unknown[] = [];
const EMPTY_TIMES: number[] = [];
const EMPTY_KEYS: Key[] = [];

function slice(b: Batch, from: number, to: number): Batch {
  const values = b.values.slice(from, to);
  const times = b.times.slice(from, to);
  return b.keys === undefined ? { values, times } : { values, times, keys: b.keys.slice(from, to) };
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
  private readonly outs: (ReturnType<Exchange['edgeOut']> | undefined)[];

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
    this.outs = new Array(exchange.workers).fill(undefined);
    exchange.nameEdge(edge, what);
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
    if (n === 0) return;
    const workers = ex.workers;
    const groups = ex.keyGroups;
    // Fast path: while every record goes where the first one goes (co-partitioned input: all to
    // this worker), only hash; if the whole batch does, it moves on as it is — no copy, no encode.
    const first = keyGroupOf(keys[0] as Key, groups) % workers;
    let same = 1;
    while (same < n && keyGroupOf(keys[same] as Key, groups) % workers === first) same++;
    if (same === n) {
      if (first === me) (this.local as Target).to.receiveBatch(batch, (this.local as Target).input);
      else ex.enqueueData(first, this.edge, batch.values, batch.times, keys);
      return;
    }
    if (this.dest.length < n) this.dest = new Int32Array(Math.max(n, this.dest.length * 2));
    const dest = this.dest;
    const counts = this.counts;
    counts.fill(0);
    dest.fill(first, 0, same);
    counts[first] = same;
    for (let i = same; i < n; i++) {
      const d = keyGroupOf(keys[i] as Key, groups) % workers;
      dest[i] = d;
      counts[d] = (counts[d] as number) + 1;
    }
    const { values, times } = batch;
    const outs = this.outs;
    for (let w = 0; w < workers; w++) outs[w] = (counts[w] as number) > 0 && w !== me ? ex.edgeOut(w, this.edge, true) : undefined;
    // The local share, in arrays of its exact size (no growth while filling them).
    const local = counts[me] as number;
    const lv = local === 0 ? EMPTY : new Array<unknown>(local);
    const lt = local === 0 ? EMPTY_TIMES : new Array<number>(local);
    const lk = local === 0 ? EMPTY_KEYS : new Array<Key>(local);
    let l = 0;
    for (let i = 0; i < n; i++) {
      const d = dest[i] as number;
      if (d === me) {
        lv[l] = values[i];
        lt[l] = times[i] as number;
        lk[l] = keys[i] as Key;
        l++;
      } else {
        const out = outs[d] as { values: unknown[]; times: number[]; keys: Key[] | undefined };
        out.values.push(values[i]);
        out.times.push(times[i] as number);
        (out.keys as Key[]).push(keys[i] as Key);
      }
    }
    if (local > 0) (this.local as Target).to.receiveBatch({ values: lv, times: lt, keys: lk }, (this.local as Target).input);
    // Every destination counted before any flush: a flush sends all queues, so a count added after
    // it would be budget for records already gone.
    for (let w = 0; w < workers; w++) if (outs[w] !== undefined) ex.count(w, counts[w] as number);
    for (let w = 0; w < workers; w++) if (outs[w] !== undefined) ex.flushIfFull(w);
  }

  /** `control` placed after the records queued so far on this edge to `to`. */
  private control(to: number, control: DistributiveOmit<Control, 'at'>): Control {
    const at = this.exchange.edgeOut(to, this.edge, false).values.length;
    return { ...control, at } as Control;
  }

  receiveWatermark(watermark: number, _input: number, trace?: readonly number[]): void {
    for (const w of this.targets) {
      if (w === this.exchange.worker) (this.local as Target).to.receiveWatermark(watermark, (this.local as Target).input, trace);
      else this.exchange.enqueueControl(w, this.edge, this.control(w, trace === undefined ? { k: 1, w: watermark } : { k: 1, w: watermark, tr: trace }));
    }
  }

  receiveIdle(idle: boolean, _input: number): void {
    for (const w of this.targets) {
      if (w === this.exchange.worker) (this.local as Target).to.receiveIdle(idle, (this.local as Target).input);
      else this.exchange.enqueueControl(w, this.edge, this.control(w, { k: 2, idle }));
    }
  }

  receiveEnd(_input: number): void {
    for (const w of this.targets) {
      if (w === this.exchange.worker) (this.local as Target).to.receiveEnd((this.local as Target).input);
      else this.exchange.enqueueControl(w, this.edge, this.control(w, { k: 3 }));
    }
  }
}
