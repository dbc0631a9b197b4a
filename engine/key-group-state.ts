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
 * into one snapshot (as if one worker had run them all): keyed rows are concatenated (a key in
 * two parts is an error), shared parts merge as the layout says (counters: max; watermarks: must
 * agree; broadcast state: taken once). `undefined` parts (a worker without state for the operator)
 * are skipped. The parts must be taken at one consistent cut. Throws `CheckpointError` naming the
 * operator when its factory declares no keyed layout and more than one part has state, or when a
 * part does not fit the layout.
 *
 * @example
 * const merged = mergeOperatorSnapshots(factory, 'perUser', workers.map((w) => w.operators['perUser']?.state));
 */
export function mergeOperatorSnapshots(factory: OperatorFactory, name: string, parts: readonly unknown[]): unknown {
  const present = parts.filter((p) => p !== undefined);
  const d = factory.keyedState;
  const prefix = `${name}: cannot merge the ${factory.kind} state of ${present.length} worker${present.length === 1 ? '' : 's'}`;
  if (d === undefined || d === 'not-keyed') {
    if (present.length <= 1) return present[0];
    throw new CheckpointError(`${prefix}: its state is not organised by key (the operator declares ${d === undefined ? 'no keyed layout' : "'not-keyed'"}), so it runs on a single worker`);
  }
  if (d === 'stateless') {
    if (present.length === 0) return undefined;
    throw new CheckpointError(`${prefix}: the operator declares itself stateless, yet a worker saved state for it`);
  }
  if (present.length === 0) return undefined;
  return mergeAt(d, present, '', failer(prefix));
}

/**
 * The part of a snapshot that belongs to the keys `owns` accepts: keyed rows of other keys are
 * dropped (and groups left without rows), shared parts (counters, watermarks, broadcast state)
 * kept as they are. The result shares unchanged parts with `state`. Throws `CheckpointError` naming the
 * operator when it is not organised by key or `state` does not fit its layout.
 *
 * @example
 * const mine = filterOperatorSnapshot(factory, 'perUser', state, (k) => keyGroupOf(k, 128) % workers === worker);
 */
export function filterOperatorSnapshot(factory: OperatorFactory, name: string, state: unknown, owns: (key: Key) => boolean): unknown {
  const d = factory.keyedState;
  const prefix = `${name}: cannot split the ${factory.kind} state by key group`;
  if (d === undefined || d === 'not-keyed') {
    throw new CheckpointError(`${prefix}: its state is not organised by key (the operator declares ${d === undefined ? 'no keyed layout' : "'not-keyed'"}); restore it whole on a single worker`);
  }
  if (state === undefined) return undefined;
  if (d === 'stateless') throw new CheckpointError(`${prefix}: the operator declares itself stateless, yet state was saved for it`);
  return filterAt(d, state, owns, '', failer(prefix));
}

function failer(prefix: string): Fail {
  return (path, problem) => {
    throw new CheckpointError(`${prefix}: ${path === '' ? 'the state' : path} ${problem}`);
  };
}

const field = (path: string, f: string): string => (path === '' ? f : `${path}.${f}`);

// ---- merging ----------------------------------------------------------------------------------

function mergeAt(layout: StateLayout, parts: readonly unknown[], path: string, fail: Fail): unknown {
  switch (layout) {
    case 'keyed':
      return mergeRows(parts.map((list, part) => ({ list, part })), path, fail);
    case 'max':
    case 'min':
      return extreme(layout, parts, path, fail);
    case 'same': {
      const first = parts[0];
      for (let i = 1; i < parts.length; i++) {
        if (!sameData(first, parts[i])) fail(path, `differs between workers (${show(first)} and ${show(parts[i])}); the snapshots must be taken at one consistent cut`);
      }
      return first;
    }
    case 'broadcast':
      return parts[0];
    default:
      return 'fields' in layout ? mergeFields(layout.fields, parts, path, fail) : mergeGroups(layout.groups, parts, path, fail);
  }
}

/** Concatenates the parts' lists of `[key, …]` rows, refusing a key that two parts hold. */
function mergeRows(lists: readonly { readonly list: unknown; readonly part: number }[], path: string, fail: Fail): unknown[][] {
  const owner = new KeyMap<number>();
  const out: unknown[][] = [];
  for (const { list, part } of lists) {
    for (const row of rowsOf(list, path, fail)) {
      const key = row[0] as Key;
      const seen = owner.get(key);
      if (seen === undefined) owner.set(key, part);
      else if (seen !== part) fail(path, `holds key ${show(key)} in the state of two workers (parts ${seen} and ${part}; workers must own disjoint key groups)`);
      out.push(row);
    }
  }
  return out;
}

