/**
 * The "speed of light" baselines: the straightforward plain-JS loops a user would write by
 * hand for the same jobs, with a `Map` of key → count per window.
 *
 * All three follow the same rules as Tidemark (semantics.md):
 * - windows are half-open `[start, end)`;
 * - the watermark is bounded out-of-orderness: after each record, `W = maxTs − bound − 1`;
 * - a window fires (emits its final count) as soon as `W ≥ end − 1`; at end of input every
 *   remaining window fires (`W = +∞`);
 * - a record that arrives for a window that has already fired (`end − 1 ≤ W` when the record
 *   arrives) is too late: it is counted in `late` and not added (allowed lateness 0). For
 *   sessions, a record is judged against the session it would join (its proto-window merged
 *   with the key's open sessions). The benchmark input never produces late records.
 *
 * `limit` and `flush` exist only for the heap measurement: process `records[0, limit)` and, with
 * `flush = false`, return with the windows still open (the returned `state` keeps them alive).
 */
import type { Click } from '../generator.js';
import type { Emit } from '../results.js';

export interface HandRun {
  /** Records (for sliding: record–window pairs) dropped as too late. */
  readonly late: number;
  /** (key, window) pairs still open when the function returned (0 after a flush). */
  readonly openWindows: number;
  /** The window state, returned so the caller can keep it alive (heap measurement). */
  readonly state: unknown;
}

/** Start of the tumbling window of `size` containing `t` (offset 0; correct for negative t). */
function floorTo(t: number, size: number): number {
  const r = t % size;
  return r < 0 ? t - (r + size) : t - r;
}

// ---------------------------------------------------------------------------------------------
// Tumbling count: Map<windowStart, Map<key, count>>
// ---------------------------------------------------------------------------------------------

export interface TumblingOptions {
  readonly size: number;
  readonly bound: number;
}

export function handTumblingCount(
  records: readonly Click[],
  options: TumblingOptions,
  emit: Emit,
  limit: number = records.length,
  flush = true,
): HandRun {
  const { size, bound } = options;
  const windows = new Map<number, Map<string, number>>();
  let maxTs = -Infinity;
  let wm = -Infinity;
  let nextDue = Infinity; // smallest `end − 1` among open windows
  let late = 0;

  const fire = (upTo: number): number => {
    let next = Infinity;
    for (const [start, counts] of windows) {
      const end = start + size;
      if (end - 1 <= upTo) {
        for (const [key, count] of counts) emit({ key, start, end, count });
        windows.delete(start);
      } else if (end - 1 < next) {
        next = end - 1;
      }
    }
    return next;
  };

  for (let i = 0; i < limit; i++) {
    const r = records[i] as Click;
    const t = r.ts;
    const start = floorTo(t, size);
    if (start + size - 1 <= wm) {
      late++;
    } else {
      let counts = windows.get(start);
      if (counts === undefined) {
        counts = new Map();
        windows.set(start, counts);
        if (start + size - 1 < nextDue) nextDue = start + size - 1;
      }
      counts.set(r.user, (counts.get(r.user) ?? 0) + 1);
    }
    if (t > maxTs) {
      maxTs = t;
      wm = maxTs - bound - 1;
      if (wm >= nextDue) nextDue = fire(wm);
    }
  }

  let openWindows = 0;
  if (flush) fire(Infinity);
  else for (const counts of windows.values()) openWindows += counts.size;
  return { late, openWindows, state: windows };
}

// ---------------------------------------------------------------------------------------------
// Sliding count: every record updates each of the size/slide windows that contain it
// ---------------------------------------------------------------------------------------------

export interface SlidingOptions {
  readonly size: number;
  readonly slide: number;
  readonly bound: number;
}

export function handSlidingCount(
  records: readonly Click[],
  options: SlidingOptions,
  emit: Emit,
  limit: number = records.length,
  flush = true,
): HandRun {
  const { size, slide, bound } = options;
  const windows = new Map<number, Map<string, number>>();
  let maxTs = -Infinity;
  let wm = -Infinity;
  let nextDue = Infinity;
  let late = 0;

  const fire = (upTo: number): number => {
    let next = Infinity;
    for (const [start, counts] of windows) {
      const end = start + size;
      if (end - 1 <= upTo) {
        for (const [key, count] of counts) emit({ key, start, end, count });
        windows.delete(start);
      } else if (end - 1 < next) {
        next = end - 1;
      }
    }
    return next;
  };

  for (let i = 0; i < limit; i++) {
    const r = records[i] as Click;
    const t = r.ts;
    // every window [s, s + size) with s ≡ 0 (mod slide) and t − size < s ≤ t
    for (let start = floorTo(t, slide); start > t - size; start -= slide) {
      if (start + size - 1 <= wm) {
        late++;
        continue;
      }
      let counts = windows.get(start);
      if (counts === undefined) {
        counts = new Map();
        windows.set(start, counts);
        if (start + size - 1 < nextDue) nextDue = start + size - 1;
      }
      counts.set(r.user, (counts.get(r.user) ?? 0) + 1);
    }
    if (t > maxTs) {
      maxTs = t;
      wm = maxTs - bound - 1;
      if (wm >= nextDue) nextDue = fire(wm);
    }
  }

  let openWindows = 0;
  if (flush) fire(Infinity);
  else for (const counts of windows.values()) openWindows += counts.size;
  return { late, openWindows, state: windows };
}

