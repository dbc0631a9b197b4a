/**
 * The engine room shared by keyed process operators: the key table (state cells created once per
 * key), event-time and processing-time timers (deduplicated per key and time), event-time TTL
 * expiry, the reusable `ctx`, and emission checked against the operator's own output watermark.
 *
 * Order within one watermark advance to `W`: due event-time timers and TTL expiries run in time
 * order; at equal times timers run first (so a timer set at `lastUpdate + ttl` still sees the
 * state), timers at equal times in registration order.
 *
 * A key's results depend only on the key's own records and timers and on what every worker sees
 * alike (watermarks, broadcast input), so they are the same whichever keys share an instance (any
 * parallelism, any rescale):
 * - lateness: an emission is late when at or behind the input watermark of the last completed
 *   advance. That is the output watermark the runtime has forwarded: an advance fires every timer
 *   up to it, so no timer holds the output watermark below it, and it never goes back.
 * - the end-of-input horizon: timers that a timer sets during the end-of-input pass beyond the
 *   key's horizon (its largest record timestamp, or event-time timer set before that pass, since
 *   the key last held state) are dropped, so self-renewing timers end.
 */
import { UserFunctionError } from '../../engine/errors.js';
import { MinHeap } from '../../engine/heap.js';
import { type Key, KeyMap, ownKey } from '../../engine/keys.js';
import type { Cancel } from '../../engine/clock.js';
import type { OperatorContext } from '../../engine/operator.js';
import type { StateLayout } from '../../engine/state-layout.js';
import { isValidTimestamp } from '../../engine/time.js';
import type { StateReader } from '../snapshot.js';
import { type Cell, type StateDescriptor, type StateHost, createCells } from './state.js';
import type { SideOutputTag, TimerInfo, TimerService } from './types.js';

/** One resolved state descriptor. */
export interface ResolvedState {
  readonly name: string;
  readonly kind: StateDescriptor['kind'];
  readonly ttl: number | undefined;
}

/** One key's state and timers. */
export interface KeyEntry {
  key: Key;
  readonly cells: Cell[];
  readonly state: Record<string, Cell>;
  eventTimers: Map<number, EventTimer> | undefined;
  procTimers: Map<number, ProcTimer> | undefined;
  /** The key's largest record timestamp or event-time timer set outside the end-of-input pass. */
  horizon: number;
}

interface EventTimer {
  readonly t: number;
  readonly seq: number;
  readonly entry: KeyEntry;
  cancelled: boolean;
}

interface ProcTimer {
  cancel: Cancel | undefined;
  cancelled: boolean;
  /** Registration order among the operator's processing-time timers (kept by restores). */
  readonly seq: number;
}

interface Expiry {
  readonly at: number;
  readonly seq: number;
  readonly cell: Cell;
  readonly entry: KeyEntry;
}

/** Most state objects of dropped keys kept for reuse. */
const POOL = 65_536;

const timerBefore = (a: EventTimer, b: EventTimer): boolean => a.t < b.t || (a.t === b.t && a.seq < b.seq);
const expiryBefore = (a: Expiry, b: Expiry): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/** The reusable context object (fields are reset for each call). */
export class ProcessCtx implements TimerService {
  key: Key | undefined = undefined;
  timestamp = 0;
  state: Record<string, Cell> = {};
  broadcast: unknown = undefined;

  constructor(private readonly core: ProcessCore) {}

  get watermark(): number {
    return this.core.octx.watermark;
  }
  get processingTime(): number {
    return this.core.octx.clock.now();
  }
  get timers(): TimerService {
    return this;
  }
  emit(value: unknown, timestamp?: number): void {
    this.core.emit(value, timestamp);
  }
  output(tag: SideOutputTag<unknown>, value: unknown, timestamp?: number): void {
    this.core.output(tag, value, timestamp);
  }
  registerEventTime(t: number): void {
    this.core.registerEventTime(t);
  }
  deleteEventTime(t: number): void {
    this.core.deleteEventTime(t);
  }
  registerProcessingTime(t: number): void {
    this.core.registerProcessingTime(t);
  }
  deleteProcessingTime(t: number): void {
    this.core.deleteProcessingTime(t);
  }
}

/**
 * The key-group layout of `ProcessCore.snapshot()`: each key's cells, TTL expiries, timers of both
 * domains and end-of-input horizon in its row; sequence counters merge by max; the input watermark
 * of the last advance is the same on every worker at a consistent cut. (`horizon` and `outWm` are
 * the instance-wide values of snapshots written before they moved into the rows.)
 */
