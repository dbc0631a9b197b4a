/**
 * Versioned event schemas ("schema contracts"): `schema({ name, versions, upcast })` declares
 * every version of an event with any Standard Schema validator (zod, valibot, arktype…), and
 * turns a record of any declared version into the current shape — or into a dead-letter-ready
 * result carrying the validation message.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { PlanError, TidemarkError } from '../../engine/errors.js';

/** Validators by version number (positive integers). */
export type SchemaVersions = { readonly [version: number]: StandardSchemaV1 };

/** The largest numeric key of `K` (up to 64). */
type Largest<K, Acc extends unknown[] = [0], Found = never> = Acc['length'] extends 65
  ? Found
  : Largest<K, [...Acc, 0], Acc['length'] extends K ? Acc['length'] : Found>;

/** The output type of the latest version of `V`. */
export type LatestOutput<V extends SchemaVersions> = [Largest<keyof V>] extends [never]
  ? unknown
  : Largest<keyof V> extends keyof V
    ? V[Largest<keyof V>] extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<V[Largest<keyof V>]> : unknown
    : unknown;

/** Options of {@link schema}. */
export interface SchemaOptions<V extends SchemaVersions> {
  /** The event's name, used in messages (`OrderPlaced`). */
  readonly name: string;
  /** Every version's validator; the largest version is the current shape. */
  readonly versions: V;
  /**
   * Upcasters: `upcast[v]` maps a valid version-`v` value to the next declared version's input.
   * Every version but the latest needs one. Each step's result is validated by the next version.
   */
  readonly upcast?: { readonly [K in keyof V]?: (value: V[K] extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<V[K]> : unknown) => unknown };
  /**
   * Which version a record claims to be (e.g. `(r) => r.v`). Without it, the record is tried
   * against the versions newest first and taken as the first that accepts it.
   */
  readonly versionOf?: (record: unknown) => number | undefined;
}

/** One validation problem: where (a dotted path, '' for the record) and what. */
export interface SchemaIssue {
  readonly path: string;
  readonly message: string;
}

/** What validating a record gives: the current-shape value, or a dead-letter-ready failure. */
export type SchemaResult<T> =
  | { readonly ok: true; readonly value: T; readonly version: number; readonly upcastFrom?: number }
  | { readonly ok: false; readonly reason: string; readonly issues: readonly SchemaIssue[]; readonly version?: number };

/** A versioned event schema built by {@link schema}. */
export interface EventSchema<T> {
  readonly name: string;
  /** The declared versions, ascending. */
  readonly versions: readonly number[];
  /** The current version (the largest). */
  readonly latest: number;
  /** The validator of each version. */
  readonly validators: ReadonlyMap<number, StandardSchemaV1>;
  /**
   * Validates and upcasts synchronously. Throws a {@link SchemaError} if a validator is
   * asynchronous (use `check` or `validateAsync` then).
   */
  validate(record: unknown): SchemaResult<T>;
  /** Validates and upcasts; always a promise. */
  validateAsync(record: unknown): Promise<SchemaResult<T>>;
  /** Validates and upcasts; a promise only when some validator answered with one. */
  check(record: unknown): SchemaResult<T> | Promise<SchemaResult<T>>;
}

/** A record failed its schema (thrown by the function {@link validate} returns), or a validator misbehaved. */
export class SchemaError extends TidemarkError {
  override name = 'SchemaError';
  constructor(message: string, readonly issues: readonly SchemaIssue[] = []) {
    super(message);
  }
}

const MAX_ISSUES = 5;

type Maybe<T> = T | Promise<T>;
const then = <A, B>(x: Maybe<A>, f: (a: A) => Maybe<B>): Maybe<B> => (x instanceof Promise ? x.then(f) : f(x));

function pathOf(path: StandardSchemaV1.Issue['path']): string {
  if (path === undefined) return '';
  return path.map((p) => String(typeof p === 'object' && p !== null ? p.key : p)).join('.');
}

