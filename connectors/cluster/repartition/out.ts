/**
 * The hand-off operator at the end of an upstream sub-topology: after the repartitioning keyBy,
 * it turns each keyed record into a message for the partition owning its key, with a message id
 * made of the origin partition and a checkpointed counter — a replay after a restore produces the
 * same ids in the same order, so JetStream's duplicate window drops it — and turns each watermark
 * advance into a marker for every partition.
 */
import { partitionOfKeyGroup, keyGroupOf } from '../../../engine/key-groups.js';
import type { Key } from '../../../engine/keys.js';
import type { OperatorFactory } from '../../../engine/operator.js';
import { MAX_TIMESTAMP } from '../../../engine/time.js';
import type { RepartitionMessage } from './messages.js';

/**
 * The hand-off of origin partition `origin` into `partitions` partitions over `keyGroups` groups.
 *
 * @example
 * const out = repartitionOut(2, 8, 128);
 */
export function repartitionOut(origin: number, partitions: number, keyGroups: number): OperatorFactory {
  return {
    kind: 'repartition-out',
    stateSignature: `repartition-out ${partitions}/${keyGroups}`,
    build(ctx, resume) {
      const saved = resume as { n?: unknown; w?: unknown } | undefined;
      let n = typeof saved?.n === 'number' ? saved.n : 0;
      let sent = typeof saved?.w === 'number' ? saved.w : -Infinity;
      const out = ctx.out;
      return {
        onBatch({ values, times, keys }) {
          for (let i = 0; i < values.length; i++) {
            const t = times[i] as number;
            const q = keys === undefined ? 0 : partitionOfKeyGroup(keyGroupOf(keys[i] as Key, keyGroups), partitions);
            const msg: RepartitionMessage = { q, id: `${origin}:${n++}`, m: { o: origin, v: values[i], t } };
            out.emit(msg, t);
          }
        },
        onWatermark(w) {
          if (w <= sent) return;
          sent = w;
          const t = Math.min(w, MAX_TIMESTAMP);
          for (let q = 0; q < partitions; q++) out.emit({ q, id: `${origin}:w${w}:${q}`, m: { o: origin, w } } satisfies RepartitionMessage, t);
        },
        snapshot: () => ({ n, w: sent }),
      };
    },
  };
}
