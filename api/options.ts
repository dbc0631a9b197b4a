/**
 * Options every operator accepts, and their validation.
 */
import { PlanError } from '../engine/errors.js';
import type { OnError } from '../engine/operator.js';

/** Options of any operator: a stable name, and what a failing user function does. */
export interface OperatorOptions {
  /** A stable id used by errors, metrics and (later) checkpoints. Unique per pipeline. */
  readonly name?: string;
  /** `'fail'` (default): a throwing user function fails the run; `'dead-letter'`: the record is dead-lettered. */
  readonly onError?: OnError;
}

/** Validates operator options for `where` (e.g. `tidemark.map`). */
export function checkOptions(options: OperatorOptions | undefined, where: string): { name: string | undefined; onError: OnError } {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new PlanError(`${where}: options must be an object`);
  }
  const onError = options?.onError ?? 'fail';
  if (onError !== 'fail' && onError !== 'dead-letter') {
    throw new PlanError(`${where}: onError must be 'fail' or 'dead-letter', got '${String(onError)}'`);
  }
  return { name: options?.name, onError };
}

/** Checks that `fn` is a function, naming `where`. */
export function checkFunction(fn: unknown, where: string, what = 'a function'): void {
  if (typeof fn !== 'function') throw new PlanError(`${where}: expected ${what}, got ${fn === null ? 'null' : typeof fn}`);
}
