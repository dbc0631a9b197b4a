/**
 * The interval join: pairs a left record `a` with every right record `b` of the same key where
 * `a.ts + lower ≤ b.ts ≤ a.ts + upper` (each bound inclusive unless configured otherwise).
 *
 * Semantics (as Flink's `IntervalJoinOperator`, plus outer variants):
 * - `W` is the join's input watermark, the minimum of both inputs. A record with `ts ≤ W` on
 *   arrival is late: counted (`tooLate`), routed to `late()` with its side, and not joined.
 * - An on-time record is matched against the other side's buffered records at once, each pair
 *   emitted with timestamp `max(a.ts, b.ts)` (never behind the watermark: both are > W or buffered).
 * - Each record stays buffered until no on-time record of the other side can match it any more:
 *   a left record until `W ≥ a.ts + upper`, a right record until `W ≥ b.ts − lower`; then it is
 *   purged (the purge is exact, so batching cannot change which pairs are found).
 * - Outer variants emit a record that matched nothing, with the other side `undefined`, when it
 *   is purged — once the watermark passes the last moment it could have matched — with its own
 *   timestamp. To keep those results on time downstream, an outer join holds its output watermark
 *   at the smallest timestamp of a buffered record of an outer side, minus 1 (so a left outer join's
 *   output watermark lags its input by up to `upper`).
 * Output order: pairs in arrival order of the record that completes them, then the buffered
 * side's arrival order; unmatched records in order of purge deadline, left before right.
 */
import type { Batch } from '../../engine/batch.js';
import { PlanError } from '../../engine/errors.js';
import { MinHeap } from '../../engine/heap.js';
import { type Key, KeyMap, ownKey } from '../../engine/keys.js';
import type { OperatorContext, OperatorFactory, OperatorLogic } from '../../engine/operator.js';
import { type Duration, toMillis } from '../../engine/time.js';
import { STATE_VERSION, StateReader } from '../snapshot.js';
import { type JoinType, checkJoinType, checkObject, lateEntry } from './types.js';

/** Options of `keyed.intervalJoin(other, options)`. */
export interface IntervalJoinOptions {
  /** Lower bound of `b.ts − a.ts` (may be negative). */
  readonly lower: Duration;
  /** Upper bound of `b.ts − a.ts` (may be negative; must not be below `lower`). */
  readonly upper: Duration;
  /** Whether `b.ts = a.ts + lower` matches (default true). */
  readonly lowerInclusive?: boolean;
  /** Whether `b.ts = a.ts + upper` matches (default true). */
  readonly upperInclusive?: boolean;
  /** `'inner'` (default), or an outer variant emitting unmatched records. */
  readonly type?: JoinType;
}

/** Validated interval-join settings: integer bounds, both inclusive. */
export interface IntervalJoinSettings {
  /** Smallest matching `b.ts − a.ts`. */
  readonly lo: number;
  /** Largest matching `b.ts − a.ts`. */
  readonly hi: number;
  readonly type: JoinType;
}

/**
 * Validates interval-join options when the plan is built.
 *
 * @example
 * checkIntervalJoinOptions({ lower: -5_000, upper: 0, upperInclusive: false }); // { lo: -5000, hi: -1, type: 'inner' }
 */
export function checkIntervalJoinOptions(options: IntervalJoinOptions): IntervalJoinSettings {
  const where = 'tidemark.intervalJoin';
  checkObject(options, where);
  if (options === undefined) throw new PlanError(`${where}: options { lower, upper } are required`);
  if (options.lower === undefined || options.upper === undefined) throw new PlanError(`${where}: both lower and upper bounds are required`);
  const lower = toMillis(options.lower, `${where}: lower`);
  const upper = toMillis(options.upper, `${where}: upper`);
  for (const [name, v] of [['lowerInclusive', options.lowerInclusive], ['upperInclusive', options.upperInclusive]] as const) {
    if (v !== undefined && typeof v !== 'boolean') throw new PlanError(`${where}: ${name} must be a boolean, got ${typeof v}`);
  }
  const lo = options.lowerInclusive === false ? lower + 1 : lower;
  const hi = options.upperInclusive === false ? upper - 1 : upper;
  if (lo > hi) {
    throw new PlanError(`${where}: the interval [${lower}, ${upper}] ms (lowerInclusive: ${options.lowerInclusive !== false}, upperInclusive: ${options.upperInclusive !== false}) matches nothing; lower must not exceed upper`);
  }
  return { lo, hi, type: checkJoinType(options.type, where) };
}

