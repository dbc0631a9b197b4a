/**
 * The idiomatic RxJS 7 baselines for the keyed window counts: what a user writes with RxJS when
 * asked for event-time windows. The input is `from(records)`; the watermark is computed beside it
 * (bounded out-of-orderness, `W = maxTs − bound − 1`, the same rule as Tidemark) and published on
 * a `Subject`.
 *
 * - Time windows (tumbling, sliding): `groupBy` the window start, each group closed by its
 *   `duration` — the watermark passing the window's end — and `reduce`d to a `Map` of key →
 *   count, then emitted. Sliding windows `mergeMap` each record to its windows first.
 * - Sessions: `groupBy` the key (one long-lived group per key) and, inside, the key's sessions as
 *   state; a key's due sessions are emitted when the key's next record arrives after the
 *   watermark has passed them, and the rest when the input completes. (RxJS has no way to tell
 *   10k groups about a watermark without a subscription per group; final results are the same.)
 *
 * No group or window is ever late for this input (the disorder stays within the bound), so the
 * results are exactly Tidemark's.
 */
import { type GroupedObservable, type Observable, Subject, connectable, defer, from } from 'rxjs';
import { concatWith, distinctUntilChanged, filter, groupBy, map, mergeMap, reduce, scan } from 'rxjs/operators';
import type { Click } from '../generator.js';
import type { Emit, WindowCount } from '../results.js';

/** Start of the tumbling window of `size` containing `t` (correct for negative t). */
export function floorTo(t: number, size: number): number {
  const r = t % size;
  return r < 0 ? t - (r + size) : t - r;
}

/** How a time-windowed RxJS job assigns records to windows and reduces a window. */
export interface TimeWindowJob<T, R> {
  readonly ts: (r: T) => number;
  /** The window starts of a record (one for tumbling windows). */
  readonly starts: (t: number) => number | readonly number[];
  readonly size: number;
  readonly bound: number;
  /** Folds one window's records into its results. */
  readonly reduceWindow: (window: GroupedObservable<number, T>) => Observable<R>;
}

/**
 * Runs a time-windowed job over `records` with RxJS: `groupBy(window start)` closed by the
 * watermark, each window reduced by `job.reduceWindow`. Resolves when the input is exhausted.
 */
export function runTimeWindows<T, R>(records: readonly T[], job: TimeWindowJob<T, R>, emit: (r: R) => void): Promise<void> {
  const { ts, starts, size, bound, reduceWindow } = job;
  const input$ = connectable(from(records), { connector: () => new Subject<T>(), resetOnDisconnect: false });
  const watermark$ = new Subject<number>();
  const assigned$: Observable<[number, T]> = input$.pipe(
    mergeMap((r) => {
      const s = starts(ts(r));
      return typeof s === 'number' ? [[s, r] as [number, T]] : s.map((w) => [w, r] as [number, T]);
    }),
  );
  return new Promise<void>((resolve, reject) => {
    // the windows subscribe first, so each record is routed before the watermark it moves
    assigned$
      .pipe(
        groupBy(([s]) => s, {
          element: ([, r]) => r,
          duration: (g) => watermark$.pipe(filter((w) => w >= g.key + size - 1)),
        }),
        mergeMap(reduceWindow),
      )
      .subscribe({ next: emit, error: reject, complete: resolve });
    input$
      .pipe(
        scan((maxTs, r) => Math.max(maxTs, ts(r)), -Infinity),
        map((maxTs) => maxTs - bound - 1),
        distinctUntilChanged(),
      )
      .subscribe(watermark$);
    input$.connect();
  });
}

/** A window's records reduced to a `Map` of key → count. */
export function countByKey<T, K>(window: Observable<T>, keyOf: (r: T) => K): Observable<Map<K, number>> {
  return window.pipe(
    reduce((counts, r) => {
      const k = keyOf(r);
      return counts.set(k, (counts.get(k) ?? 0) + 1);
    }, new Map<K, number>()),
  );
}

/** One open session of a key. */
export interface RxSession<A> {
  start: number;
  end: number;
  acc: A;
}