export const PROCESS_STATE_LAYOUT: StateLayout = { fields: { seq: 'max', procSeq: 'max', inWm: 'same', keys: 'keyed', horizon: 'max', outWm: 'min' } };

/** Keys, state, timers, TTL and emission of one process operator instance. */
export class ProcessCore implements StateHost {
  private keys = new KeyMap<KeyEntry>();
  /** State objects of dropped keys, for reuse (all cells empty, no expiry queued). */
  private pool: KeyEntry[] = [];
  private timers = new MinHeap<EventTimer>(timerBefore);
  private expiries = new MinHeap<Expiry>(expiryBefore);
  private seq = 0;
  private procSeq = 0;
  private liveEventTimers = 0;
  private liveProcTimers = 0;
  /** The entry of the key being processed (`undefined` in `onBroadcast`). */
  private current: KeyEntry | undefined = undefined;
  /** Default output timestamp of the current call. */
  private currentTs = 0;
  /** The input watermark as of the last completed advance (`settle`): emissions at or behind it are late. */
  private inWm = -Infinity;
  /**
   * Emissions count once over all workers: false on a worker other than the first (index 0), which
   * drops what `onBroadcast` emits (every worker runs it; the first forwards its output).
   */
  readonly leader: boolean;
  /** In `onBroadcast` on a worker that is not the leader: emissions are dropped. */
  muted = false;
  /** The end-of-input pass has begun (watermark +∞). */
  ending = false;
  private inTimer = false;
  updateTime = -Infinity;
  readonly ctx: ProcessCtx;
  // counters
  accepted = 0;
  behindWatermark = 0;
  lateOutputs = 0;
  expired = 0;
  timersFired = 0;
  timersDroppedAtEnd = 0;

  constructor(
    readonly octx: OperatorContext,
    private readonly spec: readonly ResolvedState[],
    private readonly onRecord: (record: unknown, ctx: ProcessCtx) => unknown,
    private readonly onTimer: ((timer: TimerInfo, ctx: ProcessCtx) => unknown) | undefined,
  ) {
    this.ctx = new ProcessCtx(this);
    this.leader = (octx.worker?.index ?? 0) === 0;
  }

  // ---- records ------------------------------------------------------------------------------

  /** Runs `onRecord` for one record of `key` at `t`. */
  processRecord(value: unknown, t: number, key: Key): void {
    const entry = this.entryFor(key);
    if (t > entry.horizon) entry.horizon = t;
    this.enter(entry, t, t);
    try {
      const r = this.onRecord(value, this.ctx);
      if (r instanceof Promise) this.octx.fail('process onRecord returned a promise; process functions are synchronous — use asyncMap for async work', t);
      this.accepted++;
    } catch (e) {
      if (e instanceof UserFunctionError) throw e;
      this.octx.userError(e, value, t, 'process onRecord threw');
    } finally {
      this.leave(entry);
    }
  }

  /** Makes `entry` current for a call at `ts` (writes happen at `updateTime`). */
  enter(entry: KeyEntry | undefined, ts: number, updateTime: number): void {
    this.current = entry;
    this.currentTs = ts;
    this.updateTime = updateTime;
    const ctx = this.ctx;
    ctx.timestamp = ts;
    if (entry !== undefined) {
      ctx.key = entry.key;
      ctx.state = entry.state;
    } else {
      ctx.key = undefined;
    }
  }

  /** Ends a call: drops the key when it holds no state and no timers. */
  leave(entry: KeyEntry | undefined): void {
    this.current = undefined;
    if (entry !== undefined) this.collect(entry);
  }

  private entryFor(key: Key): KeyEntry {
    let entry = this.keys.get(key);
    if (entry === undefined) {
      entry = this.pool.pop();
      if (entry !== undefined) {
        entry.key = ownKey(key);
        entry.horizon = -Infinity;
      } else {
        const { cells, state } = createCells(this.spec, this);
        entry = { key: ownKey(key), cells, state, eventTimers: undefined, procTimers: undefined, horizon: -Infinity };
      }
      this.keys.set(entry.key, entry);
    }
    return entry;
  }

  private static isEmpty(entry: KeyEntry): boolean {
    if ((entry.eventTimers?.size ?? 0) > 0 || (entry.procTimers?.size ?? 0) > 0) return false;
    const cells = entry.cells;
    for (let i = 0; i < cells.length; i++) if (!(cells[i] as Cell).empty) return false;
    return true;
  }