interface Entry {
  readonly t: number;
  readonly value: unknown;
  /** When the watermark reaches this, the entry can match nothing more. */
  readonly deadline: number;
  readonly seq: number;
  readonly state: KeyState;
  matched: boolean;
  alive: boolean;
}

interface KeyState {
  readonly key: Key;
  /** Buffered records per side, in arrival order (dead entries are compacted lazily). */
  readonly sides: [Entry[], Entry[]];
  readonly dead: [number, number];
  alive: number;
}

const byDeadline = (a: Entry, b: Entry): boolean => a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);

/** The running interval join (input 0 = left, 1 = right). */
export class IntervalJoinLogic implements OperatorLogic {
  private readonly states = new KeyMap<KeyState>();
  private readonly heaps: [MinHeap<Entry>, MinHeap<Entry>] = [new MinHeap(byDeadline), new MinHeap(byDeadline)];
  private readonly seqs: [number, number] = [0, 0];
  private readonly outer: [boolean, boolean];
  private accepted = 0;
  private tooLate = 0;
  private pairs = 0;
  private unmatched = 0;

  constructor(private readonly ctx: OperatorContext, private readonly settings: IntervalJoinSettings) {
    const type = settings.type;
    this.outer = [type === 'left' || type === 'full', type === 'right' || type === 'full'];
  }

  onBatch(batch: Batch, input: number): void {
    const side = input === 0 ? 0 : 1;
    const { values, times } = batch;
    const keys = batch.keys as readonly Key[];
    const W = this.ctx.watermark;
    const { lo, hi } = this.settings;
    const out = this.ctx.out;
    for (let i = 0; i < values.length; i++) {
      const t = times[i] as number;
      const key = keys[i] as Key;
      const value = values[i];
      if (t <= W) {
        this.tooLate++;
        this.ctx.late.emit(lateEntry(side === 0 ? 'left' : 'right', value, t, key), t);
        continue;
      }
      this.accepted++;
      let state = this.states.get(key);
      let matched = false;
      if (state !== undefined) {
        // Matching other-side timestamps: [t + lo, t + hi] for a left record, [t − hi, t − lo] for a right one.
        const from = side === 0 ? t + lo : t - hi;
        const to = side === 0 ? t + hi : t - lo;
        const others = state.sides[1 - side] as Entry[];
        for (let j = 0; j < others.length; j++) {
          const o = others[j] as Entry;
          if (!o.alive || o.t < from || o.t > to) continue;
          o.matched = true;
          matched = true;
          this.pairs++;
          out.emit(side === 0 ? { left: value, right: o.value } : { left: o.value, right: value }, o.t > t ? o.t : t);
        }
      }
      const deadline = side === 0 ? t + hi : t - lo;
      if (W < deadline) {
        if (state === undefined) {
          state = { key: ownKey(key), sides: [[], []], dead: [0, 0], alive: 0 };
          this.states.set(key, state);
        }
        const entry: Entry = { t, value, deadline, seq: this.seqs[side]++, state, matched, alive: true };
        state.sides[side].push(entry);
        state.alive++;
        this.heaps[side].push(entry);
      } else if (!matched && this.outer[side]) {
        // It can match no future record (possible when the interval lies wholly in the past).
        this.emitUnmatched(side, value, t);
      }
    }
  }

  private emitUnmatched(side: 0 | 1, value: unknown, t: number): void {
    this.unmatched++;
    this.ctx.out.emit(side === 0 ? { left: value, right: undefined } : { left: undefined, right: value }, t);
  }

  onWatermark(W: number): void {
    const [lh, rh] = this.heaps;
    for (;;) {
      const l = lh.peek();
      const r = rh.peek();
      const lDue = l !== undefined && l.deadline <= W;
      const rDue = r !== undefined && r.deadline <= W;
      if (!lDue && !rDue) break;
      // Left before right at equal deadlines, so the order does not depend on how inputs interleave.
      const side = lDue && (!rDue || (l as Entry).deadline <= (r as Entry).deadline) ? 0 : 1;
      const e = this.heaps[side].pop() as Entry;
      this.purge(e, side);
    }
  }

