/**
 * `flatMap(fn)`: zero or more outputs per record, each with the record's timestamp.
 */
import { UserFunctionError } from '../engine/errors.js';
import type { OperatorFactory } from '../engine/operator.js';
import { asyncResultMessage } from './map.js';

/**
 * The flatMap operator: `fn(record)` returns an iterable (an array, a generator…) of outputs.
 *
 * @example
 * sentences.flatMap((s) => s.text.split(' ').map((word) => ({ word })));
 */
export function flatMapOperator<T, U>(fn: (record: T) => Iterable<U>): OperatorFactory {
  return {
    kind: 'flatMap',
    keyedState: 'stateless',
    build(ctx) {
      const out = ctx.out;
      return {
        onBatch({ values, times }) {
          const n = values.length;
          let i = 0;
          while (i < n) {
            try {
              for (; i < n; i++) {
                const r = fn(values[i] as T) as unknown;
                const t = times[i] as number;
                if (Array.isArray(r)) {
                  for (let j = 0; j < r.length; j++) out.emit(r[j], t);
                } else if (r instanceof Promise) {
                  ctx.fail(asyncResultMessage('flatMap'), t);
                } else if (r !== null && typeof r === 'object' && Symbol.iterator in r) {
                  for (const x of r as Iterable<unknown>) out.emit(x, t);
                } else {
                  ctx.fail(`flatMap function must return an iterable (an array, a Set, a generator…), got ${r === null ? 'null' : typeof r}`, t);
                }
              }
            } catch (e) {
              if (e instanceof UserFunctionError) throw e;
              ctx.userError(e, values[i], times[i], 'flatMap function threw');
              i++;
            }
          }
        },
      };
    },
  };
}
