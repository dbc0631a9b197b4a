/**
 * `monotonic()`: for sources whose timestamps never decrease.
 */
import { boundedStrategy, idleTimeoutOf, type IdleOptions } from './bounded-out-of-orderness.js';
import type { WatermarkStrategy } from '../../engine/watermark.js';

/**
 * Watermarks for ascending timestamps: `W = maxTimestampSeen − 1` (bounded out-of-orderness 0).
 * A record behind an earlier one is late.
 *
 * @example
 * p.source(fromArray(ticks), { timestamp: (t) => t.ts, watermark: monotonic(), ordering: 'total' });
 */
export function monotonic(options: IdleOptions = {}): WatermarkStrategy<unknown> {
  return boundedStrategy(0, idleTimeoutOf(options, 'tidemark.monotonic'), 'monotonic');
}
