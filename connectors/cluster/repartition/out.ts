/**
 * The hand-off operator at the end of an upstream sub-topology: after the repartitioning keyBy,
 * it turns each keyed record into a message for the partition owning its key, carrying the origin
 * partition, the task's fencing token and a checkpointed counter `n` — a replay after a restore
 * produces the same counters in the same order, so the reader drops what it has passed (and
 * JetStream's duplicate window, with the same message ids, drops most of it before) — and turns
 * each watermark advance into a marker for every partition, and each change of its input's
 * idleness into an idleness marker for every partition (so an idle origin does not hold the
 * downstream watermark back).
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
 * const out = repartitionOut(2, 41, 8, 128); // origin 2, lease token 41
 */
export function repartitionOut(origin: number, token: number, partitions: number, keyGroups: number): OperatorFactory {
  return {
    kind: 'repartition-out',
    stateSignature: `repartition-out ${partitions}/${keyGroups}`,
    build(ctx, resume) {
      const saved = resume as { n?: unknown; w?: unknown } | undefined;
      let n = typeof saved?.n === 'number' ? saved.n : 0;
      let sent = typeof saved?.w === 'number' ? saved.w : -Infinity;
      const out = ctx.out;
      let idleSeq = 0;
      return {
        onBatch({ values, times, keys }) {
          for (let i = 0; i < values.length; i++) {
            const t = times[i] as number;
            const q = keys === undefined ? 0 : partitionOfKeyGroup(keyGroupOf(keys[i] as Key, keyGroups), partitions);
            const msg: RepartitionMessage = { q, id: `${origin}:${n}`, m: { o: origin, k: token, n: n++, v: values[i], t } };
            out.emit(msg, t);
          }
        },
        onWatermark(w) {
          if (w <= sent) return;
          sent = w;
          const t = Math.min(w, MAX_TIMESTAMP);
          for (let q = 0; q < partitions; q++) out.emit({ q, id: `${origin}:w${w}:${q}`, m: { o: origin, k: token, w } } satisfies RepartitionMessage, t);
        },
        onIdle(idle) {
          const t = Math.max(-MAX_TIMESTAMP, Math.min(sent, MAX_TIMESTAMP));
          const seq = idleSeq++;
          for (let q = 0; q < partitions; q++) out.emit({ q, id: `${origin}:${token}:i${seq}:${q}`, m: { o: origin, k: token, i: idle } } satisfies RepartitionMessage, t);
        },
        snapshot: () => ({ n, w: sent }),
      };
    },
  };
}
