/**
 * Reduces a pipeline's output to what it finally says: for window results, the last pane of each
 * (key, window) with retractions applied; any other output is kept as a multiset. Used to compare
 * runs that may emit intermediate panes in different orders.
 */
import { canonicalKey } from './reference.js';

/** A stable text rendering of any value (object keys sorted; bigint, ±Infinity, undefined kept). */
export function canonical(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') return Object.is(value, -0) ? '0' : String(value);
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

interface PaneLike {
  key: unknown;
  window: { start: number; end: number };
  value: unknown;
  pane: { index: number };
  retraction?: boolean;
}

function isPane(v: unknown): v is PaneLike {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return 'key' in o && 'window' in o && 'pane' in o && 'value' in o;
}

/**
 * The final results of an output sequence: `windows` maps `key|start|end` to the last pane's
 * value (a retraction removes its pane's value); `others` is the sorted multiset of non-window outputs.
 */
export function finalResults(outputs: readonly unknown[]): { windows: Map<string, string>; others: string[] } {
  const windows = new Map<string, string>();
  const others: string[] = [];
  for (const o of outputs) {
    if (!isPane(o)) {
      others.push(canonical(o));
      continue;
    }
    const id = `${canonicalKey(o.key)}|${o.window.start}|${o.window.end}`;
    if (o.retraction === true) windows.delete(id);
    else windows.set(id, canonical(o.value));
  }
  others.sort();
  return { windows, others };
}
