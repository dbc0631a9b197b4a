/**
 * `keyed.sortByEventTime()`: buffers records until the watermark passes them, then emits them in
 * timestamp order (ties in arrival order). Records already behind the watermark on arrival are
 * late and go to `late()`. The output is ordered by event time over the whole stream, so it
 * satisfies per-key and total order contracts; to keep that, it runs on a single worker of a
 * parallel run (`keyedState: 'not-keyed'`). Its snapshot still lists records per key.
 */
import { MinHeap } from '../engine/heap.js';
import { type Key, KeyMap } from '../engine/keys.js';
import type { OperatorFactory } from '../engine/operator.js';
import { STATE_VERSION, StateReader } from './snapshot.js';

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
    stateVersion: STATE_VERSION,
    stateSignature: 'sortByEventTime',
    // The output is in event-time order over the whole stream (the plan's 'total' order), which
    // instances each holding some keys would not give: it runs on a single worker.
    keyedState: 'not-keyed',
    build(ctx, resume) {
      const heap = new MinHeap<Held>(before);
      let seq = 0;
      if (resume !== undefined) seq = restore(new StateReader(ctx, 'sortByEventTime'), resume, heap);
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
        /** `{ seq, keys: [[key, [[t, seq, value], …]], …] }`: the held records, per key. */
        snapshot(): unknown {
          const byKey = new KeyMap<unknown[][]>();
          const keys: unknown[] = [];
          for (const h of heap.toArray().sort((a, b) => (before(a, b) ? -1 : 1))) {
            let list = byKey.get(h.key);
            if (list === undefined) {
              list = [];
              byKey.set(h.key, list);
              keys.push([h.key, list]);
            }
            list.push([h.t, h.seq, h.value]);
          }
          return { seq, keys };
        },
        stats: () => ({ accepted, tooLate, buffered: heap.size }),
      };
    },
  };
}

/** Fills `heap` from a snapshot; returns the next sequence number. */
function restore(r: StateReader, resume: unknown, heap: MinHeap<Held>): number {
  const o = r.object(resume, 'the state');
  const seq = r.count(o['seq'], 'seq');
  const held: Held[] = [];
  for (const { key, row } of r.keyed(o['keys'], 'keys', 2)) {
    r.array(row[1], `records of ${String(key)}`).forEach((hv, i) => {
      const h = r.array(hv, `records of ${String(key)} [${i}]`, 3);
      held.push({ t: r.number(h[0], 'record timestamp'), seq: r.count(h[1], 'record seq'), value: h[2], key });
    });
  }
  for (const h of held) heap.push(h);
  return seq;
}
