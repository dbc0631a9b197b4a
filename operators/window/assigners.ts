/**
 * Window assigner descriptors: plain, validated data saying how records map to windows. The
 * window operator does the assigning; descriptors hold no mutable state.
 */

/** Tumbling windows `[start, start + size)` with `start ≡ offset (mod size)`. */
export interface TumblingAssigner {
  readonly kind: 'tumbling';
  readonly size: number;
  readonly offset: number;
}

/** Sliding windows of `size` starting every `slide` (aligned to `offset`). */
export interface SlidingAssigner {
  readonly kind: 'sliding';
  readonly size: number;
  readonly slide: number;
  readonly offset: number;
}

/** Session windows: records closer than `gap` (strict overlap of `[t, t + gap)`) merge. */
export interface SessionAssigner<T> {
  readonly kind: 'session';
  /** Fixed gap in ms, or undefined when `gapOf` computes it per record. */
  readonly gap: number | undefined;
  readonly gapOf: ((record: T) => number) | undefined;
  /**
   * Longest session in ms, or undefined for none: sessions never cross a multiple of
   * `maxLength` (aligned to the epoch, like tumbling windows), so continuous activity yields
   * consecutive sessions of at most `maxLength` and state is released at every boundary.
   */
  readonly maxLength?: number | undefined;
}

/** One window per key over all time, fired at end of input. */
export interface GlobalAssigner {
  readonly kind: 'global';
}

/** A calendar unit of `calendar()` windows. */
export type CalendarUnit = 'day' | 'week' | 'month' | 'year';

/** Calendar windows in an IANA time zone (local midnight to local midnight). */
export interface CalendarAssigner {
  readonly kind: 'calendar';
  readonly unit: CalendarUnit;
  readonly timeZone: string;
  /** 1 = Monday … 7 = Sunday. */
  readonly weekStartsOn: number;
}

/** Any window assigner. */
export type WindowAssigner<T = unknown> = TumblingAssigner | SlidingAssigner | SessionAssigner<T> | GlobalAssigner | CalendarAssigner;

/**
 * A short text of an assigner for state signatures, e.g. `tumbling(10000)`, `sliding(10000, 2000)`,
 * `session(5000)`, `session(dynamic)`, `global`, `calendar(day, Europe/Berlin)`.
 */
export function assignerText(a: WindowAssigner): string {
  switch (a.kind) {
    case 'tumbling':
      return `tumbling(${a.size}${a.offset === 0 ? '' : `, offset ${a.offset}`})`;
    case 'sliding':
      return `sliding(${a.size}, ${a.slide}${a.offset === 0 ? '' : `, offset ${a.offset}`})`;
    case 'session':
      return `session(${a.gap ?? 'dynamic'}${a.maxLength === undefined ? '' : `, max ${a.maxLength}`})`;
    case 'global':
      return 'global';
    case 'calendar':
      return `calendar(${a.unit}, ${a.timeZone}${a.unit === 'week' ? `, weeks from ${a.weekStartsOn}` : ''})`;
  }
}
