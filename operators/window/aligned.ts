/**
 * The window operator for aligned windows (tumbling and sliding). State lives in panes
 * `gcd(size, slide)` wide: a record updates one pane accumulator, and a window's result merges
 * the panes it covers when it fires. Keys are interned into integer ids so the hot path is a
 * pane lookup, an id lookup and one `add`, with per-key caches that skip map lookups for
 * in-order data. Records behind the watermark take a slower path that judges lateness per
 * (record, window).
 */
import type { Batch } from '../../engine/batch.js';
import { UserFunctionError } from '../../engine/errors.js';
import { KeyInterner, type Key } from '../../engine/keys.js';
import type { OperatorContext, OperatorLogic } from '../../engine/operator.js';
import { gcd, mod } from '../../engine/time.js';
import { WindowEmitter, type WindowSettings } from './emitter.js';
import type { Window } from './types.js';

interface Pane {
  readonly start: number;
  /** Keys in first-arrival order, and their accumulators (parallel). */
  readonly keyIds: number[];
  readonly accs: unknown[];
}

function lowerBound(a: readonly number[], x: number, from = 0): number {
  let lo = from;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Running state of one tumbling or sliding window operator. */
export class AlignedWindowLogic implements OperatorLogic {
  private readonly pane: number;
  private readonly keys = new KeyInterner();
  /**
   * Per key id, its open panes as flat pairs `[paneStart, slot, …]`: a key has few open panes,
   * so a short scan beats a map per pane, and a key with none is idle.
   */
  private readonly keyPanes: (number[] | undefined)[] = [];
  private readonly isIdle = (id: number): boolean => (this.keyPanes[id]?.length ?? 0) === 0;
  private readonly panes = new Map<number, Pane>();
  private starts: number[] = [];
  private curStart = NaN;
  private curPane: Pane | undefined = undefined;
  /** Panes emitted per (window start, key id), kept only while late panes are possible. */
  private readonly emitted = new Map<number, Map<number, number>>();
  private prevW = -Infinity;
  /** No firing or purging is due before the watermark reaches this (a conservative bound). */
  private nextAt = Infinity;
  private readonly emit: WindowEmitter;
  private readonly mark: number[] = [];
  private readonly tmp: unknown[] = [];
  private epoch = 0;

  constructor(
    private readonly ctx: OperatorContext,
    private readonly size: number,
    private readonly slide: number,
    private readonly offset: number,
    private readonly settings: WindowSettings,
  ) {
    this.pane = gcd(size, slide);
    this.emit = new WindowEmitter(ctx, settings);
  }

  onBatch(batch: Batch): void {
    const values = batch.values;
    const times = batch.times;
    const keys = batch.keys as readonly Key[];
    const n = values.length;
    const W = this.ctx.watermark;
    const g = this.pane;
    const offset = this.offset;
    const add = this.settings.aggregate.add;
    const agg = this.settings.aggregate;
    let i = 0;
    while (i < n) {
      try {
        for (; i < n; i++) {
          const t = times[i] as number;
          if (t <= W) {
            this.behind(values[i], t, keys[i] as Key, W);
            continue;
          }
          let r = (t - offset) % g;
          if (r < 0) r += g;
          const ps = t - r;
          const pane = ps === this.curStart ? (this.curPane as Pane) : this.paneAt(ps);
          const slot = this.slotFor(pane, this.keys.intern(keys[i] as Key));
          pane.accs[slot] = add.call(agg, pane.accs[slot], values[i]);
          this.emit.accepted++;
        }
      } catch (e) {
        if (e instanceof UserFunctionError) throw e;
        this.ctx.userError(e, values[i], times[i], 'aggregate add() threw');
        i++;
      }
    }
  }

  private paneAt(ps: number): Pane {
    let pane = this.panes.get(ps);
    if (pane === undefined) {
      pane = { start: ps, keyIds: [], accs: [] };
      this.panes.set(ps, pane);
      const due = this.alignUp(ps - this.size + 1) + this.size - 1;
      if (due < this.nextAt) this.nextAt = due;
      const s = this.starts;
      if (s.length === 0 || (s[s.length - 1] as number) < ps) s.push(ps);
      else s.splice(lowerBound(s, ps), 0, ps);
    }
    this.curStart = ps;
    this.curPane = pane;
    return pane;
  }

  /** The slot of key `id` in `pane`, created (with an empty accumulator) on first use. */
  private slotFor(pane: Pane, id: number): number {
    let pairs = this.keyPanes[id];
    if (pairs === undefined) {
      while (this.keyPanes.length <= id) {
        this.keyPanes.push(undefined);
        this.mark.push(0);
        this.tmp.push(undefined);
      }
      pairs = [];
      this.keyPanes[id] = pairs;
    } else {
      const ps = pane.start;
      for (let j = 0; j < pairs.length; j += 2) if (pairs[j] === ps) return pairs[j + 1] as number;
    }
    const slot = pane.keyIds.length;
    pane.keyIds.push(id);
    pane.accs.push(this.settings.aggregate.create());
    pairs.push(pane.start, slot);
    return slot;
  }

  /** First window start (on the slide grid) at or after `x`. */
  private alignUp(x: number): number {
    return x + mod(this.offset - x, this.slide);
  }

  /** A record at or behind the watermark: judge each of its windows. */
  private behind(value: unknown, t: number, key: Key, W: number): void {
    const { size, slide } = this;
    const L = this.settings.allowedLateness;
    const last = t - mod(t - this.offset, slide);
    let missed: Window[] | undefined;
    let admittedLate: number[] | undefined;
    let admitted = false;
    for (let s = this.alignUp(t - size + 1); s <= last; s += slide) {
      const e = s + size;
      if (W >= e - 1 + L) (missed ??= []).push({ start: s, end: e });
      else {
        admitted = true;
        if (e - 1 <= W) (admittedLate ??= []).push(s);
      }
    }
    if (missed !== undefined) this.emit.late(value, t, key, missed);
    if (!admitted) {
      this.emit.tooLate++;
      return;
    }
    let r = (t - this.offset) % this.pane;
    if (r < 0) r += this.pane;
    const pane = this.paneAt(t - r);
    const id = this.keys.intern(key);
    const slot = this.slotFor(pane, id);
    const agg = this.settings.aggregate;
    pane.accs[slot] = agg.add(pane.accs[slot], value);
    this.emit.accepted++;
    if (admittedLate === undefined) return;
    for (const s of admittedLate) {
      const perKey = this.emittedFor(s);
      const index = perKey.get(id) ?? 0;
      perKey.set(id, index + 1);
      const acc = this.settings.discarding ? agg.add(agg.create(), value) : this.windowAcc(s, id);
      this.emit.pane(key, s, s + size, acc, 'late', index, false);
    }
  }

  private emittedFor(s: number): Map<number, number> {
    let m = this.emitted.get(s);
    if (m === undefined) {
      m = new Map();
      this.emitted.set(s, m);
    }
    return m;
  }

  /** The accumulator of window `[s, s + size)` for key `id`, merged from its panes. */
  private windowAcc(s: number, id: number): unknown {
    const agg = this.settings.aggregate;
    let acc = agg.create();
    const pairs = this.keyPanes[id] as number[];
    const end = s + this.size;
    for (let j = 0; j < pairs.length; j += 2) {
      const ps = pairs[j] as number;
      if (ps >= s && ps < end) acc = agg.merge(acc, (this.panes.get(ps) as Pane).accs[pairs[j + 1] as number]);
    }
    return acc;
  }

  onWatermark(W: number): void {
    if (W < this.nextAt) {
      this.prevW = W;
      return;
    }
    const { size, slide } = this;
    const starts = this.starts;
    if (starts.length > 0) {
      let s = this.alignUp((starts[0] as number) - size + 1);
      if (this.prevW > -Infinity) s = Math.max(s, this.alignUp(this.prevW - size + 2));
      while (s + size - 1 <= W) {
        const lo = lowerBound(starts, s);
        if (lo >= starts.length) break;
        const first = starts[lo] as number;
        if (first >= s + size) {
          s = this.alignUp(first - size + 1);
          continue;
        }
        this.fire(s, lo, W);
        s += slide;
      }
    }
    this.prevW = W;
    this.purge(W);
    this.nextAt = this.nextDue();
  }

  /** The smallest watermark at which the next window fires or the oldest pane is purged. */
  private nextDue(): number {
    const starts = this.starts;
    let next = Infinity;
    if (starts.length > 0) {
      const { size } = this;
      const first = starts[0] as number;
      let s = this.alignUp(first - size + 1);
      if (this.prevW > -Infinity) s = Math.max(s, this.alignUp(this.prevW - size + 2));
      const lo = lowerBound(starts, s);
      if (lo < starts.length) next = Math.max(s, this.alignUp((starts[lo] as number) - size + 1)) + size - 1;
      const purgeAt = first - mod(first - this.offset, this.slide) + size - 1 + this.settings.allowedLateness;
      if (purgeAt < next) next = purgeAt;
    }
    for (const s of this.emitted.keys()) {
      const purgeAt = s + this.size - 1 + this.settings.allowedLateness;
      if (purgeAt < next) next = purgeAt;
    }
    return next;
  }

  /** The on-time firing of window `[s, s + size)`, whose first pane is `starts[lo]`. */
  private fire(s: number, lo: number, W: number): void {
    const end = s + this.size;
    const L = this.settings.allowedLateness;
    const final = W >= end - 1 + L;
    const perKey = final ? undefined : this.emittedFor(s);
    const starts = this.starts;
    const agg = this.settings.aggregate;
    const hi = lowerBound(starts, end, lo);
    if (hi - lo === 1) {
      const pane = this.panes.get(starts[lo] as number) as Pane;
      for (let j = 0; j < pane.keyIds.length; j++) {
        const id = pane.keyIds[j] as number;
        perKey?.set(id, 1);
        this.emit.pane(this.keys.keyOf(id), s, end, pane.accs[j], 'on-time', 0, final);
      }
      return;
    }
    const epoch = ++this.epoch;
    const order: number[] = [];
    const mark = this.mark;
    const tmp = this.tmp;
    for (let p = lo; p < hi; p++) {
      const pane = this.panes.get(starts[p] as number) as Pane;
      for (let j = 0; j < pane.keyIds.length; j++) {
        const id = pane.keyIds[j] as number;
        if (mark[id] !== epoch) {
          mark[id] = epoch;
          tmp[id] = agg.merge(agg.create(), pane.accs[j]);
          order.push(id);
        } else {
          tmp[id] = agg.merge(tmp[id], pane.accs[j]);
        }
      }
    }
    for (const id of order) {
      perKey?.set(id, 1);
      this.emit.pane(this.keys.keyOf(id), s, end, tmp[id], 'on-time', 0, final);
      tmp[id] = undefined;
    }
  }

  /** Drops panes (and pane counters) whose every window is past `end − 1 + L`. */
  private purge(W: number): void {
    const L = this.settings.allowedLateness;
    const { size, slide, offset } = this;
    const starts = this.starts;
    let k = 0;
    while (k < starts.length) {
      const ps = starts[k] as number;
      const lastEnd = ps - mod(ps - offset, slide) + size;
      if (!(W >= lastEnd - 1 + L)) break;
      const pane = this.panes.get(ps) as Pane;
      this.panes.delete(ps);
      for (const id of pane.keyIds) {
        const pairs = this.keyPanes[id] as number[];
        const last = pairs.length - 2;
        for (let j = 0; j <= last; j += 2) {
          if (pairs[j] === ps) {
            // swap-remove: move the last pair into the hole (pair order carries no meaning)
            pairs[j] = pairs[last] as number;
            pairs[j + 1] = pairs[last + 1] as number;
            pairs.length = last;
            break;
          }
        }
        if (pairs.length === 0) this.keys.retire(id);
      }
      if (this.curPane === pane) {
        this.curPane = undefined;
        this.curStart = NaN;
      }
      k++;
    }
    if (k > 0) {
      this.starts = starts.slice(k);
      this.keys.sweep(this.isIdle);
    }
    if (this.emitted.size > 0) {
      for (const s of this.emitted.keys()) if (W >= s + size - 1 + L) this.emitted.delete(s);
    }
  }

  stats(): Record<string, number> {
    return this.emit.stats(this.panes.size);
  }
}
