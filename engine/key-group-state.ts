/**
 * Operator state by key group: merging the snapshots that several workers took of one operator
 * (each owning disjoint key groups) into one, as if one worker had run every key, and cutting a
 * snapshot down to the keys one worker owns. Both follow the layout the operator's factory
 * declares (`OperatorFactory.keyedState`, see `state-layout.ts`); together they let a checkpoint
 * taken with n workers restore with m. Problems throw a `CheckpointError` naming the operator and
 * the place in its state.
 */
import { CheckpointError } from './errors.js';
import { type Key, KeyMap, keyProblem } from './keys.js';
import type { OperatorFactory } from './operator.js';
import type { StateLayout } from './state-layout.js';

/** Reports a problem at `path` of a snapshot. */
type Fail = (path: string, problem: string) => never;

/**
 * Whether the operator's state is organised by key (or it has none), so it can run on several
 * workers, each with its key groups: its factory declares a keyed layout or `'stateless'`.
 * Undeclared and `'not-keyed'` factories run on a single worker.
 *
 * @example
 * isKeyGroupSplittable(node.factory); // true for windows, process, joins, scan; false for asyncMap
 */
export function isKeyGroupSplittable(factory: OperatorFactory): boolean {
  const d = factory.keyedState;
  return d !== undefined && d !== 'not-keyed';
}

/**
 * Merges the snapshots of one operator taken on several workers that owned disjoint key groups
 * into one snapshot (as if one worker had run them all): keyed rows are concatenated (a key that
 * two parts hold anywhere in their state — in any field or group — is an error), shared parts
 * merge as the layout says (counters: max; watermarks: must agree; broadcast state: taken once).
 * `undefined` parts (a worker without state for the operator) are skipped; errors name parts by
 * their index in `parts`. The parts must be taken at one consistent cut. The result shares no
 * array or object with `parts` (an operator may keep and change what it restores). Throws
 * `CheckpointError` naming the operator when its factory declares no keyed layout and more than
 * one part has state, or when a part does not fit the layout.
 *
 * @example
 * const merged = mergeOperatorSnapshots(factory, 'perUser', workers.map((w) => w.operators['perUser']?.state));
 */
export function mergeOperatorSnapshots(factory: OperatorFactory, name: string, parts: readonly unknown[]): unknown {
  const present: Part[] = [];
  parts.forEach((v, part) => {
    if (v !== undefined) present.push({ v, part });
  });
  const d = factory.keyedState;
  const prefix = `${name}: cannot merge the ${factory.kind} state of ${present.length} worker${present.length === 1 ? '' : 's'}`;
  if (d === undefined || d === 'not-keyed') {
    if (present.length <= 1) return copyData(present[0]?.v);
    throw new CheckpointError(`${prefix}: its state is not organised by key (the operator declares ${d === undefined ? 'no keyed layout' : "'not-keyed'"}), so it runs on a single worker`);
  }
  if (d === 'stateless') {
    if (present.length === 0) return undefined;
    throw new CheckpointError(`${prefix}: the operator declares itself stateless, yet a worker saved state for it`);
  }
  if (present.length === 0) return undefined;
  return mergeAt(d, present, '', { owner: new KeyMap<number>(), fail: failer(prefix) });
}

/**
 * The part of a snapshot that belongs to the keys `owns` accepts: keyed rows of other keys are
 * dropped (and groups left without rows), shared parts (counters, watermarks, broadcast state)
 * kept. The result shares no array or object with `state`. `undefined` state gives `undefined`.
 * Throws `CheckpointError` naming the operator when it is not organised by key (and has state) or
 * `state` does not fit its layout. To cut one snapshot for several workers, use
 * {@link splitOperatorSnapshot} (one pass instead of one per worker).
 *
 * @example
 * const mine = filterOperatorSnapshot(factory, 'perUser', state, (k) => keyGroupOf(k, 128) % workers === worker);
 */
export function filterOperatorSnapshot(factory: OperatorFactory, name: string, state: unknown, owns: (key: Key) => boolean): unknown {
  return splitWith(factory, name, state, 1, (key) => (owns(key) ? 0 : -1))[0];
}

