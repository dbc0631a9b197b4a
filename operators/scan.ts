/**
 * `keyed.scan(fn, init)`: a running fold per key, in arrival order, emitting the new state after
 * each record. Needs per-key (or total) order from its input; the plan checks that.
 */
import { UserFunctionError } from '../engine/errors.js';
import { KeyInterner, type Key } from '../engine/keys.js';
import type { OperatorFactory } from '../engine/operator.js';
import { asyncResultMessage } from './map.js';

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
    build(ctx) {
      const keys = new KeyInterner();
      const states: S[] = [];
      const out = ctx.out;
      return {
        onBatch({ values, times, keys: recordKeys }) {
          const n = values.length;
          let i = 0;
          while (i < n) {
            try {
              for (; i < n; i++) {
                const id = keys.intern((recordKeys as readonly Key[])[i] as Key);
                const prev = id === states.length ? init : (states[id] as S);
                const next = fn(prev, values[i] as T);
                if (next instanceof Promise) ctx.fail(asyncResultMessage('scan'), times[i]);
                if (id === states.length) states.push(next);
                else states[id] = next;
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
          states.length = 0;
        },
        stats: () => ({ keys: states.length }),
      };
    },
  };
}
