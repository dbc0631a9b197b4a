/**
 * `keyed.scan(fn, init)`: a running fold per key, in arrival order, emitting the new state after
 * each record. Needs per-key (or total) order from its input; the plan checks that.
 */
import { UserFunctionError } from '../engine/errors.js';
import { type Key, KeyMap } from '../engine/keys.js';
import type { OperatorFactory } from '../engine/operator.js';
import { asyncResultMessage } from './map.js';
import { STATE_VERSION, StateReader } from './snapshot.js';

/**
 * The scan operator: state starts at `init` for each key (`init` is shared, so `fn` must return
 * a new state rather than mutate it).
 *
 * @example
 * trades.keyBy((t) => t.symbol).scan((pos, t) => pos + t.qty, 0);
 */
export function scanOperator<T, S>(fn: (acc: S, record: T) => S, init: S): OperatorFactory {
  return {
    kind: 'scan',
    stateVersion: STATE_VERSION,
    stateSignature: 'scan',
    keyedState: { fields: { keys: 'keyed' } },
    build(ctx, resume) {
      let states = new KeyMap<S>();
      if (resume !== undefined) {
        const r = new StateReader(ctx, 'scan');
        for (const { key, row } of r.keyed(r.object(resume, 'the state')['keys'], 'keys', 2)) states.set(key, row[1] as S);
      }
      const out = ctx.out;
      return {
        onBatch({ values, times, keys: recordKeys }) {
          const n = values.length;
          let i = 0;
          while (i < n) {
            try {
              for (; i < n; i++) {
                const key = (recordKeys as readonly Key[])[i] as Key;
                const prev = states.get(key);
                const next = fn(prev === undefined ? init : prev, values[i] as T);
                if (next instanceof Promise) ctx.fail(asyncResultMessage('scan'), times[i]);
                states.set(key, next);
                out.emit(next, times[i] as number);
              }
            } catch (e) {
              if (e instanceof UserFunctionError) throw e;
              ctx.userError(e, values[i], times[i], 'scan function threw');
              i++;
            }
          }
        },
        onEnd() {
          states = new KeyMap<S>();
        },
        /** `{ keys: [[key, state], …] }`. */
        snapshot(): unknown {
          const keys: unknown[] = [];
          states.forEach((st, k) => keys.push([k, st]));
          return { keys };
        },
        stats: () => ({ keys: states.size }),
      };
    },
  };
}