/**
 * Splits a snapshot for `parts` workers in one pass: part `i` holds the keyed rows of the keys
 * for which `partOf(key)` is `i` (an integer in `[0, parts)`) and a copy of every shared part
 * (counters, watermarks, broadcast state); groups left without rows are dropped. The parts share
 * no array or object with `state` or with each other. `undefined` state gives `parts` times
 * `undefined`. Throws `CheckpointError` naming the operator when it is not organised by key (and
 * has state), `state` does not fit its layout, or `partOf` returns something else; `RangeError`
 * naming the function when `parts` is not a positive integer.
 *
 * @example
 * const perWorker = splitOperatorSnapshot(factory, 'perUser', state, 4, (k) => keyGroupOf(k, 128) % 4);
 */
export function splitOperatorSnapshot(factory: OperatorFactory, name: string, state: unknown, parts: number, partOf: (key: Key) => number): unknown[] {
  if (!Number.isInteger(parts) || parts < 1) throw new RangeError(`tidemark.splitOperatorSnapshot: parts must be a positive integer, got ${String(parts)}`);
  return splitWith(factory, name, state, parts, (key) => {
    const p = partOf(key);
    if (!Number.isInteger(p) || p < 0 || p >= parts) throw new CheckpointError(`${name}: cannot split the ${factory.kind} state by key group: partOf returned ${show(p)} for key ${show(key)}; it must be an integer from 0 to ${parts - 1}`);
    return p;
  });
}

/** Splits `state` into `n` parts by `route` (−1: dropped), following the factory's layout. */
function splitWith(factory: OperatorFactory, name: string, state: unknown, n: number, route: (key: Key) => number): unknown[] {
  const d = factory.keyedState;
  const prefix = `${name}: cannot split the ${factory.kind} state by key group`;
  if (state === undefined) return new Array<unknown>(n).fill(undefined);
  if (d === undefined || d === 'not-keyed') {
    throw new CheckpointError(`${prefix}: its state is not organised by key (the operator declares ${d === undefined ? 'no keyed layout' : "'not-keyed'"}); restore it whole on a single worker`);
  }
  if (d === 'stateless') throw new CheckpointError(`${prefix}: the operator declares itself stateless, yet state was saved for it`);
  return splitAt(d, state, n, route, '', failer(prefix));
}

function failer(prefix: string): Fail {
  return (path, problem) => {
    throw new CheckpointError(`${prefix}: ${path === '' ? 'the state' : path} ${problem}`);
  };
}

const field = (path: string, f: string): string => (path === '' ? f : `${path}.${f}`);

// ---- merging ----------------------------------------------------------------------------------

/** One worker's value at some place of the snapshot, with the worker's index in the given parts. */
interface Part {
  readonly v: unknown;
  readonly part: number;
}

/** What one merge threads through the whole snapshot. */
interface Merging {
  /** The part that holds each key seen so far, anywhere in the snapshot. */
  readonly owner: KeyMap<number>;
  readonly fail: Fail;
}

function mergeAt(layout: StateLayout, parts: readonly Part[], path: string, m: Merging): unknown {
  switch (layout) {
    case 'keyed':
      return mergeRows(parts, path, m);
    case 'max':
    case 'min':
      return extreme(layout, parts, path, m.fail);
    case 'same': {
      const first = (parts[0] as Part).v;
      for (let i = 1; i < parts.length; i++) {
        const p = parts[i] as Part;
        if (!sameData(first, p.v)) m.fail(path, `differs between workers (${show(first)} in part ${(parts[0] as Part).part} and ${show(p.v)} in part ${p.part}); the snapshots must be taken at one consistent cut`);
      }
      return copyData(first);
    }
    case 'broadcast':
      return copyData((parts[0] as Part).v);
    default:
      return 'fields' in layout ? mergeFields(layout.fields, parts, path, m) : mergeGroups(layout.groups, parts, path, m);
  }
}

/** Concatenates the parts' lists of `[key, …]` rows (copied), refusing a key that another part holds anywhere. */
function mergeRows(lists: readonly Part[], path: string, m: Merging): unknown[][] {
  const out: unknown[][] = [];
  for (const { v, part } of lists) {
    for (const row of rowsOf(v, path, m.fail)) {
      const key = row[0] as Key;
      const seen = m.owner.get(key);
      if (seen === undefined) m.owner.set(key, part);
      else if (seen !== part) m.fail(path, `holds key ${show(key)} in the state of two workers (parts ${seen} and ${part}; workers must own disjoint key groups)`);
      out.push(copyData(row) as unknown[]);
    }
  }
  return out;
}

