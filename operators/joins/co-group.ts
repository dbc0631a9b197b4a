/**
 * What every window-join flavour emits for one (key, window) group: the co-group function's
 * outputs (when the join type asks for the group), every left × right pair, and unmatched
 * records of outer types — all with the window's timestamp.
 */
import { UserFunctionError } from '../../engine/errors.js';
import type { Key } from '../../engine/keys.js';
import type { OperatorContext } from '../../engine/operator.js';
import type { Window } from '../window/types.js';
import type { JoinType } from './types.js';

/** A co-group function: both sides' records of one (key, window) in, outputs out. */
export type CoGroupFn = (key: Key, window: Window, lefts: unknown[], rights: unknown[]) => Iterable<unknown>;

/**
 * Calls `fn` for a group if the join type asks for it (`inner`: both sides present; `left` /
 * `right`: that side present; `full`: any) and emits its outputs at `ts`. A throwing function
 * fails the run, naming the operator.
 */
export function applyGroup(ctx: OperatorContext, fn: CoGroupFn, type: JoinType, key: Key, window: Window, lefts: unknown[], rights: unknown[], ts: number): void {
  const wanted = type === 'full'
    || (type === 'inner' ? lefts.length > 0 && rights.length > 0 : type === 'left' ? lefts.length > 0 : rights.length > 0);
  if (!wanted) return;
  try {
    const outs = fn(key, window, lefts.slice(), rights.slice());
    if (outs instanceof Promise) ctx.fail('join function returned a promise (join functions are synchronous; enrich with asyncMap)', ts);
    for (const x of outs) ctx.out.emit(x, ts);
  } catch (e) {
    if (e instanceof UserFunctionError) throw e;
    ctx.fail('join function threw', ts, e);
  }
}

/** Emits every left × right pair of a group at `ts` (lefts in order, each with the rights in order). */
export function emitPairs(ctx: OperatorContext, lefts: readonly unknown[], rights: readonly unknown[], ts: number): void {
  const out = ctx.out;
  for (const l of lefts) for (const r of rights) out.emit({ left: l, right: r }, ts);
}

/** Emits a group's unmatched records for an outer type (a side whose other side is empty). */
export function emitUnmatched(ctx: OperatorContext, type: JoinType, lefts: readonly unknown[], rights: readonly unknown[], ts: number): void {
  const out = ctx.out;
  if (rights.length === 0 && (type === 'left' || type === 'full')) for (const l of lefts) out.emit({ left: l, right: undefined }, ts);
  if (lefts.length === 0 && (type === 'right' || type === 'full')) for (const r of rights) out.emit({ left: undefined, right: r }, ts);
}
