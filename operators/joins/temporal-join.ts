/**
 * The temporal (as-of) join of a stream against a versioned table stream: each left record at `t`
 * joins the table row of its key with the largest version timestamp `≤ t` (or `undefined`).
 *
 * Semantics:
 * - The right input is the table's changelog: each record is a new version of its key's row, valid
 *   from its timestamp. Versions with equal timestamps: the later arrival wins.
 * - A left record waits until the **table's own watermark** `T` reaches `t` — then every version
 *   `≤ t` has arrived, so the result does not depend on arrival order — and is emitted with
 *   timestamp `t`. The wait is bounded by `grace`: once the join's input watermark `W` (the
 *   minimum of both inputs, which leaves out an idle table input) reaches `t + grace`, the record
 *   is joined with the table as known. That only happens when the table input is idle or lags
 *   more than `grace` behind a stalled minimum; a table row arriving later for an earlier time does
 *   not revise results already emitted. While records wait, the output watermark is held at the
 *   oldest waiting record's `t − 1`, so results are never late downstream.
 * - Lateness: a left record with `t ≤ W` (the versions it needs may be purged) and a table row
 *   with timestamp `≤ T` (results at its time may already be out) are late: counted (`tooLate`)
 *   and routed to `late()` with their `side`.
 * - State: per key, the versions still needed — the latest version at or before the oldest time a
 *   waiting or future left record can ask for, and every newer one. At end of input all is purged.
 * The table's own watermark is read by a small pass-through node the API inserts in front of the
 * join's right input (kind `temporal-join:table`).
 * Output order: records released by a watermark in timestamp order (ties in arrival order);
 * a record whose table time has already passed on arrival is emitted at once.
 */
import type { Batch } from '../../engine/batch.js';
import { PlanError } from '../../engine/errors.js';
import { MinHeap } from '../../engine/heap.js';
import { type Key, KeyMap, ownKey } from '../../engine/keys.js';
import type { OperatorContext, OperatorFactory, OperatorLogic } from '../../engine/operator.js';
import { type Duration, toMillis } from '../../engine/time.js';
import { STATE_VERSION, StateReader } from '../snapshot.js';
import { checkObject, lateEntry } from './types.js';

/** Options of `keyed.temporalJoin(table, options)`. */
export interface TemporalJoinOptions {
  /**
   * How far (in event time, by the join's input watermark) a left record waits at most for the
   * table's watermark to pass it (default 0: no wait beyond what the inputs' minimum implies).
   */
  readonly grace?: Duration;
}

/** Validated temporal-join settings. */
export interface TemporalJoinSettings {
  readonly grace: number;
}

/**
 * Validates temporal-join options when the plan is built.
 *
 * @example
 * checkTemporalJoinOptions({ grace: 'PT1M' }); // { grace: 60000 }
 */
export function checkTemporalJoinOptions(options: TemporalJoinOptions | undefined): TemporalJoinSettings {
  const where = 'tidemark.temporalJoin';
  checkObject(options, where);
  const grace = options?.grace === undefined ? 0 : toMillis(options.grace, `${where}: grace`);
  if (grace < 0) throw new PlanError(`${where}: grace must be ≥ 0, got ${grace} ms`);
  return { grace };
}

/** The table input's own watermark, shared by the table pass-through node and the join. */
interface TableWatermark {
  w: number;
}

interface Version {
  readonly t: number;
  readonly value: unknown;
}

interface Row {
  readonly key: Key;
  /** Versions ascending by timestamp (equal timestamps in arrival order). */
  versions: Version[];
}

interface Waiting {
  readonly t: number;
  readonly seq: number;
  readonly value: unknown;
  readonly key: Key;
}

interface Compaction {
  /** Older versions of `row` are droppable once the oldest askable time reaches this. */
  readonly at: number;
  readonly row: Row;
}

const byTime = (a: Waiting, b: Waiting): boolean => a.t < b.t || (a.t === b.t && a.seq < b.seq);

/** The running temporal join (input 0 = the stream, 1 = the table, through its pass-through node). */
export class TemporalJoinLogic implements OperatorLogic {
  private readonly rows = new KeyMap<Row>();
  private readonly waiting = new MinHeap<Waiting>(byTime);
  private readonly compactions = new MinHeap<Compaction>((a, b) => a.at < b.at);
  private seq = 0;
  private versions = 0;
  private accepted = 0;
  private tooLate = 0;
  private joined = 0;
  private unjoined = 0;

