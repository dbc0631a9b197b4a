/**
 * Reference model of Tidemark's keyed event-time windows.
 *
 * This module is a deliberately naive, readable simulation of the time-semantics contract
 * (`/work/shared/design/semantics.md`) for keyed windows with the default triggers: the on-time
 * firing when the watermark passes `end - 1`, a late pane at once for every admitted late
 * record, and state purged once the watermark reaches `end - 1 + allowedLateness`. It is the
 * oracle that engine tests compare against, so it favours obviousness over speed: every window
 * keeps the raw records it holds, and every pane value is recomputed from scratch with
 * `create()`/`add()` in arrival order.
 *
 * It imports nothing, and nothing in it depends on the engine.
 *
 * What it models, step by step (see {@link referenceWindows}):
 * - the watermark `W` starts at `-Infinity`, only ever advances, and goes to `+Infinity` after
 *   the last step (end of input flushes and purges everything);
 * - windows are half-open `[start, end)`; a pane carries the timestamp `end - 1`;
 * - lateness is judged per (record, window) for aligned windows and against the merged session
 *   for session windows;
 * - panes carry `{ timing: 'on-time' | 'late', index, final }`; early panes, retractions and
 *   processing-time triggers are out of scope.
 *
 * @example
 * ```ts
 * const count = { create: () => 0, add: (a: number) => a + 1, merge: (a: number, b: number) => a + b,
 *                 result: (a: number) => a };
 * const { panes } = referenceWindows(
 *   [{ kind: 'record', value: 'x', timestamp: 3 }, { kind: 'watermark', time: 9 }],
 *   { key: (v) => v, windowing: { kind: 'tumbling', size: 10 }, aggregate: count },
 * );
 * // panes: [{ key: 'x', window: { start: 0, end: 10 }, value: 1, timestamp: 9,
 * //           pane: { timing: 'on-time', index: 0, final: true } }]
 * ```
 *
 * @module
 */

/**
 * How records are assigned to windows (the reference's mirror of `tumbling`, `sliding`,
 * `session` and `globalWindow`).
 *
 * - `tumbling`: `[start, start + size)` with `start ≡ offset (mod size)`; needs an integer
 *   `size > 0` and `|offset| < size` (default offset 0).
 * - `sliding`: every `[s, s + size)` with `s ≡ offset (mod slide)` and `t - size < s ≤ t`;
 *   needs integers `0 < slide ≤ size` and `|offset| < slide`. `slide` need not divide `size`.
 * - `session`: proto-window `[t, t + gap)` per record, strictly overlapping windows of one key
 *   merge transitively; `gap` (or the value the function returns) must be a positive integer.
 * - `global`: one window `{ start: -Infinity, end: +Infinity }` per key, fired at end of input.
 *
 * @example
 * ```ts
 * const w: RefWindowing<{ user: string }> = { kind: 'sliding', size: 10, slide: 4, offset: 1 };
 * ```
 */
export type RefWindowing<T> =
  | { kind: 'tumbling'; size: number; offset?: number }
  | { kind: 'sliding'; size: number; slide: number; offset?: number }
  | { kind: 'session'; gap: number | ((value: T) => number); maxLength?: number }
  | { kind: 'global' };

/**
 * One input step: a record arriving with its event timestamp, or a watermark.
 * A watermark step that does not advance the watermark is ignored.
 *
 * @example
 * ```ts
 * const steps: RefStep<string>[] = [
 *   { kind: 'record', value: 'a', timestamp: 5 },
 *   { kind: 'watermark', time: 9 },
 * ];
 * ```
 */
export type RefStep<T> = { kind: 'record'; value: T; timestamp: number } | { kind: 'watermark'; time: number };

/**
 * The aggregate shape (same as the engine's `Aggregate`). The reference only uses `create`,
 * `add` (folding a window's records in arrival order) and `result`; `merge` is accepted for
 * shape compatibility and never called.
 *
 * @example
 * ```ts
 * const sum: RefAggregate<number, number, number> = {
 *   create: () => 0, add: (a, v) => a + v, merge: (a, b) => a + b, result: (a) => a,
 * };
 * ```
 */
export interface RefAggregate<T, A, R> {
  create(): A;
  add(acc: A, value: T): A;
  merge(a: A, b: A): A;
  result(acc: A): R;
}

