/**
 * The window join over session windows: per key, sessions are formed over the records of both
 * inputs together (each record opens `[t, t + gap)`; strictly overlapping windows merge, as for
 * `session(gap)`), and each session fires once when `W ≥ end − 1` as one (key, window) group:
 * `apply` or pairs, plus unmatched records for outer types (see window-join.ts).
 *
 * Differences from the session window operator, so that results do not depend on how the two
 * inputs interleave: allowed lateness must be 0, and a record is too late exactly when its own
 * proto-window has closed (`t + gap − 1 ≤ W`), whatever live sessions it would have touched.
 * Late records go to `late()` with `missedWindows: [{ start: t, end: t + gap }]` and their side.
 * Output order: sessions by (end, start), then sessions with left records by their first left's
 * arrival, then right-only sessions by their first right's arrival; within a session each side in
 * arrival order.
 */
import type { Batch } from '../../engine/batch.js';
import { MinHeap } from '../../engine/heap.js';
import { type Key, KeyMap, ownKey } from '../../engine/keys.js';
import type { OperatorContext, OperatorLogic } from '../../engine/operator.js';
import { StateReader } from '../snapshot.js';
import { type CoGroupFn, applyGroup, emitPairs, emitUnmatched } from './co-group.js';
import { lateEntry } from './types.js';
import type { JoinType } from './types.js';

interface Session {
  readonly key: Key;
  start: number;
  end: number;
  /** Per side: values and their arrival sequence numbers (ascending). */
  readonly values: [unknown[], unknown[]];
  readonly seqs: [number[], number[]];
  alive: boolean;
}

interface Due {
  readonly end: number;
  readonly session: Session;
}

/** Settings of a session join. */
export interface SessionJoinSettings {
  readonly gap: number;
  readonly type: JoinType;
  readonly apply: CoGroupFn | undefined;
}

const first = (s: Session, side: 0 | 1): number => s.seqs[side][0] ?? Infinity;

/** Firing order of sessions due at one watermark. */
function before(a: Session, b: Session): number {
  return a.end - b.end || a.start - b.start || first(a, 0) - first(b, 0) || first(a, 1) - first(b, 1);
}

/** Merges two lists ascending by sequence number. */
function mergeBySeq(av: unknown[], as: number[], bv: readonly unknown[], bs: readonly number[]): [unknown[], number[]] {
  const v: unknown[] = [];
  const s: number[] = [];
  let i = 0;
  let j = 0;
  while (i < as.length || j < bs.length) {
    if (j >= bs.length || (i < as.length && (as[i] as number) < (bs[j] as number))) {
      v.push(av[i]);
      s.push(as[i++] as number);
    } else {
      v.push(bv[j]);
      s.push(bs[j++] as number);
    }
  }
  return [v, s];
}

/** The running session join (input 0 = left, 1 = right). */
export class SessionJoinLogic implements OperatorLogic {
  /** Each key's live sessions, sorted by start, pairwise non-overlapping. */
  private readonly sessionsOf = new KeyMap<Session[]>();
  private readonly due = new MinHeap<Due>((a, b) => a.end < b.end);
  private readonly seqs: [number, number] = [0, 0];
  private live = 0;
  private accepted = 0;
  private tooLate = 0;
  private firings = 0;

  constructor(private readonly ctx: OperatorContext, private readonly s: SessionJoinSettings) {}

  onBatch(batch: Batch, input: number): void {
    const side = input === 0 ? 0 : 1;
    const { values, times } = batch;
    const keys = batch.keys as readonly Key[];
    const W = this.ctx.watermark;
    const gap = this.s.gap;
    for (let i = 0; i < values.length; i++) {
      const t = times[i] as number;
      const key = keys[i] as Key;
      if (t + gap - 1 <= W) {
        this.tooLate++;
        this.ctx.late.emit(lateEntry(side === 0 ? 'left' : 'right', values[i], t, key, [{ start: t, end: t + gap }]), t);
        continue;
      }
      this.accepted++;
      this.add(side, values[i], t, key);
    }
  }

