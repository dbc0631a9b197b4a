/**
 * The window join: both inputs are grouped by key into the same event-time windows (tumbling,
 * sliding, calendar or the global window here; sessions in session-join.ts); for each (key, window) a co-group function sees both sides'
 * records (`apply`), or every left × right pair is emitted (`pairs`). Outputs carry the window's
 * timestamp `end − 1` (`8.64e15` for the global window).
 *
 * Semantics, following the window operators (see docs/semantics.md, "Lateness"):
 * - `W` is the join's input watermark, the minimum of both inputs. Lateness is judged per
 *   (record, window) with allowed lateness `L`: on time while `W < end − 1`; admitted late while
 *   `W < end − 1 + L`; too late after. A record too late for every window counts as `tooLate`; a
 *   record too late for some windows goes to `late()` with those `missedWindows` (and its `side`).
 * - On time (`W ≥ end − 1`) each (key, window) fires once. `apply` is called for the keys the
 *   join type asks for: `inner` — both sides non-empty; `left` — a non-empty left side; `right` —
 *   a non-empty right side; `full` — any. `pairs` emits every left × right pair.
 * - An admitted late record re-fires `apply` for its key with everything so far (accumulating,
 *   as `windowed.process` does); in `pairs` mode it emits only the new pairs it completes.
 * - Outer `pairs` joins emit each unmatched record (its side of the key's window had no partner)
 *   with the other side `undefined` when the window's state is purged (`W ≥ end − 1 + L`), once no
 *   partner can arrive. With `L > 0` they hold the output watermark at the oldest open fired
 *   window's `end − 2`, so the unmatched results of windows that fired on time are never late
 *   downstream. (Late pairs, and all results of a window born behind the watermark, trail the
 *   watermark — as late panes do.)
 * Output order: windows in order of `end`; within a window, keys in order of their first left
 * record, then keys with only right records in order of their first right record; within a key,
 * lefts in arrival order, each with the rights in arrival order. None of it depends on batching or
 * on how the two inputs interleave.
 */
import type { Batch } from '../../engine/batch.js';
import { PlanError } from '../../engine/errors.js';
import { type Key, KeyMap, ownKey } from '../../engine/keys.js';
import type { OperatorContext, OperatorFactory, OperatorLogic } from '../../engine/operator.js';
import { type Duration, MAX_TIMESTAMP, mod, toMillis } from '../../engine/time.js';
import { STATE_VERSION, StateReader } from '../snapshot.js';
import { type CalendarAssigner, type WindowAssigner, assignerText } from '../window/assigners.js';
import { CalendarBounds } from '../window/calendar-bounds.js';
import type { Window } from '../window/types.js';
import { SessionJoinLogic } from './session-join.js';
import { type CoGroupFn, applyGroup, emitPairs, emitUnmatched } from './co-group.js';
import { type JoinType, checkJoinType, checkObject, lateEntry } from './types.js';

export type { CoGroupFn } from './co-group.js';

/** Options of `keyed.windowJoin(other, assigner, options)`. */
export interface WindowJoinOptions {
  /** How long after a window's end late records are still admitted (default 0). */
  readonly allowedLateness?: Duration;
  /** `'inner'` (default), or an outer variant (see the module notes for `apply` and `pairs`). */
  readonly type?: JoinType;
}

/** Validated window-join settings. */
export interface WindowJoinSettings {
  /** Window size (`Infinity` for the global window). */
  readonly size: number;
  readonly slide: number;
  readonly offset: number;
  /** Session gap, for session windows (then `size`, `slide` and `offset` are unused). */
  readonly gap: number | undefined;
  /** Calendar windows (then `size`, `slide` and `offset` are unused). */
  readonly calendar: CalendarAssigner | undefined;
  readonly allowedLateness: number;
  readonly type: JoinType;
  /** The co-group function, or `undefined` to emit pairs. */
  readonly apply: CoGroupFn | undefined;
}

/**
 * Validates the assigner and options of a window join when the plan is built.
 *
 * @example
 * checkWindowJoinOptions(tumbling(10_000), { type: 'left' });
 */
