/**
 * `keyed.sortByEventTime()`: buffers records until the watermark passes them, then emits them in
 * timestamp order (ties in arrival order). Records already behind the watermark on arrival are
 * late and go to `late()`. The output is ordered by event time, so it satisfies per-key (indeed
 * total) order contracts.
 */
import { MinHeap } from '../engine/heap.js';
import type { Key } from '../engine/keys.js';
import type { OperatorFactory } from '../engine/operator.js';

interface Held {
  readonly t: number;
  readonly seq: number;
  readonly value: unknown;
  readonly key: Key;
}

const before = (a: Held, b: Held): boolean => a.t < b.t || (a.t === b.t && a.seq < b.seq);

/**
 * The sorting operator.
 *
 * @example
 * readings.keyBy((r) => r.sensor).sortByEventTime().scan((last, r) => r.value - last.value, first);
 */
export function sortByEventTimeOperator(): OperatorFactory {
  return {
    kind: 'sortByEventTime',
    build(ctx) {
      const heap = new MinHeap<Held>(before);
      let seq = 0;
      let accepted = 0;
      let tooLate = 0;
      return {
        onBatch({ values, times, keys }) {
          const W = ctx.watermark;
          for (let i = 0; i < values.length; i++) {
            const t = times[i] as number;
            const key = (keys as readonly Key[])[i] as Key;
            if (t <= W) {
              tooLate++;
              ctx.late.emit({ value: values[i], timestamp: t, key, missedWindows: [] }, t);
              continue;
            }
            accepted++;
            heap.push({ t, seq: seq++, value: values[i], key });
          }
        },
        onWatermark(W) {
          for (let h = heap.peek(); h !== undefined && h.t <= W; h = heap.peek()) {
            heap.pop();
            ctx.out.emitKeyed(h.value, h.t, h.key);
          }
        },
        stats: () => ({ accepted, tooLate, buffered: heap.size }),
      };
    },
  };
}
