/**
 * `keyBy(fn)`: attaches a key to every record. Keys are primitives or arrays of primitives,
 * compared by value; a record whose key is not one is dead-lettered with the reason.
 */
import { UserFunctionError } from '../engine/errors.js';
import { type Key, keyProblem } from '../engine/keys.js';
import type { OperatorFactory } from '../engine/operator.js';
import { asyncResultMessage } from './map.js';

/**
 * The keyBy operator.
 *
 * @example
 * clicks.keyBy((c) => [c.user, c.page]); // groups by the pair
 */
export function keyByOperator<T>(fn: (record: T) => Key): OperatorFactory {
  return {
    kind: 'keyBy',
    keyedState: 'stateless',
    build(ctx) {
      const out = ctx.out;
      return {
        onBatch({ values, times }) {
          const n = values.length;
          const keys = new Array<Key>(n);
          let bad: boolean[] | undefined;
          let i = 0;
          while (i < n) {
            try {
              for (; i < n; i++) {
                const k = fn(values[i] as T);
                const tk = typeof k;
                if (tk === 'string' || tk === 'number') {
                  keys[i] = k;
                  continue;
                }
                const problem = keyProblem(k);
                if (problem === undefined) {
                  keys[i] = k;
                  continue;
                }
                if ((k as unknown) instanceof Promise) ctx.fail(asyncResultMessage('keyBy'), times[i]);
                (bad ??= new Array<boolean>(n).fill(false))[i] = true;
                ctx.deadLetter(values[i], problem, times[i]);
              }
            } catch (e) {
              if (e instanceof UserFunctionError) throw e;
              (bad ??= new Array<boolean>(n).fill(false))[i] = true;
              ctx.userError(e, values[i], times[i], 'key function threw');
              i++;
            }
          }
          if (bad === undefined) {
            out.emitBatch({ values, times, keys });
            return;
          }
          for (let j = 0; j < n; j++) if (!bad[j]) out.emitKeyed(values[j], times[j] as number, keys[j] as Key);
        },
      };
    },
  };
}