export function checkWindowJoinOptions(assigner: WindowAssigner, options: WindowJoinOptions | undefined): Omit<WindowJoinSettings, 'apply'> {
  const where = 'tidemark.windowJoin';
  checkObject(options, where);
  const kind = (assigner as { kind?: unknown } | null)?.kind;
  let size: number;
  let slide: number;
  let offset = 0;
  let gap: number | undefined;
  let calendar: CalendarAssigner | undefined;
  if (kind === 'tumbling' || kind === 'sliding') {
    const a = assigner as { size: number; slide?: number; offset: number };
    size = a.size;
    slide = a.slide ?? a.size;
    offset = a.offset;
  } else if (kind === 'global') {
    size = Infinity;
    slide = Infinity;
  } else if (kind === 'session') {
    gap = (assigner as { gap: number | undefined }).gap;
    if (gap === undefined) throw new PlanError(`${where}: session windows with a per-record gap are not supported by window joins (the two sides have different record types); use session(gap)`);
    if ((assigner as { maxLength?: number }).maxLength !== undefined) throw new PlanError(`${where}: session windows with maxSessionLength are not supported by window joins`);
    size = NaN;
    slide = NaN;
  } else if (kind === 'calendar') {
    calendar = assigner as CalendarAssigner;
    size = NaN;
    slide = NaN;
  } else {
    throw new PlanError(`${where}: the assigner must come from tumbling(), sliding(), session(), calendar() or globalWindow()`);
  }
  const L = options?.allowedLateness === undefined ? 0 : toMillis(options.allowedLateness, `${where}: allowedLateness`);
  if (L < 0) throw new PlanError(`${where}: allowedLateness must be ≥ 0, got ${L} ms`);
  if (gap !== undefined && L !== 0) {
    throw new PlanError(`${where}: session window joins support allowedLateness 0 only (got ${L} ms): late merges of sessions would depend on how the two inputs interleave`);
  }
  return { size, slide, offset, gap, calendar, allowedLateness: L, type: checkJoinType(options?.type, where) };
}

interface Win {
  readonly start: number;
  readonly end: number;
  readonly window: Window;
  readonly slots: KeyMap<number>;
  readonly keys: Key[];
  readonly lefts: unknown[][];
  readonly rights: unknown[][];
  /** Slots in order of their first left record / first right record. */
  readonly leftOrder: number[];
  readonly rightOrder: number[];
  fired: boolean;
}

/** The moment a window fires: `end − 1` (`+∞` for the global window). */
function closeOf(w: Win): number {
  return w.end - 1;
}

/** The running window join (input 0 = left, 1 = right). */
export class WindowJoinLogic implements OperatorLogic {
  private readonly byStart = new Map<number, Win>();
  /** Open windows by start (so by end: windows have one size, or do not overlap); fired ones first. */
  private order: Win[] = [];
  private firedCount = 0;
  private cur: Win | undefined;
  private readonly outerLeft: boolean;
  private readonly outerRight: boolean;
  /** Calendar windows: boundaries from the calendar, cached. */
  private readonly bounds: CalendarBounds | undefined;
  private accepted = 0;
  private tooLate = 0;
  private tooLatePairs = 0;
  private firings = 0;

  constructor(private readonly ctx: OperatorContext, private readonly s: WindowJoinSettings) {
    this.outerLeft = s.type === 'left' || s.type === 'full';
    this.outerRight = s.type === 'right' || s.type === 'full';
    this.bounds = s.calendar === undefined ? undefined : new CalendarBounds(s.calendar);
  }