/**
 * One window result (pane). `timestamp` is `window.end - 1` (8.64e15 for the global window); `pane.index` counts the
 * panes of this (key, window) from 0; `pane.final` is true exactly when, at emission, the
 * watermark has reached `end - 1 + allowedLateness` (the window is purged right after).
 *
 * @example
 * ```ts
 * const p: RefPane<string, number> = { key: 'a', window: { start: 0, end: 10 }, value: 2,
 *   timestamp: 9, pane: { timing: 'on-time', index: 0, final: true } };
 * ```
 */
export interface RefPane<K, R> {
  key: K;
  window: { start: number; end: number };
  value: R;
  timestamp: number;
  pane: { timing: 'on-time' | 'late'; index: number; final: boolean };
}

/**
 * A record that was too late for at least one of its windows, with every window it missed
 * (ascending by start). A record appears at most once.
 *
 * @example
 * ```ts
 * const l: RefLate<string, string> = { value: 'a', timestamp: 7, key: 'a',
 *   missedWindows: [{ start: 0, end: 10 }] };
 * ```
 */
export interface RefLate<T, K> {
  value: T;
  timestamp: number;
  key: K;
  missedWindows: { start: number; end: number }[];
}

/** Result of {@link referenceWindows}. */
export interface RefResult<T, K, R> {
  /** Every pane, in emission order. */
  panes: RefPane<K, R>[];
  /** Every record too late for at least one window, in arrival order. */
  late: RefLate<T, K>[];
  /**
   * `in`: record steps; `accepted`: records admitted to at least one window; `tooLate`: records
   * too late for all their windows; `tooLatePairs`: too-late (record, window) pairs.
   * Always `in = accepted + tooLate`.
   */
  counts: { in: number; accepted: number; tooLate: number; tooLatePairs: number };
}

