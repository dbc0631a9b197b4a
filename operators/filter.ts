/**
 * `filter(predicate)`: keeps the records for which the predicate is true.
 */
import { UserFunctionError } from '../engine/errors.js';
import type { OperatorFactory } from '../engine/operator.js';
import { asyncResultMessage } from './map.js';

/**
 * The filter operator. A predicate that returns a promise fails the run (a promise is always
 * truthy, so it would silently keep everything); one that throws fails the run or dead-letters.
 *
 * @example
 * clicks.filter((c) => !c.bot);
 */
export function filterOperator<T>(predicate: (record: T) => unknown): OperatorFactory {
  return {
    kind: 'filter',
    keyedState: 'stateless',
    build(ctx) {
      const out = ctx.out;
      return {
        onBatch({ values, times, keys }) {
          const n = values.length;
          let i = 0;
          while (i < n) {
            try {
              for (; i < n; i++) {
                const keep = predicate(values[i] as T);
                if (keep instanceof Promise) ctx.fail(asyncResultMessage('filter'), times[i]);
                if (!keep) continue;
                if (keys === undefined) out.emit(values[i], times[i] as number);
                else out.emitKeyed(values[i], times[i] as number, keys[i] as never);
              }
            } catch (e) {
              if (e instanceof UserFunctionError) throw e;
              ctx.userError(e, values[i], times[i], 'filter predicate threw');
              i++;
            }
          }
        },
      };
    },
  };
}
