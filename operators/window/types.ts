/**
 * The shapes a window operator produces: window results (panes) and late records.
 */
import type { Key } from '../../engine/keys.js';

/** A half-open event-time interval `[start, end)`; its results carry timestamp `end − 1`. */
export interface Window {
  readonly start: number;
  readonly end: number;
}

/** When a pane was emitted relative to its window's end. */
export type PaneTiming = 'early' | 'on-time' | 'late';

/** Pane metadata: `index` counts the panes of the window from 0; `final` marks its last pane. */
export interface PaneInfo {
  readonly timing: PaneTiming;
  readonly index: number;
  readonly final: boolean;
}

/**
 * One result of a keyed window: the aggregate's value for `key` in `window`, as of this pane.
 * Emitted with event timestamp `window.end − 1`.
 */
export interface WindowResult<K, R> {
  readonly key: K;
  readonly window: Window;
  readonly value: R;
  readonly pane: PaneInfo;
  /** Present (true) on a retraction of an earlier pane (retracting accumulation). */
  readonly retraction?: true;
}

/** A record too late for at least one of its windows, with the windows it missed. */
export interface LateRecord<T, K> {
  readonly value: T;
  readonly timestamp: number;
  readonly key: K;
  readonly missedWindows: readonly Window[];
}

/** How successive panes of a window relate. */
export type Accumulation = 'accumulating' | 'discarding' | 'retracting';

/** Re-exported for window modules. */
export type { Key };