  /**
   * Drops a key that holds no state and no timers, so memory follows the live keys. Its state
   * object is kept for reuse by another key (at most {@link POOL} of them), so that the usual
   * rhythm — record, timer clears the state, record — does not allocate per key.
   */
  private collect(entry: KeyEntry): void {
    if (!ProcessCore.isEmpty(entry) || this.keys.get(entry.key) !== entry) return;
    this.keys.delete(entry.key);
    if (this.pool.length >= POOL) return;
    const cells = entry.cells;
    for (let i = 0; i < cells.length; i++) if ((cells[i] as Cell).queued) return;
    for (let i = 0; i < cells.length; i++) (cells[i] as Cell).lastUpdate = -Infinity;
    this.pool.push(entry);
  }

  // ---- emission -----------------------------------------------------------------------------

  emit(value: unknown, timestamp?: number): void {
    const ts = timestamp === undefined ? this.currentTs : this.checkTs(timestamp, 'emit');
    if (this.muted) return;
    const wm = this.inWm;
    if (ts <= wm) {
      this.lateOutputs++;
      this.octx.late.emit({ value, timestamp: ts, key: this.current?.key, watermark: wm }, ts);
      return;
    }
    this.octx.out.emit(value, ts);
  }

  output(tag: SideOutputTag<unknown>, value: unknown, timestamp?: number): void {
    if (tag === null || typeof tag !== 'object' || typeof tag.name !== 'string' || tag.name.length === 0) {
      this.octx.fail('ctx.output needs a tag from outputTag(name)', this.currentTs);
    }
    const ts = timestamp === undefined ? this.currentTs : this.checkTs(timestamp, 'output');
    if (this.muted) return;
    this.octx.side(tag.name).emit(value, ts);
  }

  private checkTs(t: number, what: string): number {
    if (!isValidTimestamp(t)) this.octx.fail(`ctx.${what}: timestamp ${String(t)} is not a valid event timestamp`, this.currentTs);
    return t;
  }

  // ---- timers -------------------------------------------------------------------------------

  private keyed(what: string): KeyEntry {
    const entry = this.current;
    if (entry === undefined) this.octx.fail(`ctx.timers.${what} is only available in onRecord and onTimer`, this.currentTs);
    return entry;
  }

  registerEventTime(t: number): void {
    const entry = this.keyed('registerEventTime');
    if (!isValidTimestamp(t)) this.octx.fail(`ctx.timers.registerEventTime: ${String(t)} is not a valid event timestamp`, this.currentTs);
    if (t > entry.horizon) {
      if (this.ending && this.inTimer) {
        this.timersDroppedAtEnd++;
        return;
      }
      entry.horizon = t;
    }
    const map = (entry.eventTimers ??= new Map());
    if (map.has(t)) return;
    const timer: EventTimer = { t, seq: this.seq++, entry, cancelled: false };
    map.set(t, timer);
    this.timers.push(timer);
    this.liveEventTimers++;
  }

  deleteEventTime(t: number): void {
    const entry = this.keyed('deleteEventTime');
    const timer = entry.eventTimers?.get(t);
    if (timer === undefined) return;
    timer.cancelled = true;
    entry.eventTimers?.delete(t);
    this.liveEventTimers--;
  }

  registerProcessingTime(t: number): void {
    const entry = this.keyed('registerProcessingTime');
    if (typeof t !== 'number' || !Number.isFinite(t)) this.octx.fail(`ctx.timers.registerProcessingTime: ${String(t)} is not a finite time`, this.currentTs);
    const map = (entry.procTimers ??= new Map());
    if (map.has(t)) return;
    const timer: ProcTimer = { cancel: undefined, cancelled: false, seq: this.procSeq++ };
    map.set(t, timer);
    this.liveProcTimers++;
    this.scheduleProcessingTimer(entry, t, timer);
  }

  private scheduleProcessingTimer(entry: KeyEntry, t: number, timer: ProcTimer): void {
    timer.cancel = this.octx.schedule(t, () => this.fireProcessingTimer(entry, t, timer));
  }

  deleteProcessingTime(t: number): void {
    const entry = this.keyed('deleteProcessingTime');
    const timer = entry.procTimers?.get(t);
    if (timer === undefined) return;
    timer.cancelled = true;
    timer.cancel?.();
    entry.procTimers?.delete(t);
    this.liveProcTimers--;
  }

