/**
 * Small helpers shared by the golden test files (spec/golden/*.test.ts).
 *
 * They build expected window results, put actual and expected results in a canonical order
 * when emission order is not what a case is about, and hold the watermark translations from
 * the "Translating other engines' cases" section of /work/shared/design/semantics.md.
 */

export type Timing = 'early' | 'on-time' | 'late';

export interface WindowBounds {
  start: number;
  end: number;
}

/** The fields of a window result that the canonical order looks at. */
export interface ResultLike {
  key: unknown;
  window: WindowBounds;
  pane: { index: number };
}

/**
 * An expected window result (pane). Defaults: on-time pane 0, not final.
 *
 * @example
 * ```ts
 * wr('a', 0, 1000, 3, 'on-time', 0, true);
 * ```
 */
export function wr<K, V>(
  key: K,
  start: number,
  end: number,
  value: V,
  timing: Timing = 'on-time',
  index = 0,
  final = false,
): { key: K; window: WindowBounds; value: V; pane: { timing: Timing; index: number; final: boolean } } {
  return { key, window: { start, end }, value, pane: { timing, index, final } };
}

function cmp(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function keyString(key: unknown): string {
  return JSON.stringify(key) ?? String(key);
}

/** Canonical order of results: window end, window start, key (by value), pane index. */
export function compareResults(a: ResultLike, b: ResultLike): number {
  return (
    cmp(a.window.end, b.window.end) ||
    cmp(a.window.start, b.window.start) ||
    cmpStr(keyString(a.key), keyString(b.key)) ||
    cmp(a.pane.index, b.pane.index)
  );
}

/** A copy of `xs` in canonical order (see {@link compareResults}). */
export function sortRes<T extends ResultLike>(xs: readonly T[]): T[] {
  return [...xs].sort(compareResults);
}

/** A copy of `{ value, timestamp }` results ordered by timestamp, then canonical result order. */
export function sortTs<T extends { value: ResultLike; timestamp: number }>(xs: readonly T[]): T[] {
  return [...xs].sort((a, b) => cmp(a.timestamp, b.timestamp) || compareResults(a.value, b.value));
}

/** Sorts the list value of a `toList()` result (for cases where order inside a pane is not the point). */
export function withSortedList<T extends { value: readonly unknown[] }>(r: T): T {
  return { ...r, value: [...r.value].sort((a, b) => cmpStr(keyString(a), keyString(b))) };
}

/** Windows in ascending (start, end) order. */
export function sortWindows(ws: readonly WindowBounds[]): WindowBounds[] {
  return [...ws].sort((a, b) => cmp(a.start, b.start) || cmp(a.end, b.end));
}

/** Late records with their missed windows sorted, ordered by timestamp then key then value. */
export function sortLate<T extends { value: unknown; timestamp: number; key: unknown; missedWindows: readonly WindowBounds[] }>(
  xs: readonly T[],
): (Omit<T, 'missedWindows'> & { missedWindows: WindowBounds[] })[] {
  return [...xs]
    .map((l) => ({ ...l, missedWindows: sortWindows(l.missedWindows) }))
    .sort(
      (a, b) =>
        cmp(a.timestamp, b.timestamp) ||
        cmpStr(keyString(a.key), keyString(b.key)) ||
        cmpStr(keyString(a.value), keyString(b.value)),
    );
}

/** semantics.md: Beam's watermark `W` equals Tidemark's `W − 1` (Beam fires `[s, e)` at `W ≥ e`). */
export function beamWm(beamWatermark: number): number {
  return beamWatermark - 1;
}

/**
 * semantics.md: Kafka Streams' stream time `S` with grace `G` equals a Tidemark watermark
 * `S − G − 1` with allowed lateness 0.
 */
export function kafkaWm(streamTime: number, grace: number): number {
  return streamTime - grace - 1;
}

/** The parts of the testing harness the Kafka driver needs. */
export interface WatermarkedInput<T> {
  addElement(value: T, timestamp: number): void;
  advanceWatermarkTo(watermark: number): void;
}

/**
 * Feeds records the way a Kafka Streams task sees them: stream time `S` is the largest
 * timestamp seen so far, and after every record the Tidemark watermark is `S − G − 1`.
 * (Kafka advances `S` before judging the record; a record that advances `S` is the newest one
 * and on time either way, so adding it first and then advancing the watermark is equivalent.)
 */
export function kafkaDriver<T>(h: WatermarkedInput<T>, grace: number): (value: T, timestamp: number) => void {
  let streamTime = -Infinity;
  return (value, timestamp) => {
    h.addElement(value, timestamp);
    if (timestamp > streamTime) {
      streamTime = timestamp;
      h.advanceWatermarkTo(kafkaWm(streamTime, grace));
    }
  };
}