  onBatch(batch: Batch, input: number): void {
    const side = input === 0 ? 0 : 1;
    const { values, times } = batch;
    const keys = batch.keys as readonly Key[];
    const W = this.ctx.watermark;
    const { size, slide, offset } = this.s;
    const cal = this.bounds;
    for (let i = 0; i < values.length; i++) {
      const t = times[i] as number;
      const key = keys[i] as Key;
      if (t <= W) {
        this.behind(side, values[i], t, key, W);
        continue;
      }
      this.accepted++;
      if (cal !== undefined) {
        cal.windowOf(t);
        const w = cal.start === this.cur?.start ? this.cur : this.windowAt(cal.start, cal.end);
        this.add(w, side, key, values[i]);
        continue;
      }
      if (size === Infinity) {
        this.add(this.windowAt(-Infinity, Infinity), side, key, values[i]);
        continue;
      }
      const last = t - mod(t - offset, slide);
      for (let st = last; st > t - size; st -= slide) {
        const w = st === this.cur?.start ? this.cur : this.windowAt(st, st + size);
        this.add(w, side, key, values[i]);
      }
    }
  }

  /** A record at or behind the watermark: judge each of its windows. */
  private behind(side: 0 | 1, value: unknown, t: number, key: Key, W: number): void {
    const L = this.s.allowedLateness;
    let missed: Window[] | undefined;
    let admitted = false;
    for (const [st, end] of this.windowsOf(t)) {
      const close = end - 1;
      if (W >= close + L) {
        (missed ??= []).push({ start: st, end });
        continue;
      }
      admitted = true;
      const w = this.windowAt(st, end);
      const slot = this.add(w, side, key, value);
      if (close <= W) this.lateUpdate(w, slot, side, value);
    }
    if (missed !== undefined) {
      this.tooLatePairs += missed.length;
      this.ctx.late.emit(lateEntry(side === 0 ? 'left' : 'right', value, t, key, missed), t);
    }
    if (admitted) this.accepted++;
    else this.tooLate++;
  }

  /** The windows (`[start, end]`, ascending) a record at `t` belongs to. */
  private windowsOf(t: number): [number, number][] {
    const { size, slide, offset } = this.s;
    const cal = this.bounds;
    if (cal !== undefined) {
      cal.windowOf(t);
      return [[cal.start, cal.end]];
    }
    if (size === Infinity) return [[-Infinity, Infinity]];
    const out: [number, number][] = [];
    for (let st = t - mod(t - offset, slide); st > t - size; st -= slide) out.push([st, st + size]);
    return out.reverse();
  }

