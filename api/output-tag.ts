/**
 * Typed tags for side outputs: an operator emits to `ctx.output(tag, value)` (process functions)
 * and downstream code reads `stream.sideOutput(tag)`.
 */
import { PlanError } from '../engine/errors.js';

/** A typed, named side output. */
export interface OutputTag<T> {
  readonly name: string;
  /** Type marker only (never set). */
  readonly __type?: T;
}

/**
 * Creates a side-output tag.
 *
 * @example
 * const tooSlow = outputTag<Request>('too-slow');
 */
export function outputTag<T>(name: string): OutputTag<T> {
  if (typeof name !== 'string' || name.length === 0) throw new PlanError('tidemark.outputTag: name must be a non-empty string');
  return Object.freeze({ name });
}