  constructor(private readonly ctx: OperatorContext, private readonly settings: TemporalJoinSettings, private readonly table: TableWatermark) {}

  onBatch(batch: Batch, input: number): void {
    const { values, times } = batch;
    const keys = batch.keys as readonly Key[];
    if (input === 0) {
      const W = this.ctx.watermark;
      const T = this.table.w;
      for (let i = 0; i < values.length; i++) {
        const t = times[i] as number;
        const key = keys[i] as Key;
        if (t <= W) {
          this.tooLate++;
          this.ctx.late.emit(lateEntry('left', values[i], t, key), t);
          continue;
        }
        this.accepted++;
        if (t <= T) this.emit(values[i], t, key);
        else this.waiting.push({ t, seq: this.seq++, value: values[i], key: ownKey(key) });
      }
      return;
    }
    const T = this.table.w;
    // After the stream's end (W = +∞ while the table was idle) no lookup can use a row any more.
    const ended = this.ctx.watermark === Infinity;
    for (let i = 0; i < values.length; i++) {
      const t = times[i] as number;
      const key = keys[i] as Key;
      if (t <= T || ended) {
        this.tooLate++;
        this.ctx.late.emit(lateEntry('right', values[i], t, key), t);
        continue;
      }
      this.accepted++;
      this.insert(key, { t, value: values[i] });
    }
  }

  private insert(key: Key, v: Version): void {
    let row = this.rows.get(key);
    if (row === undefined) {
      row = { key: ownKey(key), versions: [] };
      this.rows.set(key, row);
    }
    const vs = row.versions;
    this.versions++;
    if (vs.length === 0 || (vs[vs.length - 1] as Version).t <= v.t) vs.push(v);
    else vs.splice(upperBound(vs, v.t), 0, v);
    if (vs.length > 1) this.compactions.push({ at: (vs[vs.length - 1] as Version).t, row });
  }

  /** Emits the join of `value` (at `t`) with its key's row as of `t`. */
  private emit(value: unknown, t: number, key: Key): void {
    const vs = this.rows.get(key)?.versions;
    let right: unknown;
    if (vs !== undefined) {
      const at = upperBound(vs, t) - 1;
      if (at >= 0) right = (vs[at] as Version).value;
    }
    if (right === undefined) this.unjoined++;
    else this.joined++;
    this.ctx.out.emit({ left: value, right }, t);
  }

  onWatermark(W: number): void {
    const T = this.table.w;
    const grace = this.settings.grace;
    for (let h = this.waiting.peek(); h !== undefined && (h.t <= T || h.t + grace <= W); h = this.waiting.peek()) {
      this.waiting.pop();
      this.emit(h.value, h.t, h.key);
    }
    if (W === Infinity) {
      this.rows.forEach((row) => {
        row.versions = [];
      });
      this.clear();
      return;
    }
    // The oldest time a lookup can still ask for: a waiting record, or a future on-time one (> W).
    const oldest = Math.min(W + 1, this.waiting.peek()?.t ?? Infinity);
    for (let c = this.compactions.peek(); c !== undefined && c.at <= oldest; c = this.compactions.peek()) {
      this.compactions.pop();
      const vs = c.row.versions;
      const keep = upperBound(vs, oldest) - 1;
      if (keep > 0) {
        c.row.versions = vs.slice(keep);
        this.versions -= keep;
      }
    }
  }

  private clear(): void {
    this.versions = 0;
    const keys: Key[] = [];
    this.rows.forEach((_, k) => keys.push(k));
    for (const k of keys) this.rows.delete(k);
    while (this.compactions.pop() !== undefined);
  }

