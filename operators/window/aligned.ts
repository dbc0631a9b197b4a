/**
 * The window operator for aligned windows (tumbling and sliding). State lives in panes
 * `gcd(size, slide)` wide: a record updates one pane accumulator, and a window's result merges
 * the panes it covers when it fires. Each pane maps keys (by value) to slots; a purged pane is
 * simply dropped, so memory follows the open windows. Records behind the watermark take a slower
 * path that judges lateness per (record, window).
 */
import type { Batch } from '../../engine/batch.js';
import { UserFunctionError } from '../../engine/errors.js';
import { type Key, KeyMap, ownKey } from '../../engine/keys.js';
import type { OperatorContext, OperatorLogic } from '../../engine/operator.js';
import type { StateLayout } from '../../engine/state-layout.js';
import { gcd, mod } from '../../engine/time.js';
import { StateReader, accOut } from '../snapshot.js';
import { lowerBound } from './each-record.js';
import { WindowEmitter, type WindowSettings } from './emitter.js';
import type { Window } from './types.js';

interface Pane {
  readonly start: number;
  /** Key → slot; `keys[slot]` and `accs[slot]` in first-arrival order. */
  readonly slots: KeyMap<number>;
  readonly keys: Key[];
  readonly accs: unknown[];
  /** Sliding windows: each slot's key's merge slot (shared by all panes holding the key). */
  readonly merge: MergeSlot[];
}


/**
 * A key's merge slot for sliding windows, shared by every pane holding the key: its place in the
 * firing stamped `stamp` (older stamps: not yet in this firing), and how many panes hold the key.
 */
interface MergeSlot {
  stamp: number;
  at: number;
  refs: number;
}

/** The key-group layout of `AlignedWindowLogic.snapshot()`: panes and emitted counts are keyed rows grouped by start. */
export const ALIGNED_WINDOW_LAYOUT: StateLayout = { fields: { prevW: 'same', panes: { groups: 1 }, emitted: { groups: 1 } } };

/** Running state of one tumbling or sliding window operator. */
export class AlignedWindowLogic implements OperatorLogic {
  private readonly pane: number;
  private readonly panes = new Map<number, Pane>();
  /** Pane starts, ascending. */
  private starts: number[] = [];
  private curStart = NaN;
  private curPane: Pane | undefined = undefined;
  /** Panes emitted per (window start, key), kept only while late panes are possible. */
  private readonly emitted = new Map<number, KeyMap<number>>();
  private prevW = -Infinity;
  /** No firing or purging is due before the watermark reaches this (a conservative bound). */
  private nextAt = Infinity;
  private readonly emit: WindowEmitter;
  /**
   * Sliding windows: key → its merge slot, while some pane holds the key. Panes point at the
   * slots, so a firing merges its panes per key without a single map operation.
   */
  private readonly mergeIndex = new KeyMap<MergeSlot>();
  private fireStamp = 0;
  /** True when a window spans several panes (sliding): panes then keep merge slots. */
  private readonly merging: boolean;