/** Issues as one short line: `total: expected number; items.0.sku: required`. */
export function formatIssues(issues: readonly SchemaIssue[]): string {
  const shown = issues.slice(0, MAX_ISSUES).map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`));
  if (issues.length > MAX_ISSUES) shown.push(`… ${issues.length - MAX_ISSUES} more`);
  return shown.join('; ');
}

/**
 * Declares a versioned event schema. Records of an older version are validated by their version's
 * validator, then upcast step by step (each step validated) to the current shape.
 *
 * @example
 * const orderPlaced = schema({
 *   name: 'OrderPlaced',
 *   versions: { 1: z.object({ v: z.literal(1), amount: z.number() }),
 *               2: z.object({ v: z.literal(2), amount: z.object({ value: z.number(), currency: z.string() }) }) },
 *   upcast: { 1: (o) => ({ v: 2, amount: { value: o.amount, currency: 'EUR' } }) },
 *   versionOf: (r) => (r as { v?: number }).v,
 * });
 * orderPlaced.validate({ v: 1, amount: 5 }); // { ok: true, value: { v: 2, amount: { value: 5, currency: 'EUR' } }, version: 2, upcastFrom: 1 }
 */
export function schema<const V extends SchemaVersions>(options: SchemaOptions<V>): EventSchema<LatestOutput<V>> {
  const where = 'tidemark.schema';
  if (options === null || typeof options !== 'object') throw new PlanError(`${where}: expected options { name, versions }`);
  const { name, versions, upcast = {}, versionOf } = options;
  if (typeof name !== 'string' || name === '') throw new PlanError(`${where}: name must be a non-empty string`);
  const at = `${where}(${name})`;
  if (versions === null || typeof versions !== 'object') throw new PlanError(`${at}: versions must be an object { 1: schemaV1, … }`);
  const validators = new Map<number, StandardSchemaV1>();
  for (const k of Object.keys(versions)) {
    const v = Number(k);
    if (!Number.isSafeInteger(v) || v < 1 || String(v) !== k) throw new PlanError(`${at}: version '${k}' must be a positive integer`);
    const s = (versions as Record<string, unknown>)[k] as StandardSchemaV1 | undefined;
    if (typeof s?.['~standard']?.validate !== 'function') {
      throw new PlanError(`${at}: version ${v} is not a Standard Schema validator (zod, valibot, arktype… — it needs '~standard'.validate)`);
    }
    validators.set(v, s);
  }
  if (validators.size === 0) throw new PlanError(`${at}: declare at least one version`);
  const order = [...validators.keys()].sort((a, b) => a - b);
  const latest = order[order.length - 1] as number;
  const upcasters = new Map<number, (value: unknown) => unknown>();
  for (const k of Object.keys(upcast)) {
    const v = Number(k);
    const fn = (upcast as Record<string, unknown>)[k];
    if (!validators.has(v)) throw new PlanError(`${at}: upcast[${k}] is for a version that is not declared`);
    if (v === latest) throw new PlanError(`${at}: upcast[${k}] is for the latest version; there is nothing to upcast it to`);
    if (typeof fn !== 'function') throw new PlanError(`${at}: upcast[${k}] must be a function`);
    upcasters.set(v, fn as (value: unknown) => unknown);
  }
  for (const v of order) {
    if (v !== latest && !upcasters.has(v)) throw new PlanError(`${at}: version ${v} needs an upcaster (upcast[${v}]) to version ${order[order.indexOf(v) + 1]}`);
  }
  if (versionOf !== undefined && typeof versionOf !== 'function') throw new PlanError(`${at}: versionOf must be a function`);

  type R = SchemaResult<LatestOutput<V>>;
  const fail = (reason: string, issues: readonly SchemaIssue[], version?: number): R =>
    (version === undefined ? { ok: false, reason, issues } : { ok: false, reason, issues, version });

  const run = (v: number, value: unknown): Maybe<StandardSchemaV1.Result<unknown>> => {
    try {
      return (validators.get(v) as StandardSchemaV1)['~standard'].validate(value);
    } catch (e) {
      return { issues: [{ message: `validator threw: ${e instanceof Error ? e.message : String(e)}` }] };
    }
  };
  const issuesOf = (r: StandardSchemaV1.FailureResult): SchemaIssue[] =>
    r.issues.map((i) => ({ path: pathOf(i.path), message: String(i.message) }));

  /** From a valid value of version `v`, upcasts to the latest. */
  const climb = (v: number, value: unknown, from: number): Maybe<R> => {
    if (v === latest) return from === latest ? { ok: true, value: value as LatestOutput<V>, version: latest } : { ok: true, value: value as LatestOutput<V>, version: latest, upcastFrom: from };
    const next = order[order.indexOf(v) + 1] as number;
    let up: unknown;
    try {
      up = (upcasters.get(v) as (x: unknown) => unknown)(value);
    } catch (e) {
      return fail(`${name}: upcast v${v}→v${next} threw: ${e instanceof Error ? e.message : String(e)}`, [], from);
    }
    return then(run(next, up), (r) => {
      if (r.issues) {
        const issues = issuesOf(r);
        return fail(`${name}: upcast v${v}→v${next} produced an invalid v${next}: ${formatIssues(issues)}`, issues, from);
      }
      return climb(next, r.value, from);
    });
  };

  const check = (record: unknown): Maybe<R> => {
    if (versionOf !== undefined) {
      let v: number | undefined;
      try {
        v = versionOf(record);
      } catch (e) {
        return fail(`${name}: versionOf threw: ${e instanceof Error ? e.message : String(e)}`, []);
      }
      if (v === undefined || !validators.has(v)) {
        return fail(`${name}: ${v === undefined ? 'the record names no version' : `version ${String(v)} is not declared`} (declared: ${order.join(', ')})`, []);
      }
      const version = v;
      return then(run(version, record), (r) => {
        if (r.issues) {
          const issues = issuesOf(r);
          return fail(`${name} v${version}: ${formatIssues(issues)}`, issues, version);
        }
        return climb(version, r.value, version);
      });
    }
    // No declared version: newest first, the first version that accepts the record.
    const failures: string[] = [];
    let latestIssues: SchemaIssue[] = [];
    const attempt = (i: number): Maybe<R> => {
      if (i < 0) return fail(`${name}: matches no version (${failures.join(' | ')})`, latestIssues);
      const v = order[i] as number;
      return then(run(v, record), (r) => {
        if (!r.issues) return climb(v, r.value, v);
        const issues = issuesOf(r);
        if (v === latest) latestIssues = issues;
        failures.push(`v${v}: ${formatIssues(issues)}`);
        return attempt(i - 1);
      });
    };
    return attempt(order.length - 1);
  };

  return Object.freeze({
    name,
    versions: Object.freeze(order),
    latest,
    validators,
    check,
    validateAsync: (record: unknown) => Promise.resolve(check(record)),
    validate(record: unknown): R {
      const r = check(record);
      if (r instanceof Promise) {
        r.catch(() => undefined);
        throw new SchemaError(`${at}: a validator is asynchronous; use check() or validateAsync()`);
      }
      return r;
    },
  });
}

/**
 * A function for `map` that returns the record in its current shape or throws a
 * {@link SchemaError} with the validation message — with `onError: 'dead-letter'` invalid
 * records become the operator's dead letters. (For a source, `withSchema` does the same without
 * an operator, with positions.)
 *
 * @example
 * p.source(fromArray(raw), { timestamp: (r) => r.ts })
 *   .map(validate(orderPlaced), { onError: 'dead-letter' });
 */
export function validate<T>(contract: EventSchema<T>): (record: unknown) => T {
  if (contract === null || typeof contract !== 'object' || typeof contract.validate !== 'function') {
    throw new PlanError('tidemark.validate: expected a schema built by schema({ name, versions })');
  }
  return (record) => {
    const r = contract.validate(record);
    if (!r.ok) throw new SchemaError(r.reason, r.issues);
    return r.value;
  };
}