function extreme(how: 'max' | 'min', parts: readonly Part[], path: string, fail: Fail): unknown {
  const pick = how === 'max' ? Math.max : Math.min;
  const first = (parts[0] as Part).v;
  if (typeof first === 'number') {
    let m = first;
    for (const p of parts) m = pick(m, numberAt(p.v, path, fail));
    return m;
  }
  if (!Array.isArray(first)) fail(path, `must be a number or an array of numbers, got ${show(first)}`);
  const out = first.map((x, i) => numberAt(x, `${path}[${i}]`, fail));
  for (const { v } of parts) {
    if (!Array.isArray(v) || v.length !== out.length) fail(path, `must be an array of ${out.length} numbers on every worker, got ${show(v)}`);
    for (let i = 0; i < out.length; i++) out[i] = pick(out[i] as number, numberAt(v[i], `${path}[${i}]`, fail));
  }
  return out;
}

function numberAt(v: unknown, path: string, fail: Fail): number {
  if (typeof v !== 'number' || Number.isNaN(v)) fail(path, `must be a number, got ${show(v)}`);
  return v;
}

/** Checks that `v` is a number or an array of numbers (a `'max'` / `'min'` counter). */
function countersAt(v: unknown, path: string, fail: Fail): void {
  if (Array.isArray(v)) v.forEach((x, i) => numberAt(x, `${path}[${i}]`, fail));
  else if (typeof v !== 'number' || Number.isNaN(v)) fail(path, `must be a number or an array of numbers, got ${show(v)}`);
}

function mergeFields(fields: { readonly [field: string]: StateLayout }, parts: readonly Part[], path: string, m: Merging): Record<string, unknown> {
  const objects = parts.map((p) => ({ o: objectAt(p.v, fields, path, m.fail), part: p.part }));
  const out: Record<string, unknown> = {};
  for (const f of Object.keys(fields)) {
    const values = objects.map(({ o, part }) => ({ v: o[f], part }));
    if (values.every((x) => x.v === undefined)) continue;
    out[f] = mergeAt(fields[f] as StateLayout, values, field(path, f), m);
  }
  return out;
}

interface Group {
  readonly header: unknown[];
  readonly lists: Part[];
}

/** Merges lists of groups `[id, …, rows, …]` (rows at `at`) by id; other elements must agree. */
function mergeGroups(at: number, parts: readonly Part[], path: string, m: Merging): unknown[] {
  const byId = new Map<unknown, Group>();
  for (const { v, part } of parts) {
    for (const [i, g] of groupsOf(v, at, path, m.fail).entries()) {
      const known = byId.get(g[0]);
      if (known === undefined) {
        byId.set(g[0], { header: g, lists: [{ v: g[at], part }] });
        continue;
      }
      const n = Math.max(known.header.length, g.length);
      for (let j = 1; j < n; j++) {
        if (j !== at && !sameData(known.header[j], g[j])) {
          m.fail(`${path}[${i}]`, `(group ${show(g[0])} of part ${part}) differs from an earlier part's at element ${j} (${show(known.header[j])} and ${show(g[j])}); the snapshots must be taken at one consistent cut`);
        }
      }
      known.lists.push({ v: g[at], part });
    }
  }
  const groups = [...byId.values()];
  if (groups.every((g) => typeof g.header[0] === 'number')) groups.sort((a, b) => (a.header[0] as number) - (b.header[0] as number));
  return groups.map((g) => {
    const merged = g.header.map((x, j) => (j === at ? undefined : copyData(x)));
    merged[at] = mergeRows(g.lists, `${path} group ${show(g.header[0])}`, m);
    return merged;
  });
}

// ---- splitting --------------------------------------------------------------------------------

