/**
 * `collect(array)`: a sink that appends every value to an array.
 */
import { PlanError } from '../engine/errors.js';
import type { Sink } from '../engine/sink.js';

/**
 * Appends every value to `target` (in arrival order).
 *
 * @example
 * const out: WindowResult<string, number>[] = [];
 * results.sink(collect(out));
 */
export function collect<T>(target: T[]): Sink<T> {
  if (!Array.isArray(target)) throw new PlanError('tidemark.collect: expected an array to collect into');
  return {
    kind: 'collect',
    write(values) {
      for (let i = 0; i < values.length; i++) target.push(values[i] as T);
    },
  };
}
