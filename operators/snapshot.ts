/**
 * Shared pieces of operator snapshots (checkpoints, savepoints): reading a resumed value back with
 * cheap shape checks that name the operator, converting aggregate accumulators to and from plain
 * data, and the short texts that make up operators' state signatures.
 *
 * Snapshots are plain msgpack-encodable data: objects with string keys, arrays, numbers (±∞ and
 * NaN too), strings, booleans, bigints, null/undefined and typed arrays — never `Map`, `Set` or
 * class instances. Keyed state is listed per key as `[key, …state]` tuples, so that it can be
 * split by key group; each factory declares where they are as `keyedState` (see
 * `engine/state-layout.ts`). Restoring validates while it rebuilds into fresh structures and schedules
 * processing-time timers last, so a value that does not fit throws before anything took effect.
 */
import type { Aggregate } from '../engine/aggregate.js';
import { CheckpointError } from '../engine/errors.js';
import { type Key, keyProblem, ownKey } from '../engine/keys.js';
import type { OperatorContext } from '../engine/operator.js';

/**
 * Optional members an aggregate may carry when its accumulator is not plain data (a `Map`, a
 * class instance, a symbol): `snapshotAcc` turns an accumulator into plain data for a checkpoint
 * and `restoreAcc` turns it back. Aggregates whose accumulators are plain need neither.
 *
 * @example
 * const distinct = { ...agg, snapshotAcc: (s: Set<string>) => [...s], restoreAcc: (d: unknown) => new Set(d as string[]) };
 */
export interface AccumulatorCodec<A> {
  snapshotAcc?(acc: A): unknown;
  restoreAcc?(data: unknown): A;
}

/** An accumulator as plain data (through the aggregate's `snapshotAcc`, if it has one). */
export function accOut(agg: Aggregate<unknown, unknown, unknown>, acc: unknown): unknown {
  const codec = agg as AccumulatorCodec<unknown>;
  return codec.snapshotAcc === undefined ? acc : codec.snapshotAcc(acc);
}

/** The text naming an aggregate in state signatures: its `name`, else its `kind`, else `custom`. */
export function aggregateName(agg: Aggregate<unknown, unknown, unknown> | undefined): string {
  if (agg === undefined) return 'none';
  const a = agg as { name?: unknown; kind?: unknown };
  return typeof a.name === 'string' && a.name.length > 0 ? a.name : typeof a.kind === 'string' && a.kind.length > 0 ? a.kind : 'custom';
}

/** The version of every operator state shape defined here (see `OperatorFactory.stateVersion`). */
export const STATE_VERSION = 1;

/**
 * Reads a resumed value back, checking shapes as it goes; every failure throws a
 * `CheckpointError` naming the operator (`ctx.name`), its kind and what did not fit.
 *
 * @example
 * const r = new StateReader(ctx, 'scan');
 * const keys = r.array(r.object(resume, 'state')['keys'], 'keys');
 */
export class StateReader {
  constructor(private readonly ctx: OperatorContext, private readonly kind: string) {}

  /** Throws the error for `problem`. */
  fail(problem: string): never {
    throw new CheckpointError(`${this.ctx.name}: cannot restore ${this.kind} state: ${problem}`);
  }

  /** A plain object (not an array, not null). */
  object(v: unknown, what: string): Record<string, unknown> {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v)) this.fail(`${what} must be an object, got ${describe(v)}`);
    return v as Record<string, unknown>;
  }

  /** An array (of exactly `length` elements when given). */
  array(v: unknown, what: string, length?: number): unknown[] {
    if (!Array.isArray(v)) this.fail(`${what} must be an array, got ${describe(v)}`);
    if (length !== undefined && v.length !== length) this.fail(`${what} must have ${length} elements, got ${v.length}`);
    return v;
  }

  /** A number that is not NaN (±∞ allowed: times such as `-Infinity` and "none" markers). */
  number(v: unknown, what: string): number {
    if (typeof v !== 'number' || Number.isNaN(v)) this.fail(`${what} must be a number, got ${describe(v)}`);
    return v;
  }

  /** A non-negative integer (counters, sequence numbers, indices). */
  count(v: unknown, what: string): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.fail(`${what} must be a non-negative integer, got ${describe(v)}`);
    return v;
  }

  /** A pair of non-negative integers (e.g. the next sequence number of each input of a join). */
  pair(v: unknown, what: string): [number, number] {
    const a = this.array(v, what, 2);
    return [this.count(a[0], `${what}[0]`), this.count(a[1], `${what}[1]`)];
  }

  boolean(v: unknown, what: string): boolean {
    if (typeof v !== 'boolean') this.fail(`${what} must be a boolean, got ${describe(v)}`);
    return v;
  }

  /** A key (string, number, bigint, boolean or an array of those), kept with its exact type (arrays copied and frozen, as `ownKey`). */
  key(v: unknown, what: string): Key {
    const problem = keyProblem(v);
    if (problem !== undefined) this.fail(`${what}: ${problem}`);
    return ownKey(v as Key);
  }

  /** One of `allowed`. */
  oneOf<T extends string>(v: unknown, allowed: readonly T[], what: string): T {
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) this.fail(`${what} must be one of ${allowed.join(', ')}, got ${describe(v)}`);
    return v as T;
  }

  /** An accumulator, through the aggregate's `restoreAcc` when it has one (its errors are reported here). */
  acc(agg: Aggregate<unknown, unknown, unknown>, v: unknown, what: string): unknown {
    const codec = agg as AccumulatorCodec<unknown>;
    if (codec.restoreAcc === undefined) return v;
    try {
      return codec.restoreAcc(v);
    } catch (e) {
      return this.fail(`${what}: ${aggregateName(agg)} restoreAcc() threw: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** The entries of a list of `[key, …]` tuples, each checked to have at least `min` elements. */
  keyed(v: unknown, what: string, min: number): { key: Key; row: unknown[] }[] {
    const rows = this.array(v, what);
    const out: { key: Key; row: unknown[] }[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = this.array(rows[i], `${what}[${i}]`);
      if (row.length < min) this.fail(`${what}[${i}] must have at least ${min} elements, got ${row.length}`);
      out[i] = { key: this.key(row[0], `${what}[${i}] key`), row };
    }
    return out;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  if (typeof v === 'object') return ArrayBuffer.isView(v) ? 'a typed array' : 'an object';
  return `${typeof v} ${String(v)}`;
}