  private purge(e: Entry, side: 0 | 1): void {
    e.alive = false;
    const state = e.state;
    if (!e.matched && this.outer[side]) this.emitUnmatched(side, e.value, e.t);
    if (--state.alive === 0) {
      this.states.delete(state.key);
      return;
    }
    const list = state.sides[side];
    const dead = ++state.dead[side];
    if (dead > 8 && dead * 2 > list.length) {
      let k = 0;
      for (let j = 0; j < list.length; j++) if ((list[j] as Entry).alive) list[k++] = list[j] as Entry;
      list.length = k;
      state.dead[side] = 0;
    }
  }

  /**
   * `{ seqs: [left, right], keys: [[key, [[t, seq, matched, value], …left], […right]], …] }`: each
   * key's buffered records per side in arrival order (deadlines follow from the bounds).
   */
  snapshot(): unknown {
    const keys: unknown[] = [];
    const side = (list: Entry[]): unknown[] => {
      const out: unknown[] = [];
      for (const e of list) if (e.alive) out.push([e.t, e.seq, e.matched, e.value]);
      return out;
    };
    this.states.forEach((st, key) => keys.push([key, side(st.sides[0]), side(st.sides[1])]));
    return { seqs: [this.seqs[0], this.seqs[1]], keys };
  }

  /** Restores what `snapshot()` returned (called once, right after construction). */
  restore(resume: unknown): void {
    const r = new StateReader(this.ctx, 'interval join');
    const o = r.object(resume, 'the state');
    const next = r.pair(o['seqs'], 'seqs');
    const { lo, hi } = this.settings;
    const states: KeyState[] = r.keyed(o['keys'], 'keys', 3).map(({ key, row }) => {
      const state: KeyState = { key, sides: [[], []], dead: [0, 0], alive: 0 };
      for (const side of [0, 1] as const) {
        const what = `${side === 0 ? 'left' : 'right'} records of ${String(key)}`;
        for (const ev of r.array(row[1 + side], what)) {
          const x = r.array(ev, what, 4);
          const t = r.number(x[0], `${what} timestamp`);
          state.sides[side].push({ t, value: x[3], deadline: side === 0 ? t + hi : t - lo, seq: r.count(x[1], `${what} seq`), state, matched: r.boolean(x[2], `${what} matched`), alive: true });
          state.alive++;
        }
      }
      return state;
    });
    for (const state of states) {
      if (state.alive === 0) continue;
      if (this.states.get(state.key) !== undefined) r.fail(`key ${String(state.key)} appears twice`);
      this.states.set(state.key, state);
      for (const side of [0, 1] as const) for (const e of state.sides[side]) this.heaps[side].push(e);
    }
    this.seqs[0] = next[0];
    this.seqs[1] = next[1];
  }

  holdWatermark(): number {
    let hold = Infinity;
    if (this.outer[0]) {
      const l = this.heaps[0].peek();
      if (l !== undefined) hold = l.t - 1;
    }
    if (this.outer[1]) {
      const r = this.heaps[1].peek();
      if (r !== undefined && r.t - 1 < hold) hold = r.t - 1;
    }
    return hold;
  }

  stats(): Record<string, number> {
    return {
      accepted: this.accepted,
      tooLate: this.tooLate,
      pairs: this.pairs,
      unmatched: this.unmatched,
      buffered: this.heaps[0].size + this.heaps[1].size,
      keys: this.states.size,
    };
  }
}

/**
 * The operator factory of an interval join with validated `settings`.
 *
 * @example
 * intervalJoinOperator(checkIntervalJoinOptions({ lower: -5_000, upper: 0 }));
 */
export function intervalJoinOperator(settings: IntervalJoinSettings): OperatorFactory {
  return {
    kind: 'join:interval',
    stateVersion: STATE_VERSION,
    stateSignature: `join:interval [${settings.lo}, ${settings.hi}] ${settings.type}`,
    keyedState: { fields: { seqs: 'max', keys: 'keyed' } },
    build(ctx, resume) {
      const logic = new IntervalJoinLogic(ctx, settings);
      if (resume !== undefined) logic.restore(resume);
      return logic;
    },
  };
}