/** How a session job folds a key's records. */
export interface SessionJob<T, K, A, R> {
  readonly ts: (r: T) => number;
  readonly key: (r: T) => K;
  readonly gap: number;
  readonly bound: number;
  readonly create: () => A;
  readonly add: (acc: A, r: T) => A;
  readonly merge: (a: A, b: A) => A;
  readonly result: (key: K, s: RxSession<A>) => R;
}

/**
 * Runs a per-key session job with RxJS: `groupBy(key)`, the key's sessions as state inside the
 * group (a record's proto-window `[t, t + gap)` merges with every session it strictly overlaps).
 */
export function runSessions<T, K, A, R>(records: readonly T[], job: SessionJob<T, K, A, R>, emit: (r: R) => void): Promise<void> {
  const { ts, key, gap, bound, create, add, merge, result } = job;
  let maxTs = -Infinity;
  const perKey = (g: GroupedObservable<K, T>): Observable<R> => {
    const sessions: RxSession<A>[] = [];
    return g.pipe(
      mergeMap((r) => {
        const t = ts(r);
        if (t > maxTs) maxTs = t;
        const wm = maxTs - bound - 1;
        let grown: RxSession<A> = { start: t, end: t + gap, acc: add(create(), r) };
        for (let i = sessions.length - 1; i >= 0; i--) {
          const s = sessions[i] as RxSession<A>;
          if (s.start < grown.end && grown.start < s.end) {
            grown = { start: Math.min(s.start, grown.start), end: Math.max(s.end, grown.end), acc: merge(s.acc, grown.acc) };
            sessions.splice(i, 1);
          }
        }
        sessions.push(grown);
        const due: R[] = [];
        for (let i = sessions.length - 1; i >= 0; i--) {
          const s = sessions[i] as RxSession<A>;
          if (s.end - 1 <= wm) {
            due.push(result(g.key, s));
            sessions.splice(i, 1);
          }
        }
        return due;
      }),
      concatWith(defer(() => sessions.map((s) => result(g.key, s)))),
    );
  };
  return new Promise<void>((resolve, reject) => {
    from(records).pipe(groupBy(key), mergeMap(perKey)).subscribe({ next: emit, error: reject, complete: resolve });
  });
}

/** Options of the count jobs (as the hand loops take them). */
export interface RxCountOptions {
  readonly size: number;
  readonly slide: number;
  readonly gap: number;
  readonly bound: number;
}

const clickTs = (c: Click): number => c.ts;

/** Keyed tumbling count with RxJS. */
export function rxTumblingCount(records: readonly Click[], o: RxCountOptions, emit: Emit): Promise<void> {
  return runTimeWindows(records, {
    ts: clickTs,
    starts: (t) => floorTo(t, o.size),
    size: o.size,
    bound: o.bound,
    reduceWindow: (w) => countRows(w, o.size),
  }, emit);
}

/** A window of clicks reduced to one `WindowCount` per user. */
function countRows(w: GroupedObservable<number, Click>, size: number): Observable<WindowCount> {
  return countByKey(w, (c) => c.user).pipe(mergeMap((counts) => [...counts].map(([key, count]) => ({ key, start: w.key, end: w.key + size, count }))));
}

/** Keyed sliding count with RxJS: each record `mergeMap`ped to its `size / slide` windows. */
export function rxSlidingCount(records: readonly Click[], o: RxCountOptions, emit: Emit): Promise<void> {
  return runTimeWindows(records, {
    ts: clickTs,
    starts: (t) => {
      const out: number[] = [];
      for (let s = floorTo(t, o.slide); s > t - o.size; s -= o.slide) out.push(s);
      return out;
    },
    size: o.size,
    bound: o.bound,
    reduceWindow: (w) => countRows(w, o.size),
  }, emit);
}

/** Keyed session count with RxJS. */
export function rxSessionCount(records: readonly Click[], o: RxCountOptions, emit: Emit): Promise<void> {
  return runSessions(records, {
    ts: clickTs,
    key: (c) => c.user,
    gap: o.gap,
    bound: o.bound,
    create: () => 0,
    add: (n) => n + 1,
    merge: (a, b) => a + b,
    result: (key, s) => ({ key, start: s.start, end: s.end, count: s.acc }),
  }, emit);
}