/** `state` split into `n` parts by `route` (−1: dropped); every part freshly copied. */
function splitAt(layout: StateLayout, state: unknown, n: number, route: (key: Key) => number, path: string, fail: Fail): unknown[] {
  const outs: unknown[] = new Array<unknown>(n);
  if (layout === 'keyed') {
    const lists = splitRows(rowsOf(state, path, fail), n, route);
    for (let p = 0; p < n; p++) outs[p] = lists[p];
    return outs;
  }
  if (typeof layout === 'string') {
    if (layout === 'max' || layout === 'min') countersAt(state, path, fail);
    for (let p = 0; p < n; p++) outs[p] = copyData(state);
    return outs;
  }
  if ('fields' in layout) {
    const o = objectAt(state, layout.fields, path, fail);
    const objects: Record<string, unknown>[] = [];
    for (let p = 0; p < n; p++) objects.push({});
    for (const f of Object.keys(o)) {
      const parts = splitAt(layout.fields[f] as StateLayout, o[f], n, route, field(path, f), fail);
      for (let p = 0; p < n; p++) (objects[p] as Record<string, unknown>)[f] = parts[p];
    }
    return objects;
  }
  const at = layout.groups;
  const lists: unknown[][] = [];
  for (let p = 0; p < n; p++) lists.push([]);
  groupsOf(state, at, path, fail).forEach((g, i) => {
    const rows = splitRows(rowsOf(g[at], `${path}[${i}][${at}]`, fail), n, route);
    for (let p = 0; p < n; p++) {
      if ((rows[p] as unknown[][]).length === 0) continue;
      const kept = g.map((x, j) => (j === at ? rows[p] : copyData(x)));
      (lists[p] as unknown[]).push(kept);
    }
  });
  return lists;
}

/** The rows (copied) of each of `n` parts. */
function splitRows(rows: readonly unknown[][], n: number, route: (key: Key) => number): unknown[][][] {
  const lists: unknown[][][] = [];
  for (let p = 0; p < n; p++) lists.push([]);
  for (const row of rows) {
    const p = route(row[0] as Key);
    if (p >= 0) (lists[p] as unknown[][]).push(copyData(row) as unknown[]);
  }
  return lists;
}

// ---- shapes -----------------------------------------------------------------------------------

/** A list of `[key, …]` rows, each checked to be an array starting with a valid key. */
function rowsOf(v: unknown, path: string, fail: Fail): unknown[][] {
  if (!Array.isArray(v)) fail(path, `must be a list of [key, …] rows, got ${show(v)}`);
  for (let i = 0; i < v.length; i++) {
    const row: unknown = v[i];
    if (!Array.isArray(row) || row.length === 0) fail(`${path}[${i}]`, `must be a [key, …] row, got ${show(row)}`);
    const problem = keyProblem(row[0]);
    if (problem !== undefined) fail(`${path}[${i}]`, `has an invalid key: ${problem}`);
  }
  return v as unknown[][];
}

/** A list of groups, each an array with its rows at `at`. */
function groupsOf(v: unknown, at: number, path: string, fail: Fail): unknown[][] {
  if (!Array.isArray(v)) fail(path, `must be a list of groups, got ${show(v)}`);
  for (let i = 0; i < v.length; i++) {
    const g: unknown = v[i];
    if (!Array.isArray(g) || g.length <= at) fail(`${path}[${i}]`, `must be a group of at least ${at + 1} elements, got ${show(g)}`);
  }
  return v as unknown[][];
}

/** A plain object whose every field the layout names. */
function objectAt(v: unknown, fields: { readonly [field: string]: StateLayout }, path: string, fail: Fail): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v)) fail(path, `must be an object, got ${show(v)}`);
  for (const f of Object.keys(v)) {
    if (!Object.prototype.hasOwnProperty.call(fields, f)) fail(field(path, f), "is not declared in the operator's keyed layout (OperatorFactory.keyedState)");
  }
  return v as Record<string, unknown>;
}

/** Structural equality of plain snapshot data (NaN equals NaN). */
function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i])) return false;
    return true;
  }
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || a.constructor !== b.constructor || a.byteLength !== b.byteLength) return false;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k) || !sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/**
 * A deep copy of plain snapshot data (arrays, plain objects, typed arrays, maps and sets), so that
 * what a merge or split returns can be restored — and kept and changed — by an operator without
 * touching its input or another part. Other objects are shared.
 */
function copyData(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = copyData(v[i]);
    return out;
  }
  if (ArrayBuffer.isView(v)) {
    if (v instanceof DataView) return new DataView(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
    return (v as unknown as { slice(): unknown }).slice();
  }
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [copyData(k), copyData(x)]));
  if (v instanceof Set) return new Set([...v].map(copyData));
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = copyData((v as Record<string, unknown>)[k]);
  return out;
}

/** A short rendering of a value for messages. */
function show(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) return v.length <= 4 && v.every((x) => x === null || typeof x !== 'object') ? `[${v.map(show).join(', ')}]` : `an array of ${v.length}`;
  if (v === null) return 'null';
  if (typeof v === 'object') return ArrayBuffer.isView(v) ? 'a typed array' : 'an object';
  return String(v);
}