  private windowAt(start: number, end: number): Win {
    let w = this.byStart.get(start);
    if (w === undefined) {
      w = {
        start, end, window: Object.freeze({ start, end }), slots: new KeyMap(), keys: [], lefts: [], rights: [],
        leftOrder: [], rightOrder: [], fired: false,
      };
      this.byStart.set(start, w);
      const o = this.order;
      if (o.length === 0 || (o[o.length - 1] as Win).start < start) o.push(w);
      else {
        let lo = 0;
        let hi = o.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if ((o[mid] as Win).start < start) lo = mid + 1;
          else hi = mid;
        }
        o.splice(lo, 0, w);
      }
      // A window born behind the watermark has (by definition) already had its on-time moment.
      if (closeOf(w) <= this.ctx.watermark) {
        w.fired = true;
        this.firedCount++;
      }
    }
    this.cur = w;
    return w;
  }

  private add(w: Win, side: 0 | 1, key: Key, value: unknown): number {
    let slot = w.slots.get(key);
    if (slot === undefined) {
      slot = w.keys.length;
      w.keys.push(ownKey(key));
      w.lefts.push([]);
      w.rights.push([]);
      w.slots.set(key, slot);
    }
    const list = (side === 0 ? w.lefts : w.rights)[slot] as unknown[];
    if (list.length === 0) (side === 0 ? w.leftOrder : w.rightOrder).push(slot);
    list.push(value);
    return slot;
  }

  /** An admitted late record: new pairs, or a re-firing of `apply` for its key. */
  private lateUpdate(w: Win, slot: number, side: 0 | 1, value: unknown): void {
    const ts = w.end === Infinity ? MAX_TIMESTAMP : w.end - 1;
    if (this.s.apply !== undefined) {
      this.applyKey(w, slot, ts);
      return;
    }
    const others = (side === 0 ? w.rights : w.lefts)[slot] as unknown[];
    const out = this.ctx.out;
    for (const o of others) out.emit(side === 0 ? { left: value, right: o } : { left: o, right: value }, ts);
  }

  onWatermark(W: number): void {
    const L = this.s.allowedLateness;
    const o = this.order;
    // Fired windows are a prefix of `order`, and windows due for purging a prefix of those.
    let j = 0;
    const fired = this.firedCount;
    while (j < fired && W >= closeOf(o[j] as Win) + L) this.purge(o[j++] as Win);
    let k = fired;
    while (k < o.length && closeOf(o[k] as Win) <= W) {
      const w = o[k++] as Win;
      this.fire(w);
      if (j === k - 1 && W >= closeOf(w) + L) this.purge(o[j++] as Win);
    }
    this.firedCount = k - j;
    if (j > 0) this.order = o.slice(j);
  }

  private fire(w: Win): void {
    w.fired = true;
    this.firings++;
    const ts = w.end === Infinity ? MAX_TIMESTAMP : w.end - 1;
    const apply = this.s.apply;
    const type = this.s.type;
    for (const slot of w.leftOrder) {
      if (apply !== undefined) this.applyKey(w, slot, ts);
      else emitPairs(this.ctx, w.lefts[slot] as unknown[], w.rights[slot] as unknown[], ts);
    }
    if (apply !== undefined && (type === 'right' || type === 'full')) {
      for (const slot of w.rightOrder) if ((w.lefts[slot] as unknown[]).length === 0) this.applyKey(w, slot, ts);
    }
  }

  /** Calls `apply` for one key of `w` if the join type asks for it. */
  private applyKey(w: Win, slot: number, ts: number): void {
    applyGroup(this.ctx, this.s.apply as CoGroupFn, this.s.type, w.keys[slot] as Key, w.window, w.lefts[slot] as unknown[], w.rights[slot] as unknown[], ts);
  }

  /** Drops a window's state; outer `pairs` joins emit its unmatched records first. */
  private purge(w: Win): void {
    this.byStart.delete(w.start);
    if (this.cur === w) this.cur = undefined;
    if (this.s.apply !== undefined) return;
    const ts = w.end === Infinity ? MAX_TIMESTAMP : w.end - 1;
    for (const slot of w.leftOrder) emitUnmatched(this.ctx, this.s.type, w.lefts[slot] as unknown[], w.rights[slot] as unknown[], ts);
    for (const slot of w.rightOrder) if ((w.lefts[slot] as unknown[]).length === 0) emitUnmatched(this.ctx, this.s.type, [], w.rights[slot] as unknown[], ts);
  }

  /**
   * `{ windows: [[start, end, fired, [[key, lefts, rights, leftRank, rightRank], …]], …] }`: open
   * windows by start; per key both sides' records in arrival order and the key's rank among the
   * keys by first left record and by first right record (−1 without records of that side).
   */
  snapshot(): unknown {
    return {
      windows: this.order.map((w) => {
        const leftRank = ranks(w.leftOrder, w.keys.length);
        const rightRank = ranks(w.rightOrder, w.keys.length);
        // copies: a key's records grow in place
        return [w.start, w.end, w.fired, w.keys.map((k, slot) => [k, (w.lefts[slot] as unknown[]).slice(), (w.rights[slot] as unknown[]).slice(), leftRank[slot], rightRank[slot]])];
      }),
    };
  }

  /** Restores what `snapshot()` returned (called once, right after construction). */
  restore(resume: unknown): void {
    const r = new StateReader(this.ctx, 'window join');
    const read = r.array(r.object(resume, 'the state')['windows'], 'windows').map((wv, i): Win => {
      const row = r.array(wv, `windows[${i}]`, 4);
      const start = r.number(row[0], `windows[${i}] start`);
      const end = r.number(row[1], `windows[${i}] end`);
      const w: Win = {
        start, end, window: Object.freeze({ start, end }), slots: new KeyMap(), keys: [], lefts: [], rights: [],
        leftOrder: [], rightOrder: [], fired: r.boolean(row[2], `windows[${i}] fired`),
      };
      const lr: [number, number][] = [];
      const rr: [number, number][] = [];
      for (const { key, row: kr } of r.keyed(row[3], `windows[${i}] keys`, 5)) {
        if (w.slots.get(key) !== undefined) r.fail(`windows[${i}] holds key ${String(key)} twice`);
        const slot = w.keys.length;
        w.slots.set(key, slot);
        w.keys.push(key);
        // copies: a key's records grow in place, and `resume` may be shared
        w.lefts.push(r.array(kr[1], `windows[${i}] lefts`).slice());
        w.rights.push(r.array(kr[2], `windows[${i}] rights`).slice());
        const a = r.number(kr[3], `windows[${i}] left rank`);
        const b = r.number(kr[4], `windows[${i}] right rank`);
        if (a >= 0) lr.push([a, slot]);
        if (b >= 0) rr.push([b, slot]);
      }
      w.leftOrder.push(...lr.sort((x, y) => x[0] - y[0]).map((x) => x[1]));
      w.rightOrder.push(...rr.sort((x, y) => x[0] - y[0]).map((x) => x[1]));
      return w;
    });
    read.sort((a, b) => a.start - b.start);
    let fired = 0;
    while (fired < read.length && (read[fired] as Win).fired) fired++;
    if (read.slice(fired).some((w) => w.fired)) r.fail('fired windows must come before the others');
    for (const w of read) {
      if (this.byStart.has(w.start)) r.fail(`two windows start at ${w.start}`);
      this.byStart.set(w.start, w);
    }
    this.order = read;
    this.firedCount = fired;
  }

  holdWatermark(): number {
    if (this.s.apply !== undefined || this.s.allowedLateness === 0 || (!this.outerLeft && !this.outerRight)) return Infinity;
    const first = this.order[0];
    if (first === undefined || !first.fired || first.end === Infinity) return Infinity;
    return first.end - 2;
  }

  stats(): Record<string, number> {
    return {
      accepted: this.accepted,
      tooLate: this.tooLate,
      tooLatePairs: this.tooLatePairs,
      firings: this.firings,
      openWindows: this.byStart.size,
    };
  }
}