  /**
   * `{ seq, keys: [[key, [[t, value], …versions], [[t, seq, value], …waiting]], …] }`: per key the
   * table versions still needed (ascending) and the stream records waiting for the table.
   */
  snapshot(): unknown {
    const byKey = new KeyMap<unknown[]>();
    const keys: unknown[] = [];
    const rowOf = (key: Key): unknown[] => {
      let row = byKey.get(key);
      if (row === undefined) {
        row = [key, [], []];
        byKey.set(key, row);
        keys.push(row);
      }
      return row;
    };
    this.rows.forEach((row, key) => {
      if (row.versions.length > 0) rowOf(key)[1] = row.versions.map((v) => [v.t, v.value]);
    });
    for (const h of this.waiting.toArray().sort((a, b) => (byTime(a, b) ? -1 : 1))) (rowOf(h.key)[2] as unknown[]).push([h.t, h.seq, h.value]);
    return { seq: this.seq, keys };
  }

  /** Restores what `snapshot()` returned (called once, right after construction). */
  restore(resume: unknown): void {
    const r = new StateReader(this.ctx, 'temporal join');
    const o = r.object(resume, 'the state');
    const seq = r.count(o['seq'], 'seq');
    const rows: Row[] = [];
    const waiting: Waiting[] = [];
    for (const { key, row } of r.keyed(o['keys'], 'keys', 3)) {
      const what = `key ${String(key)}`;
      const versions = r.array(row[1], `${what} versions`).map((vv): Version => {
        const v = r.array(vv, `${what} version`, 2);
        return { t: r.number(v[0], `${what} version timestamp`), value: v[1] };
      });
      for (let i = 1; i < versions.length; i++) if ((versions[i] as Version).t < (versions[i - 1] as Version).t) r.fail(`${what} versions must ascend by timestamp`);
      if (versions.length > 0) rows.push({ key, versions });
      for (const wv of r.array(row[2], `${what} waiting records`)) {
        const w = r.array(wv, `${what} waiting record`, 3);
        waiting.push({ t: r.number(w[0], `${what} waiting record timestamp`), seq: r.count(w[1], `${what} waiting record seq`), value: w[2], key });
      }
    }
    for (const row of rows) {
      if (this.rows.get(row.key) !== undefined) r.fail(`key ${String(row.key)} appears twice`);
      this.rows.set(row.key, row);
      this.versions += row.versions.length;
      if (row.versions.length > 1) this.compactions.push({ at: (row.versions[row.versions.length - 1] as Version).t, row });
    }
    for (const w of waiting) this.waiting.push(w);
    this.seq = seq;
  }

  holdWatermark(): number {
    const h = this.waiting.peek();
    return h === undefined ? Infinity : h.t - 1;
  }

  stats(): Record<string, number> {
    return {
      accepted: this.accepted,
      tooLate: this.tooLate,
      joined: this.joined,
      unjoined: this.unjoined,
      buffered: this.waiting.size,
      versions: this.versions,
      keys: this.rows.size,
    };
  }
}

/** First index whose version timestamp is `> t`. */
function upperBound(vs: readonly Version[], t: number): number {
  let lo = 0;
  let hi = vs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((vs[mid] as Version).t <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The two factories of a temporal join: a pass-through node for the table input that records the
 * table's own watermark, and the join, which reads it. Build the table node first (plan order).
 *
 * @example
 * const { table, join } = temporalJoinOperators(checkTemporalJoinOptions({ grace: 60_000 }));
 */
export function temporalJoinOperators(settings: TemporalJoinSettings): { table: OperatorFactory; join: OperatorFactory } {
  // Each run builds the table node, then the join (nodes are built in plan order): the join
  // picks up the watermark cell of the table node built just before it.
  let latest: TableWatermark | undefined;
  const table: OperatorFactory = {
    kind: 'temporal-join:table',
    keyedState: 'stateless',
    build(ctx) {
      const cell: TableWatermark = { w: -Infinity };
      latest = cell;
      return {
        onBatch: (batch) => ctx.out.emitBatch(batch),
        onWatermark: (w) => {
          cell.w = w;
        },
      };
    },
  };
  const join: OperatorFactory = {
    kind: 'join:temporal',
    stateVersion: STATE_VERSION,
    stateSignature: 'join:temporal',
    keyedState: { fields: { seq: 'max', keys: 'keyed' } },
    build(ctx, resume) {
      const cell = latest;
      latest = undefined;
      if (cell === undefined) throw new Error('tidemark.temporalJoin: the table node must be built before the join');
      const logic = new TemporalJoinLogic(ctx, settings, cell);
      if (resume !== undefined) logic.restore(resume);
      return logic;
    },
  };
  return { table, join };
}
