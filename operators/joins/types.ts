/**
 * The shapes joins produce and share: the join type (inner or outer), pairs, and late records
 * that say which input they came from. Also the small validation helpers every join factory uses.
 */
import { PlanError } from '../../engine/errors.js';
import type { Key } from '../../engine/keys.js';
import type { Window } from '../window/types.js';

/** Which unmatched records a join also emits: none (`inner`), the left's, the right's, or both (`full`). */
export type JoinType = 'inner' | 'left' | 'right' | 'full';

/** The input a record came from: input 0 is the left (the stream `.xJoin()` is called on), 1 the right. */
export type JoinSide = 'left' | 'right';

/**
 * One output of a pair-producing join. Outer joins leave the missing side `undefined`.
 *
 * @example
 * // interval join, type 'left': { left: click, right: undefined } when no impression matched
 */
export interface JoinPair<L, R> {
  readonly left: L;
  readonly right: R;
}

/**
 * A record that arrived too late for a join (behind the join's input watermark, or too late for
 * some of its windows in a window join), with the input it came from. Routed to `join.late()`.
 */
export type JoinLateRecord<L, R, K> = (
  | { readonly side: 'left'; readonly value: L }
  | { readonly side: 'right'; readonly value: R }
) & {
  readonly timestamp: number;
  readonly key: K;
  /** Window joins only: the windows the record was too late for. */
  readonly missedWindows?: readonly Window[];
};

/** The pair type an interval or window join of type `J` produces. */
export type PairOf<L, R, J extends JoinType> = J extends 'inner'
  ? JoinPair<L, R>
  : J extends 'left'
    ? JoinPair<L, R | undefined>
    : J extends 'right'
      ? JoinPair<L | undefined, R>
      : JoinPair<L | undefined, R | undefined>;

const TYPES: readonly string[] = ['inner', 'left', 'right', 'full'];

/** Validates a join type option (default `'inner'`), naming `where`. */
export function checkJoinType(type: unknown, where: string): JoinType {
  if (type === undefined) return 'inner';
  if (typeof type !== 'string' || !TYPES.includes(type)) {
    throw new PlanError(`${where}: type must be 'inner', 'left', 'right' or 'full', got ${typeof type === 'string' ? `'${type}'` : String(type)}`);
  }
  return type as JoinType;
}

/** Validates that `options` is an object (or undefined), naming `where`. */
export function checkObject(options: unknown, where: string): void {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new PlanError(`${where}: options must be an object`);
  }
}

/** A late-record entry for `ctx.late` (no `missedWindows` unless given). */
export function lateEntry(side: JoinSide, value: unknown, timestamp: number, key: Key, missed?: readonly Window[]): object {
  return missed === undefined ? { value, timestamp, key, side } : { value, timestamp, key, side, missedWindows: missed };
}