  private add(side: 0 | 1, value: unknown, t: number, key: Key): void {
    let list = this.sessionsOf.get(key);
    if (list === undefined) {
      list = [];
      this.sessionsOf.set(key, list);
    }
    const e = t + this.s.gap;
    // The contiguous run of live sessions strictly overlapping [t, e).
    let lo = 0;
    while (lo < list.length && (list[lo] as Session).end <= t) lo++;
    let hi = lo;
    while (hi < list.length && (list[hi] as Session).start < e) hi++;
    let target: Session;
    if (hi === lo) {
      target = { key: ownKey(key), start: t, end: e, values: [[], []], seqs: [[], []], alive: true };
      list.splice(lo, 0, target);
      this.live++;
      this.due.push({ end: e, session: target });
    } else {
      target = list[lo] as Session;
      const endBefore = target.end;
      for (let j = lo + 1; j < hi; j++) {
        const other = list[j] as Session;
        for (const sd of [0, 1] as const) {
          const [v, s] = mergeBySeq(target.values[sd], target.seqs[sd], other.values[sd], other.seqs[sd]);
          target.values[sd] = v;
          target.seqs[sd] = s;
        }
        if (other.end > target.end) target.end = other.end;
        other.alive = false;
        this.live--;
      }
      if (hi - lo > 1) list.splice(lo + 1, hi - lo - 1);
      if (t < target.start) target.start = t;
      if (e > target.end) target.end = e;
      if (target.end !== endBefore) this.due.push({ end: target.end, session: target });
    }
    target.values[side].push(value);
    target.seqs[side].push(this.seqs[side]++);
  }

  onWatermark(W: number): void {
    let fired: Session[] | undefined;
    for (let d = this.due.peek(); d !== undefined && d.end - 1 <= W; d = this.due.peek()) {
      this.due.pop();
      const s = d.session;
      if (!s.alive || s.end !== d.end) continue;
      s.alive = false;
      (fired ??= []).push(s);
    }
    if (fired === undefined) return;
    fired.sort(before);
    for (const s of fired) this.fire(s);
  }

  private fire(s: Session): void {
    this.firings++;
    this.live--;
    const list = this.sessionsOf.get(s.key) as Session[];
    list.splice(list.indexOf(s), 1);
    if (list.length === 0) this.sessionsOf.delete(s.key);
    const ts = s.end - 1;
    const [lefts, rights] = s.values;
    if (this.s.apply !== undefined) {
      applyGroup(this.ctx, this.s.apply, this.s.type, s.key, Object.freeze({ start: s.start, end: s.end }), lefts, rights, ts);
      return;
    }
    emitPairs(this.ctx, lefts, rights, ts);
    emitUnmatched(this.ctx, this.s.type, lefts, rights, ts);
  }

  /**
   * `{ seqs: [left, right], keys: [[key, [[start, end, lefts, leftSeqs, rights, rightSeqs], …]], …] }`:
   * each key's live sessions by start, with both sides' records and their arrival numbers.
   */
  snapshot(): unknown {
    const keys: unknown[] = [];
    this.sessionsOf.forEach((list, key) => {
      // copies: sessions grow in place
      keys.push([key, list.map((s) => [s.start, s.end, s.values[0].slice(), s.seqs[0].slice(), s.values[1].slice(), s.seqs[1].slice()])]);
    });
    return { seqs: [this.seqs[0], this.seqs[1]], keys };
  }

  /** Restores what `snapshot()` returned (called once, right after construction). */
  restore(resume: unknown): void {
    const r = new StateReader(this.ctx, 'session join');
    const o = r.object(resume, 'the state');
    const next = r.pair(o['seqs'], 'seqs');
    const lists: [Key, Session[]][] = r.keyed(o['keys'], 'keys', 2).map(({ key, row }) => {
      const what = `sessions of ${String(key)}`;
      const list = r.array(row[1], what).map((sv): Session => {
        const x = r.array(sv, what, 6);
        // copies: sessions grow in place, and `resume` may be shared
        const [lv, ls, rv, rs] = [2, 3, 4, 5].map((i) => r.array(x[i], what).slice()) as [unknown[], number[], unknown[], number[]];
        if (lv.length !== ls.length || rv.length !== rs.length) r.fail(`${what}: records and sequence numbers differ in length`);
        for (const n of [...ls, ...rs]) r.count(n, `${what} sequence number`);
        return { key, start: r.number(x[0], `${what} start`), end: r.number(x[1], `${what} end`), values: [lv, rv], seqs: [ls, rs], alive: true };
      });
      return [key, list.sort((a, b) => a.start - b.start)];
    });
    for (const [key, list] of lists) {
      if (list.length === 0) continue;
      if (this.sessionsOf.get(key) !== undefined) r.fail(`key ${String(key)} appears twice`);
      this.sessionsOf.set(key, list);
      for (const s of list) this.due.push({ end: s.end, session: s });
      this.live += list.length;
    }
    this.seqs[0] = next[0];
    this.seqs[1] = next[1];
  }

  stats(): Record<string, number> {
    return { accepted: this.accepted, tooLate: this.tooLate, tooLatePairs: this.tooLate, firings: this.firings, openWindows: this.live };
  }
}