  private fireProcessingTimer(entry: KeyEntry, t: number, timer: ProcTimer): void {
    if (timer.cancelled) return;
    timer.cancelled = true;
    entry.procTimers?.delete(t);
    this.liveProcTimers--;
    // Writes in a processing-time timer happen, for TTL, at the current input watermark.
    this.callTimer(entry, { timestamp: t, domain: 'processing-time' }, t, this.octx.watermark);
    this.settle();
  }

  private callTimer(entry: KeyEntry, info: TimerInfo, ts: number, updateTime: number): void {
    this.timersFired++;
    this.enter(entry, ts, updateTime);
    this.inTimer = true;
    try {
      if (this.onTimer !== undefined) {
        const r = this.onTimer(info, this.ctx);
        if (r instanceof Promise) this.octx.fail('process onTimer returned a promise; process functions are synchronous', ts);
      }
    } catch (e) {
      if (e instanceof UserFunctionError) throw e;
      // There is no input record to dead-letter: a failing timer fails the run.
      this.octx.fail('process onTimer threw', ts, e);
    } finally {
      this.inTimer = false;
      this.leave(entry);
    }
  }

  /** The earliest pending event-time timer, or +∞. */
  earliestTimer(): number {
    for (let h = this.timers.peek(); h !== undefined; h = this.timers.peek()) {
      if (!h.cancelled) return h.t;
      this.timers.pop();
    }
    return Infinity;
  }

  /**
   * Runs every event-time timer and TTL expiry due at or before `limit`, in time order (timers
   * before expiries at equal times), including those registered meanwhile.
   */
  fireDue(limit: number): void {
    for (;;) {
      const t = this.earliestTimer();
      const x = this.expiries.peek()?.at ?? Infinity;
      if (t <= x) {
        if (t > limit || t === Infinity) return;
        const timer = this.timers.pop() as EventTimer;
        timer.entry.eventTimers?.delete(t);
        this.liveEventTimers--;
        this.callTimer(timer.entry, { timestamp: t, domain: 'event-time' }, t, t);
      } else {
        if (x > limit || x === Infinity) return;
        this.expire(this.expiries.pop() as Expiry, limit);
      }
    }
  }

  queueExpiry(cell: Cell, at: number): void {
    const entry = this.current;
    if (entry === undefined) return;
    cell.queuedAt = at;
    this.expiries.push({ at, seq: this.seq++, cell, entry });
  }

  private expire(x: Expiry, w: number): void {
    const cell = x.cell;
    cell.queued = false;
    if (cell.empty) return;
    const due = cell.lastUpdate + (cell.ttl as number);
    if (due <= w) {
      cell.clear();
      this.expired++;
      this.collect(x.entry);
    } else {
      cell.queued = true;
      cell.queuedAt = due;
      this.expiries.push({ at: due, seq: this.seq++, cell, entry: x.entry });
    }
  }

  // ---- watermark ----------------------------------------------------------------------------

  /** The watermark moved to `w` (`+∞` at end of input: the end-of-input pass begins). */
  onWatermark(w: number): void {
    if (w === Infinity) this.ending = true;
    this.fireDue(w);
  }

  /** The operator's watermark hold (the broadcast variant adds its waiting elements). */
  hold: () => number = () => this.earliestTimer() - 1;

  /** Ends an advance (or a processing-time timer): later emissions are judged against the input watermark as it is now. */
  settle(): void {
    const w = this.octx.watermark;
    if (w > this.inWm) this.inWm = w;
  }

  /** End of input: drops every key, timer and expiry. */
  clear(): void {
    this.keys.forEach((entry) => {
      entry.procTimers?.forEach((p) => {
        p.cancelled = true;
        p.cancel?.();
      });
    });
    this.keys = new KeyMap<KeyEntry>();
    this.pool = [];
    this.timers = new MinHeap<EventTimer>(timerBefore);
    this.expiries = new MinHeap<Expiry>(expiryBefore);
    this.liveEventTimers = 0;
    this.liveProcTimers = 0;
  }

  // ---- snapshots ----------------------------------------------------------------------------

