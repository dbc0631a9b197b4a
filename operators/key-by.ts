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
    build(ctx) {
      const out = ctx.out;
      return {
        onBatch({ values, times }) {
          const n = values.length;
          let i = 0;
          while (i < n) {
            try {
              for (; i < n; i++) {
                const v = values[i];
                const k = fn(v as T);
                const t = times[i] as number;
                const tk = typeof k;
                if (tk === 'string' || tk === 'number') {
                  out.emitKeyed(v, t, k);
                  continue;
                }
                const problem = keyProblem(k);
                if (problem === undefined) out.emitKeyed(v, t, k);
                else if ((k as unknown) instanceof Promise) ctx.fail(asyncResultMessage('keyBy'), t);
                else ctx.deadLetter(v, problem, t);
              }
            } catch (e) {
              if (e instanceof UserFunctionError) throw e;
              ctx.userError(e, values[i], times[i], 'key function threw');
              i++;
            }
          }
        },
      };
    },
  };
}
