/**
 * `map(fn)`: one output per record.
 */
import { UserFunctionError } from '../engine/errors.js';
import type { OperatorFactory } from '../engine/operator.js';

/** The message for a synchronous operator whose function returned a promise. */
export function asyncResultMessage(op: string): string {
  return `${op} function returned a promise; ${op} is synchronous — use asyncMap for async functions`;
}

/**
 * The map operator: `fn(record)` for each record, keeping its timestamp. A function that returns
 * a promise fails the run (use `asyncMap`); one that throws fails the run naming the operator, or
 * dead-letters the record with `onError: 'dead-letter'`.
 *
 * @example
 * clicks.map((c) => ({ ...c, page: c.url.split('?')[0] }));
 */
export function mapOperator<T, U>(fn: (record: T) => U): OperatorFactory {
  return {
    kind: 'map',
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
                const r = fn(values[i] as T);
                if (r instanceof Promise) ctx.fail(asyncResultMessage('map'), times[i]);
                out.emit(r, times[i] as number);
              }
            } catch (e) {
              if (e instanceof UserFunctionError) throw e;
              ctx.userError(e, values[i], times[i], 'map function threw');
              i++;
            }
          }
        },
      };
    },
  };
}