  constructor(
    private readonly ctx: OperatorContext,
    private readonly size: number,
    private readonly slide: number,
    private readonly offset: number,
    private readonly settings: WindowSettings,
  ) {
    this.pane = gcd(size, slide);
    this.merging = size > this.pane;
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
    const agg = this.settings.aggregate;
    const add = agg.add;
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
          const key = keys[i] as Key;
          let slot = pane.slots.get(key);
          if (slot === undefined) slot = this.newSlot(pane, key);
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
      pane = { start: ps, slots: new KeyMap(), keys: [], accs: [], merge: [] };
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

  private newSlot(pane: Pane, key: Key): number {
    const slot = pane.keys.length;
    const own = ownKey(key);
    pane.keys.push(own);
    pane.accs.push(this.settings.aggregate.create());
    pane.slots.set(key, slot);
    if (this.merging) this.holdMergeSlot(pane, own);
    return slot;
  }

  /** Gives the pane's newest slot its key's merge slot (sliding windows). */
  private holdMergeSlot(pane: Pane, key: Key): void {
    let m = this.mergeIndex.get(key);
    if (m === undefined) {
      m = { stamp: 0, at: 0, refs: 0 };
      this.mergeIndex.set(key, m);
    }
    m.refs++;
    pane.merge.push(m);
  }

  /** A pane is dropped: its keys' merge slots lose a holder (and go when none is left). */
  private releaseMergeSlots(pane: Pane): void {
    for (let j = 0; j < pane.merge.length; j++) {
      const m = pane.merge[j] as MergeSlot;
      if (--m.refs === 0) this.mergeIndex.delete(pane.keys[j] as Key);
    }
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
    const slot = pane.slots.get(key) ?? this.newSlot(pane, key);
    const agg = this.settings.aggregate;
    pane.accs[slot] = agg.add(pane.accs[slot], value);
    this.emit.accepted++;
    if (admittedLate === undefined) return;
    for (const s of admittedLate) {
      const perKey = this.emittedFor(s);
      const index = perKey.get(key) ?? 0;
      perKey.set(key, index + 1);
      const acc = this.settings.discarding ? agg.add(agg.create(), value) : this.windowAcc(s, key);
      this.emit.pane(pane.keys[slot] as Key, s, s + size, acc, 'late', index, false);
    }
  }

  private emittedFor(s: number): KeyMap<number> {
    let m = this.emitted.get(s);
    if (m === undefined) {
      m = new KeyMap();
      this.emitted.set(s, m);
    }
    return m;
  }

  /** The accumulator of window `[s, s + size)` for `key`, merged from its panes. */
  private windowAcc(s: number, key: Key): unknown {
    const agg = this.settings.aggregate;
    let acc = agg.create();
    const starts = this.starts;
    const end = s + this.size;
    for (let j = lowerBound(starts, s); j < starts.length && (starts[j] as number) < end; j++) {
      const pane = this.panes.get(starts[j] as number) as Pane;
      const slot = pane.slots.get(key);
      if (slot !== undefined) acc = agg.merge(acc, pane.accs[slot]);
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
      for (let j = 0; j < pane.keys.length; j++) {
        const key = pane.keys[j] as Key;
        perKey?.set(key, 1);
        this.emit.pane(key, s, end, pane.accs[j], 'on-time', 0, final);
      }
      return;
    }
    // Merge the window's panes per key; keys in the order of the first pane holding them. Each
    // pane slot points at its key's merge slot, stamped when the key first shows in this firing.
    const stamp = ++this.fireStamp;
    const keys: Key[] = [];
    const accs: unknown[] = [];
    for (let p = lo; p < hi; p++) {
      const pane = this.panes.get(starts[p] as number) as Pane;
      for (let j = 0; j < pane.keys.length; j++) {
        const slot = pane.merge[j] as MergeSlot;
        if (slot.stamp === stamp) {
          accs[slot.at] = agg.merge(accs[slot.at], pane.accs[j]);
          continue;
        }
        slot.stamp = stamp;
        slot.at = keys.length;
        keys.push(pane.keys[j] as Key);
        accs.push(agg.merge(agg.create(), pane.accs[j]));
      }
    }
    for (let j = 0; j < keys.length; j++) {
      perKey?.set(keys[j] as Key, 1);
      this.emit.pane(keys[j] as Key, s, end, accs[j], 'on-time', 0, final);
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
      const pane = this.panes.get(ps);
      this.panes.delete(ps);
      if (this.merging && pane !== undefined) this.releaseMergeSlots(pane);
      if (this.curPane === pane) {
        this.curPane = undefined;
        this.curStart = NaN;
      }
      k++;
    }
    if (k > 0) this.starts = starts.slice(k);
    if (this.emitted.size > 0) {
      for (const s of this.emitted.keys()) if (W >= s + size - 1 + L) this.emitted.delete(s);
    }
  }

  /**
   * `{ prevW, panes: [[paneStart, [[key, acc], …]], …], emitted: [[windowStart, [[key, panes], …]], …] }`:
   * panes by start with their keys in first-arrival order, and the panes emitted per (window, key)
   * while late panes are possible.
   */
  snapshot(): unknown {
    const agg = this.settings.aggregate;
    const panes = this.starts.map((ps) => {
      const pane = this.panes.get(ps) as Pane;
      return [ps, pane.keys.map((k, j) => [k, accOut(agg, pane.accs[j])])];
    });
    const emitted: unknown[] = [];
    this.emitted.forEach((perKey, s) => {
      const rows: unknown[] = [];
      perKey.forEach((n, k) => rows.push([k, n]));
      emitted.push([s, rows]);
    });
    return { prevW: this.prevW, panes, emitted };
  }

  /** Restores what `snapshot()` returned (called once, right after construction). */
  restore(resume: unknown): void {
    const r = new StateReader(this.ctx, 'window');
    const o = r.object(resume, 'the state');
    const prevW = r.number(o['prevW'], 'prevW');
    const agg = this.settings.aggregate;
    const panes = r.array(o['panes'], 'panes').map((pv, i): Pane => {
      const row = r.array(pv, `panes[${i}]`, 2);
      const pane: Pane = { start: r.number(row[0], `panes[${i}] start`), slots: new KeyMap(), keys: [], accs: [], merge: [] };
      for (const { key, row: kr } of r.keyed(row[1], `panes[${i}] keys`, 2)) {
        if (pane.slots.get(key) !== undefined) r.fail(`panes[${i}] holds key ${String(key)} twice`);
        pane.slots.set(key, pane.keys.length);
        pane.keys.push(key);
        pane.accs.push(r.acc(agg, kr[1], `panes[${i}] accumulator`));
      }
      return pane;
    });
    const emitted = r.array(o['emitted'], 'emitted').map((ev, i): [number, KeyMap<number>] => {
      const row = r.array(ev, `emitted[${i}]`, 2);
      const perKey = new KeyMap<number>();
      for (const { key, row: kr } of r.keyed(row[1], `emitted[${i}] keys`, 2)) perKey.set(key, r.count(kr[1], `emitted[${i}] panes`));
      return [r.number(row[0], `emitted[${i}] start`), perKey];
    });
    panes.sort((a, b) => a.start - b.start);
    for (const pane of panes) {
      if (this.panes.has(pane.start)) r.fail(`two panes start at ${pane.start}`);
      this.panes.set(pane.start, pane);
      this.starts.push(pane.start);
    }
    if (this.merging) for (const pane of panes) for (const key of pane.keys) this.holdMergeSlot(pane, key);
    for (const [s, perKey] of emitted) this.emitted.set(s, perKey);
    this.prevW = prevW;
    this.nextAt = this.nextDue();
  }

  describeWindow(key: Key, start: number, end: number): string | undefined {
    let records = 0;
    for (const ps of this.starts) {
      if (ps < start || ps >= end) continue;
      if ((this.panes.get(ps) as Pane).slots.get(key) !== undefined) records++;
    }
    if (records === 0) return undefined;
    return `holds state for it in ${records} pane(s) of ${this.pane} ms; it fires when the watermark reaches ${end - 1}`;
  }

  stats(): Record<string, number> {
    return this.emit.stats(this.panes.size);
  }
}