// ---------------------------------------------------------------------------------------------
// Session count: per key, a list of open sessions; a record's proto-window [t, t + gap) merges
// with every session it strictly overlaps. A min-heap of (end, key) finds the sessions to fire.
// ---------------------------------------------------------------------------------------------

export interface SessionOptions {
  readonly gap: number;
  readonly bound: number;
}

interface Session {
  start: number;
  end: number;
  count: number;
}

export function handSessionCount(
  records: readonly Click[],
  options: SessionOptions,
  emit: Emit,
  limit: number = records.length,
  flush = true,
): HandRun {
  const { gap, bound } = options;
  const sessions = new Map<string, Session[]>();
  // binary min-heap of session ends, with the key alongside; entries may be stale (the session
  // was extended or merged away) and are checked when popped
  const heapEnd: number[] = [];
  const heapKey: string[] = [];
  let maxTs = -Infinity;
  let wm = -Infinity;
  let late = 0;

  const push = (end: number, key: string): void => {
    let i = heapEnd.length;
    heapEnd.push(end);
    heapKey.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pe = heapEnd[parent] as number;
      if (pe <= end) break;
      heapEnd[i] = pe;
      heapKey[i] = heapKey[parent] as string;
      i = parent;
    }
    heapEnd[i] = end;
    heapKey[i] = key;
  };

  const pop = (): void => {
    const lastEnd = heapEnd.pop() as number;
    const lastKey = heapKey.pop() as string;
    const n = heapEnd.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && (heapEnd[child + 1] as number) < (heapEnd[child] as number)) child++;
      const ce = heapEnd[child] as number;
      if (ce >= lastEnd) break;
      heapEnd[i] = ce;
      heapKey[i] = heapKey[child] as string;
      i = child;
    }
    heapEnd[i] = lastEnd;
    heapKey[i] = lastKey;
  };

  // fires the key's sessions that are due; a key's (possibly empty) list stays in the map
  const fireKey = (key: string, upTo: number): void => {
    const list = sessions.get(key);
    if (list === undefined) return;
    if (list.length === 1) {
      const s = list[0] as Session;
      if (s.end - 1 <= upTo) {
        emit({ key, start: s.start, end: s.end, count: s.count });
        list.pop();
      }
      return;
    }
    let keep = 0;
    for (let j = 0; j < list.length; j++) {
      const s = list[j] as Session;
      if (s.end - 1 <= upTo) emit({ key, start: s.start, end: s.end, count: s.count });
      else list[keep++] = s;
    }
    list.length = keep;
  };

  for (let i = 0; i < limit; i++) {
    const r = records[i] as Click;
    const t = r.ts;
    const key = r.user;
    const list = sessions.get(key);
    if (list === undefined) {
      if (t + gap - 1 <= wm) {
        late++;
      } else {
        sessions.set(key, [{ start: t, end: t + gap, count: 1 }]);
        push(t + gap, key);
      }
    } else if (list.length === 0) {
      if (t + gap - 1 <= wm) {
        late++;
      } else {
        list.push({ start: t, end: t + gap, count: 1 });
        push(t + gap, key);
      }
    } else {
      // the session this record would join: its proto-window merged with every open session of
      // the key that strictly overlaps it (open sessions never overlap each other)
      let start = t;
      let end = t + gap;
      let count = 1;
      let merged = 0;
      let maxMergedEnd = -Infinity;
      for (let j = 0; j < list.length; j++) {
        const s = list[j] as Session;
        if (s.start < end && start < s.end) {
          if (s.start < start) start = s.start;
          if (s.end > end) end = s.end;
          if (s.end > maxMergedEnd) maxMergedEnd = s.end;
          count += s.count;
          merged++;
        }
      }
      if (end - 1 <= wm) {
        late++;
      } else if (merged === 0) {
        list.push({ start, end, count });
        push(end, key);
      } else {
        // the first overlapping session becomes the cover; the others are dropped
        let keep = 0;
        let target: Session | undefined;
        for (let j = 0; j < list.length; j++) {
          const s = list[j] as Session;
          if (s.start < end && start < s.end) {
            if (target !== undefined) continue;
            target = s;
          }
          list[keep++] = s;
        }
        if (keep < list.length) list.length = keep;
        const grown = target as Session;
        grown.start = start;
        grown.end = end;
        grown.count = count;
        // a heap entry for `end` already exists if one of the merged sessions ended there
        if (end > maxMergedEnd) push(end, key);
      }
    }
    if (t > maxTs) {
      maxTs = t;
      wm = maxTs - bound - 1;
      while (heapEnd.length > 0 && (heapEnd[0] as number) - 1 <= wm) {
        const k = heapKey[0] as string;
        pop();
        fireKey(k, wm);
      }
    }
  }

  let openWindows = 0;
  if (flush) {
    for (const [key, list] of sessions) {
      for (const s of list) emit({ key, start: s.start, end: s.end, count: s.count });
    }
    sessions.clear();
    heapEnd.length = 0;
    heapKey.length = 0;
  } else {
    for (const list of sessions.values()) openWindows += list.length;
  }
  return { late, openWindows, state: { sessions, heapEnd, heapKey } };
}