/** Each slot's position in `order` (−1 when absent), for `n` slots. */
function ranks(order: readonly number[], n: number): number[] {
  const out = new Array<number>(n).fill(-1);
  order.forEach((slot, i) => {
    out[slot] = i;
  });
  return out;
}

/** The state signature of a window join, e.g. `join:window tumbling(10000) full pairs`. */
export function windowJoinSignature(settings: WindowJoinSettings): string {
  const assigner = settings.calendar !== undefined ? assignerText(settings.calendar)
    : settings.gap !== undefined ? `session(${settings.gap})`
      : settings.size === Infinity ? 'global'
        : settings.size === settings.slide ? `tumbling(${settings.size}${settings.offset === 0 ? '' : `, offset ${settings.offset}`})`
          : `sliding(${settings.size}, ${settings.slide}${settings.offset === 0 ? '' : `, offset ${settings.offset}`})`;
  return `join:window ${assigner} ${settings.type} ${settings.apply === undefined ? 'pairs' : 'apply'}`;
}

/**
 * The operator factory of a window join with validated `settings`.
 *
 * @example
 * windowJoinOperator({ ...checkWindowJoinOptions(tumbling(10_000), {}), apply: undefined }); // pairs
 */
export function windowJoinOperator(settings: WindowJoinSettings): OperatorFactory {
  return {
    kind: 'join:window',
    stateVersion: STATE_VERSION,
    stateSignature: windowJoinSignature(settings),
    // window joins: each window's keys grouped by start; session joins: each key's sessions in its row
    keyedState: settings.gap === undefined ? { fields: { windows: { groups: 3 } } } : { fields: { seqs: 'max', keys: 'keyed' } },
    build(ctx, resume) {
      const logic = settings.gap === undefined
        ? new WindowJoinLogic(ctx, settings)
        : new SessionJoinLogic(ctx, { gap: settings.gap, type: settings.type, apply: settings.apply });
      if (resume !== undefined) logic.restore(resume);
      return logic;
    },
  };
}