/** Configuration of {@link referenceWindows}. */
export interface RefSpec<T, K, A, R> {
  /** Key extractor; keys are compared by value, see {@link canonicalKey}. */
  key: (value: T) => K;
  windowing: RefWindowing<T>;
  aggregate: RefAggregate<T, A, R>;
  /** `L ≥ 0` (may be `Infinity`), default 0. */
  allowedLateness?: number;
  /** Default `'accumulating'`. */
  accumulation?: 'accumulating' | 'discarding';
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** Mathematical (non-negative) modulo for `m > 0`. */
function mod(a: number, m: number): number {
  return ((a % m) + m) % m;
}

/**
 * The starts of the aligned windows `[s, s + size)` that contain `t`, ascending: every
 * `s ≡ offset (mod slide)` with `t - size < s ≤ t`. Tumbling windows are the case
 * `slide = size` (exactly one start). Correct for negative `t` and any integer `offset`.
 * Throws `RangeError` unless `size` and `slide` are positive integers and `t`, `offset` are
 * integers.
 *
 * @example
 * ```ts
 * assignAligned(-1, 10, 10, 0); // [-10]           (tumbling, negative time)
 * assignAligned(5, 10, 4, 0);   // [-4, 0, 4]      (slide does not divide size)
 * assignAligned(6, 10, 4, 0);   // [0, 4]
 * ```
 */
export function assignAligned(t: number, size: number, slide: number, offset: number): number[] {
  if (!Number.isInteger(size) || size <= 0) throw new RangeError(`assignAligned: size must be a positive integer, got ${size}`);
  if (!Number.isInteger(slide) || slide <= 0) throw new RangeError(`assignAligned: slide must be a positive integer, got ${slide}`);
  if (!Number.isInteger(t)) throw new RangeError(`assignAligned: t must be an integer, got ${t}`);
  if (!Number.isInteger(offset)) throw new RangeError(`assignAligned: offset must be an integer, got ${offset}`);
  const starts: number[] = [];
  // The largest aligned start ≤ t, then walk back while the window still contains t.
  for (let s = t - mod(t - offset, slide); s > t - size; s -= slide) starts.push(s);
  return starts.reverse();
}

/**
 * A canonical string for a key, so keys can be compared by value: strings, numbers, bigints,
 * booleans and (nested) arrays of those. `1`, `'1'`, `1n` and `true` are all different keys;
 * arrays compare element-wise; numbers compare like `Map` keys (SameValueZero: `-0` equals
 * `0`, `NaN` equals `NaN`). Throws `TypeError` for any other value.
 *
 * @example
 * ```ts
 * canonicalKey(['a', 1]) === canonicalKey(['a', 1]); // true
 * canonicalKey(1) === canonicalKey('1');             // false
 * ```
 */
export function canonicalKey(key: unknown): string {
  switch (typeof key) {
    case 'string':
      return `s${JSON.stringify(key)}`;
    case 'number':
      return `n${String(key)}`; // String(-0) === '0'
    case 'bigint':
      return `b${key.toString()}`;
    case 'boolean':
      return key ? 'T' : 'F';
    default:
      if (Array.isArray(key)) return `[${key.map((k: unknown) => canonicalKey(k)).join(',')}]`;
      throw new TypeError(`canonicalKey: unsupported key ${String(key)} (${typeof key})`);
  }
}

/**
 * A canonical string identifying a (key, window) pair; the map key used by {@link finalPanes}.
 *
 * @example
 * ```ts
 * windowId('a', { start: 0, end: 10 }); // 's"a"|0|10'
 * ```
 */
export function windowId(key: unknown, window: { start: number; end: number }): string {
  return `${canonicalKey(key)}|${window.start}|${window.end}`;
}

/**
 * The last pane of every (key, window), in a map keyed by {@link windowId}. With
 * accumulating panes that is each window's final result; comparing these maps is how
 * reorder-invariance is checked.
 *
 * @example
 * ```ts
 * const last = finalPanes(referenceWindows(steps, spec).panes);
 * last.get(windowId('a', { start: 0, end: 10 }))?.value;
 * ```
 */
export function finalPanes<K, R>(panes: readonly RefPane<K, R>[]): Map<string, RefPane<K, R>> {
  const out = new Map<string, RefPane<K, R>>();
  for (const p of panes) out.set(windowId(p.key, p.window), p);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The simulation
// ---------------------------------------------------------------------------------------------

/** A record held by a window, with its arrival sequence number (to keep arrival order). */
interface Held<T> {
  seq: number;
  value: T;
}

/** State of one live (key, window). */
interface WindowState<T> {
  start: number;
  end: number;
  /** Every record in the window (accumulating panes fold these). */
  all: Held<T>[];
  /** Records added since the previous pane (discarding panes fold these). */
  pending: Held<T>[];
  /** Panes emitted so far (the next pane's index). */
  panes: number;
  /** True once the on-time point is behind us: on-time pane fired, or window born late. */
  pastOnTime: boolean;
}

interface KeyState<K, T> {
  key: K;
  canonical: string;
  /** Aligned (tumbling / sliding / global) windows by start. */
  aligned: Map<number, WindowState<T>>;
  /** Live session windows (pairwise not strictly overlapping). */
  sessions: WindowState<T>[];
}

function bySeq<T>(a: Held<T>, b: Held<T>): number {
  return a.seq - b.seq;
}

function validate<T>(windowing: RefWindowing<T>, allowedLateness: number): void {
  if (Number.isNaN(allowedLateness) || allowedLateness < 0) {
    throw new RangeError(`allowedLateness must be ≥ 0, got ${allowedLateness}`);
  }
  switch (windowing.kind) {
    case 'tumbling': {
      const { size, offset = 0 } = windowing;
      if (!Number.isInteger(size) || size <= 0) throw new RangeError(`tumbling: size must be a positive integer, got ${size}`);
      if (!Number.isInteger(offset) || Math.abs(offset) >= size) {
        throw new RangeError(`tumbling: offset must be an integer with |offset| < size, got ${offset}`);
      }
      return;
    }
    case 'sliding': {
      const { size, slide, offset = 0 } = windowing;
      if (!Number.isInteger(size) || size <= 0) throw new RangeError(`sliding: size must be a positive integer, got ${size}`);
      if (!Number.isInteger(slide) || slide <= 0 || slide > size) {
        throw new RangeError(`sliding: slide must be an integer with 0 < slide ≤ size, got ${slide}`);
      }
      if (!Number.isInteger(offset) || Math.abs(offset) >= slide) {
        throw new RangeError(`sliding: offset must be an integer with |offset| < slide, got ${offset}`);
      }
      return;
    }
    case 'session': {
      const { gap } = windowing;
      if (typeof gap === 'number' && (!Number.isInteger(gap) || gap <= 0)) {
        throw new RangeError(`session: gap must be a positive integer, got ${gap}`);
      }
      return;
    }
    case 'global':
      return;
  }
}

/**
 * Runs `steps` through a keyed window operator as specified by the semantics contract, and
 * returns every pane, every late record and the operator's counts.
 *
 * Contract (W = watermark, L = `allowedLateness`, `[start, end)` a window):
 * - W starts at `-Infinity`; a watermark step that does not advance W is ignored; after the
 *   last step W becomes `+Infinity` (end of input).
 * - When W advances: every live window with `end - 1 ≤ W` that has not had its on-time point
 *   fires an `'on-time'` pane (ordered by end, then start, then canonical key), then every
 *   window with `W ≥ end - 1 + L` is purged.
 * - A record at `t` with key `k`: for aligned windows each window containing `t` is judged
 *   alone — too late if `W ≥ end - 1 + L`, otherwise added, and if `end - 1 ≤ W` a `'late'`
 *   pane fires at once (ascending start). For sessions the record is judged against its
 *   proto-window `[t, t + gap)` merged transitively with the key's live sessions; a merged
 *   window with new bounds is a new window (pane index from 0), holding the union of the
 *   merged sessions' records (discarding: of their not-yet-emitted records).
 * - A window born with `end - 1 ≤ W` never fires an on-time pane, only late ones.
 * - Pane value: aggregate of all records of the window (accumulating), or of the records
 *   added since its previous pane (discarding). `timestamp = end - 1`;
 *   `final = W ≥ end - 1 + L` at emission.
 *
 * Throws `RangeError` for invalid windowing, lateness, non-integer record timestamps, NaN
 * watermarks or non-positive session gaps; `TypeError` for unsupported keys.
 *
 * @example
 * ```ts
 * const count = { create: () => 0, add: (a: number) => a + 1, merge: (a: number, b: number) => a + b,
 *                 result: (a: number) => a };
 * const r = referenceWindows(
 *   [
 *     { kind: 'record', value: 'a', timestamp: 1 },
 *     { kind: 'watermark', time: 9 },                 // on-time pane [0,10) value 1, not final (L = 5)
 *     { kind: 'record', value: 'a', timestamp: 2 },  // late pane [0,10) value 2, index 1
 *     { kind: 'watermark', time: 14 },                // purges [0,10)
 *     { kind: 'record', value: 'a', timestamp: 3 },  // too late: r.late[0].missedWindows = [[0,10)]
 *   ],
 *   { key: (v) => v, windowing: { kind: 'tumbling', size: 10 }, aggregate: count, allowedLateness: 5 },
 * );
 * // r.counts = { in: 3, accepted: 2, tooLate: 1, tooLatePairs: 1 }
 * ```
 */
export function referenceWindows<T, K, A, R>(
  steps: readonly RefStep<T>[],
  spec: RefSpec<T, K, A, R>,
): RefResult<T, K, R> {
  const { windowing, aggregate } = spec;
  const L = spec.allowedLateness ?? 0;
  const discarding = (spec.accumulation ?? 'accumulating') === 'discarding';
  validate(windowing, L);

  const panes: RefPane<K, R>[] = [];
  const late: RefLate<T, K>[] = [];
  const counts = { in: 0, accepted: 0, tooLate: 0, tooLatePairs: 0 };
  const keys = new Map<string, KeyState<K, T>>();
  let W = -Infinity;
  let seq = 0;

  const onTimePassed = (w: { end: number }): boolean => w.end - 1 <= W;
  const purgeable = (w: { end: number }): boolean => W >= w.end - 1 + L;

  function emit(ks: KeyState<K, T>, w: WindowState<T>, timing: 'on-time' | 'late'): void {
    const held = discarding ? w.pending : w.all;
    let acc = aggregate.create();
    for (const h of held) acc = aggregate.add(acc, h.value);
    panes.push({
      key: ks.key,
      window: { start: w.start, end: w.end },
      value: aggregate.result(acc),
      timestamp: w.end === Infinity ? 8.64e15 : w.end - 1, // the global window: the largest valid timestamp
      pane: { timing, index: w.panes, final: purgeable(w) },
    });
    w.panes += 1;
    w.pending = [];
  }

  function windowsOf(ks: KeyState<K, T>): WindowState<T>[] {
    return [...ks.aligned.values(), ...ks.sessions];
  }

  function advanceWatermark(to: number): void {
    if (Number.isNaN(to)) throw new RangeError('watermark must not be NaN');
    if (!(to > W)) return; // watermarks never go back
    W = to;
    // On-time firings, in a deterministic order.
    const due: { ks: KeyState<K, T>; w: WindowState<T> }[] = [];
    for (const ks of keys.values()) {
      for (const w of windowsOf(ks)) if (!w.pastOnTime && onTimePassed(w)) due.push({ ks, w });
    }
    due.sort(
      (a, b) =>
        a.w.end - b.w.end ||
        a.w.start - b.w.start ||
        (a.ks.canonical < b.ks.canonical ? -1 : a.ks.canonical > b.ks.canonical ? 1 : 0),
    );
    for (const { ks, w } of due) {
      // Every live window holds at least one record (windows are created by records).
      emit(ks, w, 'on-time');
      w.pastOnTime = true;
    }
    // Purge.
    for (const ks of keys.values()) {
      for (const [start, w] of [...ks.aligned]) if (purgeable(w)) ks.aligned.delete(start);
      ks.sessions = ks.sessions.filter((w) => !purgeable(w));
    }
  }

  function keyState(key: K): KeyState<K, T> {
    const canonical = canonicalKey(key);
    let ks = keys.get(canonical);
    if (ks === undefined) {
      ks = { key, canonical, aligned: new Map(), sessions: [] };
      keys.set(canonical, ks);
    }
    return ks;
  }

  function newWindow(start: number, end: number): WindowState<T> {
    // A window born behind the watermark never gets an on-time pane.
    return { start, end, all: [], pending: [], panes: 0, pastOnTime: end - 1 <= W };
  }

  function alignedStarts(t: number): { start: number; end: number }[] {
    switch (windowing.kind) {
      case 'tumbling':
        return assignAligned(t, windowing.size, windowing.size, windowing.offset ?? 0).map((s) => ({
          start: s,
          end: s + windowing.size,
        }));
      case 'sliding':
        return assignAligned(t, windowing.size, windowing.slide, windowing.offset ?? 0).map((s) => ({
          start: s,
          end: s + windowing.size,
        }));
      case 'global':
        return [{ start: -Infinity, end: Infinity }];
      case 'session':
        throw new Error('unreachable: sessions are not aligned');
    }
  }

  function addRecord(value: T, t: number): void {
    if (!Number.isInteger(t)) throw new RangeError(`record timestamp must be an integer, got ${t}`);
    counts.in += 1;
    const key = spec.key(value);
    const ks = keyState(key);
    const held: Held<T> = { seq: seq++, value };
    const missed: { start: number; end: number }[] = [];
    let admitted = 0;

    if (windowing.kind === 'session') {
      const gap = typeof windowing.gap === 'number' ? windowing.gap : windowing.gap(value);
      if (!Number.isInteger(gap) || gap <= 0) throw new RangeError(`session: gap must be a positive integer, got ${gap}`);
      // Merge the proto-window with the key's live sessions, transitively.
      let start = t;
      // Capped sessions never cross a multiple of maxLength.
      const cap = windowing.maxLength;
      let end = cap === undefined ? t + gap : Math.min(t + gap, (Math.floor(t / cap) + 1) * cap);
      let absorbed: WindowState<T>[] = [];
      let rest = ks.sessions;
      for (;;) {
        const hit = rest.filter((s) => s.start < end && start < s.end);
        if (hit.length === 0) break;
        absorbed = [...absorbed, ...hit];
        rest = rest.filter((s) => !hit.includes(s));
        start = Math.min(start, ...hit.map((s) => s.start));
        end = Math.max(end, ...hit.map((s) => s.end));
      }
      if (purgeable({ end })) {
        missed.push({ start, end });
      } else {
        admitted += 1;
        // Same bounds as an existing session: it is that window, which continues.
        const same = absorbed.find((s) => s.start === start && s.end === end);
        const w = same ?? newWindow(start, end);
        if (same === undefined) {
          w.all = absorbed.flatMap((s) => s.all).sort(bySeq);
          w.pending = absorbed.flatMap((s) => s.pending).sort(bySeq);
        }
        w.all.push(held);
        w.pending.push(held);
        ks.sessions = [...rest, w];
        if (onTimePassed(w)) emit(ks, w, 'late');
      }
    } else {
      for (const bounds of alignedStarts(t)) {
        if (purgeable(bounds)) {
          missed.push(bounds);
          continue;
        }
        admitted += 1;
        let w = ks.aligned.get(bounds.start);
        if (w === undefined) {
          w = newWindow(bounds.start, bounds.end);
          ks.aligned.set(bounds.start, w);
        }
        w.all.push(held);
        w.pending.push(held);
        if (onTimePassed(w)) emit(ks, w, 'late');
      }
    }

    counts.tooLatePairs += missed.length;
    if (admitted > 0) counts.accepted += 1;
    else counts.tooLate += 1;
    if (missed.length > 0) late.push({ value, timestamp: t, key, missedWindows: missed });
  }

  for (const step of steps) {
    if (step.kind === 'record') addRecord(step.value, step.timestamp);
    else advanceWatermark(step.time);
  }
  advanceWatermark(Infinity); // end of input

  return { panes, late, counts };
}
