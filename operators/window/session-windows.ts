/**
 * The window operator for session windows. Each key keeps its live sessions sorted by start and
 * pairwise non-overlapping; a record's proto-window `[t, t + gap)` merges with the contiguous run
 * of sessions it strictly overlaps. Lateness is judged against the session the record would join.
 * Firings come from a heap ordered by (end, start, first record's arrival), so output order does
 * not depend on how records were batched.
 */
import type { Batch } from '../../engine/batch.js';
import { UserFunctionError } from '../../engine/errors.js';
import { MinHeap } from '../../engine/heap.js';
import { type Key, KeyMap, ownKey } from '../../engine/keys.js';
import type { OperatorContext, OperatorLogic } from '../../engine/operator.js';
import { WindowEmitter, type WindowSettings } from './emitter.js';

interface Session {
  start: number;
  end: number;
  acc: unknown;
  readonly firstSeq: number;
  readonly key: Key;
  panes: number;
  dead: boolean;
}

const earlier = (a: Session, b: Session): boolean =>
  a.end < b.end || (a.end === b.end && (a.start < b.start || (a.start === b.start && a.firstSeq < b.firstSeq)));

/** Running state of one session window operator. */
export class SessionWindowLogic implements OperatorLogic {
  /** Each key's live sessions, sorted by start, pairwise non-overlapping. */
  private readonly sessionsOf = new KeyMap<Session[]>();
  private readonly toFire = new MinHeap<Session>(earlier);
  private readonly toPurge = new MinHeap<Session>(earlier);
  private readonly emit: WindowEmitter;
  private seq = 0;
  private live = 0;

  constructor(
    private readonly ctx: OperatorContext,
    private readonly gap: number | undefined,
    private readonly gapOf: ((record: unknown) => number) | undefined,
    private readonly settings: WindowSettings,
  ) {
    this.emit = new WindowEmitter(ctx, settings);
  }

  onBatch(batch: Batch): void {
    const { values, times } = batch;
    const keys = batch.keys as readonly Key[];
    const n = values.length;
    let i = 0;
    while (i < n) {
      try {
        for (; i < n; i++) this.record(values[i], times[i] as number, keys[i] as Key);
      } catch (e) {
        if (e instanceof UserFunctionError) throw e;
        this.ctx.userError(e, values[i], times[i], 'session window function threw');
        i++;
      }
    }
  }

  private record(value: unknown, t: number, key: Key): void {
    this.seq++;
    let gap = this.gap as number;
    if (this.gapOf !== undefined) {
      gap = this.gapOf(value);
      if (typeof gap !== 'number' || !Number.isInteger(gap) || gap <= 0) {
        this.ctx.deadLetter(value, `session gap must be a positive integer number of milliseconds, got ${String(gap)}`, t);
        return;
      }
    }
    const W = this.ctx.watermark;
    const L = this.settings.allowedLateness;
    const agg = this.settings.aggregate;
    let list = this.sessionsOf.get(key);
    const pend = t + gap;
    let lo = -1;
    let hi = -1;
    let at = 0;
    if (list !== undefined) {
      for (; at < list.length; at++) {
        const s = list[at] as Session;
        if (s.start >= pend) break;
        if (t < s.end) {
          if (lo < 0) lo = at;
          hi = at;
        }
      }
    }
    let start = t;
    let end = pend;
    if (lo >= 0) {
      start = Math.min(t, (list as Session[])[lo]!.start);
      end = Math.max(pend, (list as Session[])[hi]!.end);
    }
    if (W >= end - 1 + L) {
      this.emit.late(value, t, key, [{ start, end }]);
      this.emit.tooLate++;
      return;
    }
    if (list === undefined) {
      list = [];
      this.sessionsOf.set(key, list);
    }
    const only = lo >= 0 && lo === hi ? (list[lo] as Session) : undefined;
    if (only !== undefined && only.start === start && only.end === end) {
      only.acc = agg.add(only.acc, value);
      this.emit.accepted++;
      if (end - 1 <= W) this.latePane(only);
      return;
    }
    let acc = agg.create();
    let firstSeq = this.seq;
    if (lo >= 0) {
      for (let j = lo; j <= hi; j++) {
        const old = list[j] as Session;
        acc = agg.merge(acc, old.acc);
        if (old.firstSeq < firstSeq) firstSeq = old.firstSeq;
        old.dead = true;
        this.live--;
      }
    }
    acc = agg.add(acc, value);
    const merged: Session = { start, end, acc, firstSeq, key: lo >= 0 ? (list[lo] as Session).key : ownKey(key), panes: 0, dead: false };
    if (lo >= 0) list.splice(lo, hi - lo + 1, merged);
    else list.splice(at, 0, merged);
    this.live++;
    this.emit.accepted++;
    if (end - 1 <= W) {
      this.latePane(merged);
      this.toPurge.push(merged);
    } else {
      this.toFire.push(merged);
    }
  }

  private latePane(s: Session): void {
    this.emit.pane(s.key, s.start, s.end, s.acc, 'late', s.panes++, false);
    if (this.settings.discarding) s.acc = this.settings.aggregate.create();
  }

  onWatermark(W: number): void {
    const L = this.settings.allowedLateness;
    const f = this.toFire.peek();
    const p = this.toPurge.peek();
    if ((f === undefined || W < f.end - 1) && (p === undefined || W < p.end - 1 + L)) return;
    const agg = this.settings.aggregate;
    for (let s = this.toFire.peek(); s !== undefined && s.end - 1 <= W; s = this.toFire.peek()) {
      this.toFire.pop();
      if (s.dead) continue;
      const final = W >= s.end - 1 + L;
      this.emit.pane(s.key, s.start, s.end, s.acc, 'on-time', s.panes++, final);
      if (this.settings.discarding) s.acc = agg.create();
      if (final) this.remove(s);
      else this.toPurge.push(s);
    }
    for (let s = this.toPurge.peek(); s !== undefined && W >= s.end - 1 + L; s = this.toPurge.peek()) {
      this.toPurge.pop();
      if (!s.dead) this.remove(s);
    }
  }

  private remove(s: Session): void {
    s.dead = true;
    this.live--;
    const list = this.sessionsOf.get(s.key) as Session[];
    list.splice(list.indexOf(s), 1);
    if (list.length === 0) this.sessionsOf.delete(s.key);
  }

  stats(): Record<string, number> {
    return this.emit.stats(this.live);
  }
}