  /**
   * `{ seq, procSeq, inWm, keys: [[key, cells, eventTimers, processingTimers, horizon], …] }`:
   * per key, each cell (in descriptor order) as `[contents, lastUpdate, queuedAt | null]`, its
   * event-time timers as `[t, seq]`, processing-time timers as `[t, seq]` and its end-of-input
   * horizon. (Snapshots written before had rows of four and an instance-wide `horizon` and
   * `outWm`: they restore with those.)
   */
  snapshot(): unknown {
    const keys: unknown[] = [];
    this.keys.forEach((entry, key) => {
      const cells = entry.cells.map((c) => [c.dump(), c.lastUpdate, c.queued ? c.queuedAt : null]);
      const ev: number[][] = [];
      entry.eventTimers?.forEach((timer, t) => ev.push([t, timer.seq]));
      const pt: number[][] = [];
      entry.procTimers?.forEach((timer, t) => pt.push([t, timer.seq]));
      keys.push([key, cells, ev, pt, entry.horizon]);
    });
    return { seq: this.seq, procSeq: this.procSeq, inWm: this.inWm, keys };
  }

  /**
   * Restores what `snapshot()` returned into this fresh core: keys, cells, TTL checks, event-time
   * timers, then processing-time timers (scheduled last, in registration order).
   */
  restore(r: StateReader, resume: unknown): void {
    const o = r.object(resume, 'the state');
    const seq = r.count(o['seq'], 'seq');
    const procSeq = r.count(o['procSeq'], 'procSeq');
    // before rows held their horizon and watermark: the instance-wide ones, for every key
    const old = o['inWm'] === undefined;
    const horizon = old ? r.number(o['horizon'], 'horizon') : -Infinity;
    const inWm = r.number(old ? o['outWm'] : o['inWm'], old ? 'outWm' : 'inWm');
    const proc: { entry: KeyEntry; t: number; timer: ProcTimer }[] = [];
    for (const { key, row } of r.keyed(o['keys'], 'keys', 4)) {
      const what = `key ${String(key)}`;
      if (this.keys.get(key) !== undefined) r.fail(`${what} appears twice`);
      const { cells, state } = createCells(this.spec, this);
      if (!old && row.length !== 5) r.fail(`${what} must have 5 elements, got ${row.length}`);
      const entry: KeyEntry = { key, cells, state, eventTimers: undefined, procTimers: undefined, horizon: old ? horizon : r.number(row[4], `${what} horizon`) };
      const dumped = r.array(row[1], `${what} cells`, cells.length);
      for (let i = 0; i < cells.length; i++) {
        const cell = cells[i] as Cell;
        const name = (this.spec[i] as ResolvedState).name;
        const c = r.array(dumped[i], `${what} state '${name}'`, 3);
        const problem = cell.load(c[0]);
        if (problem !== undefined) r.fail(`${what} state '${name}': ${problem}`);
        cell.lastUpdate = r.number(c[1], `${what} state '${name}' lastUpdate`);
        if (c[2] !== null && c[2] !== undefined) {
          cell.queued = true;
          cell.queuedAt = r.number(c[2], `${what} state '${name}' expiry`);
          this.expiries.push({ at: cell.queuedAt, seq: this.seq++, cell, entry });
        }
      }
      for (const tv of r.array(row[2], `${what} event-time timers`)) {
        const [t, tseq] = r.array(tv, `${what} event-time timer`, 2);
        const timer: EventTimer = { t: r.number(t, `${what} timer time`), seq: r.count(tseq, `${what} timer seq`), entry, cancelled: false };
        (entry.eventTimers ??= new Map()).set(timer.t, timer);
        this.timers.push(timer);
        this.liveEventTimers++;
      }
      for (const tv of r.array(row[3], `${what} processing-time timers`)) {
        const [t, tseq] = r.array(tv, `${what} processing-time timer`, 2);
        const timer: ProcTimer = { cancel: undefined, cancelled: false, seq: r.count(tseq, `${what} timer seq`) };
        const at = r.number(t, `${what} timer time`);
        (entry.procTimers ??= new Map()).set(at, timer);
        proc.push({ entry, t: at, timer });
      }
      this.keys.set(key, entry);
    }
    this.seq = Math.max(this.seq, seq);
    this.procSeq = procSeq;
    this.inWm = inWm;
    this.liveProcTimers = proc.length;
    proc.sort((a, b) => a.timer.seq - b.timer.seq);
    for (const p of proc) this.scheduleProcessingTimer(p.entry, p.t, p.timer);
  }

  stats(): Record<string, number> {
    return {
      accepted: this.accepted,
      tooLate: 0,
      behindWatermark: this.behindWatermark,
      keys: this.keys.size,
      timers: this.liveEventTimers,
      processingTimers: this.liveProcTimers,
      timersFired: this.timersFired,
      timersDroppedAtEnd: this.timersDroppedAtEnd,
      expired: this.expired,
      lateOutputs: this.lateOutputs,
    };
  }
}