function extreme(how: 'max' | 'min', parts: readonly unknown[], path: string, fail: Fail): unknown {
  const pick = how === 'max' ? Math.max : Math.min;
  const first = parts[0];
  if (typeof first === 'number') {
    let m = first;
    for (const p of parts) m = pick(m, numberAt(p, path, fail));
    return m;
  }
  if (!Array.isArray(first)) fail(path, `must be a number or an array of numbers, got ${show(first)}`);
  const out = first.map((x, i) => numberAt(x, `${path}[${i}]`, fail));
  for (const p of parts) {
    if (!Array.isArray(p) || p.length !== out.length) fail(path, `must be an array of ${out.length} numbers on every worker, got ${show(p)}`);
    for (let i = 0; i < out.length; i++) out[i] = pick(out[i] as number, numberAt(p[i], `${path}[${i}]`, fail));
  }
  return out;
}

function numberAt(v: unknown, path: string, fail: Fail): number {
  if (typeof v !== 'number' || Number.isNaN(v)) fail(path, `must be a number, got ${show(v)}`);
  return v;
}

function mergeFields(fields: { readonly [field: string]: StateLayout }, parts: readonly unknown[], path: string, fail: Fail): Record<string, unknown> {
  const objects = parts.map((p) => objectAt(p, fields, path, fail));
  const out: Record<string, unknown> = {};
  for (const f of Object.keys(fields)) {
    const values = objects.map((o) => o[f]);
    if (values.every((v) => v === undefined)) continue;
    out[f] = mergeAt(fields[f] as StateLayout, values, field(path, f), fail);
  }
  return out;
}

interface Group {
  readonly header: unknown[];
  readonly lists: { list: unknown; part: number }[];
}

/** Merges lists of groups `[id, …, rows, …]` (rows at `at`) by id; other elements must agree. */
function mergeGroups(at: number, parts: readonly unknown[], path: string, fail: Fail): unknown[] {
  const byId = new Map<unknown, Group>();
  for (const [p, part] of parts.entries()) {
    for (const [i, g] of groupsOf(part, at, path, fail).entries()) {
      const known = byId.get(g[0]);
      if (known === undefined) {
        byId.set(g[0], { header: g, lists: [{ list: g[at], part: p }] });
        continue;
      }
      const n = Math.max(known.header.length, g.length);
      for (let j = 1; j < n; j++) {
        if (j !== at && !sameData(known.header[j], g[j])) {
          fail(`${path}[${i}]`, `(group ${show(g[0])} of part ${p}) differs from an earlier part's at element ${j} (${show(known.header[j])} and ${show(g[j])}); the snapshots must be taken at one consistent cut`);
        }
      }
      known.lists.push({ list: g[at], part: p });
    }
  }
  const groups = [...byId.values()];
  if (groups.every((g) => typeof g.header[0] === 'number')) groups.sort((a, b) => (a.header[0] as number) - (b.header[0] as number));
  return groups.map((g) => {
    const merged = g.header.slice();
    merged[at] = mergeRows(g.lists, `${path} group ${show(g.header[0])}`, fail);
    return merged;
  });
}

// ---- splitting --------------------------------------------------------------------------------

function filterAt(layout: StateLayout, state: unknown, owns: (key: Key) => boolean, path: string, fail: Fail): unknown {
  if (layout === 'keyed') return rowsOf(state, path, fail).filter((row) => owns(row[0] as Key));
  if (typeof layout === 'string') return state;
  if ('fields' in layout) {
    const o = objectAt(state, layout.fields, path, fail);
    const out: Record<string, unknown> = {};
    for (const f of Object.keys(o)) out[f] = filterAt(layout.fields[f] as StateLayout, o[f], owns, field(path, f), fail);
    return out;
  }
  const at = layout.groups;
  const out: unknown[] = [];
  groupsOf(state, at, path, fail).forEach((g, i) => {
    const rows = rowsOf(g[at], `${path}[${i}][${at}]`, fail).filter((row) => owns(row[0] as Key));
    if (rows.length === 0) return;
    const kept = g.slice();
    kept[at] = rows;
    out.push(kept);
  });
  return out;
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

/** A short rendering of a value for messages. */
function show(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) return v.length <= 4 && v.every((x) => x === null || typeof x !== 'object') ? `[${v.map(show).join(', ')}]` : `an array of ${v.length}`;
  if (v === null) return 'null';
  if (typeof v === 'object') return ArrayBuffer.isView(v) ? 'a typed array' : 'an object';
  return String(v);
}
