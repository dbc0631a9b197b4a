/**
 * The columnar form of a batch that crosses to another worker: timestamps as one Float64Array,
 * keys and values as typed columns — numbers in a Float64Array, booleans in a Uint8Array, strings
 * of ASCII as one byte buffer with end offsets, plain objects of one shape as one column per field
 * (nested plain objects too, two levels deep; a field that is the record's key or its timestamp is
 * not sent twice).
 * Anything else stays an array that the transport clones (structured clone: non-ASCII strings
 * too, which it copies faithfully). The buffers are listed for transfer, so a batch moves without
 * copies. Decoded strings are flat copies, never slices that would keep a whole buffer alive.
 */
import type { Batch } from '../batch.js';
import type { Key } from '../keys.js';

/** One column of a columnar batch. */
export type Column =
  | { readonly t: 'f64'; readonly d: Float64Array }
  | { readonly t: 'bool'; readonly d: Uint8Array }
  | { readonly t: 'str'; readonly d: Uint8Array; readonly ends: Uint32Array }
  /** A field equal to the record's key in every record: decoded from the key column. */
  | { readonly t: 'key' }
  /** A field equal to the record's timestamp in every record: decoded from the times. */
  | { readonly t: 'time' }
  | { readonly t: 'obj'; readonly fields: readonly string[]; readonly cols: readonly Column[] }
  | { readonly t: 'any'; readonly d: readonly unknown[] };

/** A batch in columnar form. */
export interface ColumnarBatch {
  readonly n: number;
  readonly times: Float64Array;
  readonly values: Column;
  readonly keys?: Column;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Nested plain objects deeper than this are cloned as a whole. */
const MAX_DEPTH = 2;

function isPlain(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The field names of `values[0]` when every value is a plain object with exactly those fields, in order. */
function shapeOf(values: readonly unknown[]): string[] | undefined {
  const first = values[0];
  if (!isPlain(first)) return undefined;
  const fields = Object.keys(first);
  if (fields.length === 0) return undefined;
  for (let i = 1; i < values.length; i++) {
    const v = values[i];
    if (!isPlain(v)) return undefined;
    // for-in over objects of one hidden class walks V8's enum cache and allocates nothing
    // (Object.keys allocates an array per record). An enumerable property inherited from
    // Object.prototype would only make the shapes differ: then the batch is cloned.
    let j = 0;
    for (const f in v) {
      if (f !== fields[j]) return undefined;
      j++;
    }
    if (j !== fields.length) return undefined;
  }
  return fields;
}

function encodeStrings(values: readonly unknown[], transfer: ArrayBuffer[]): Column | undefined {
  const n = values.length;
  const ends = new Uint32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== 'string') return undefined;
    total += v.length;
    ends[i] = total;
  }
  const d = encoder.encode((values as readonly string[]).join(''));
  // Only ASCII (one byte per UTF-16 unit): offsets then index bytes and characters alike.
  if (d.length !== total) return undefined;
  transfer.push(d.buffer as ArrayBuffer, ends.buffer);
  return { t: 'str', d, ends };
}

/** True when `col[i]` is `same[i]` for every record (−0 and 0 told apart). */
function isSameColumn(col: readonly unknown[], same: readonly unknown[] | undefined): boolean {
  if (same === undefined || typeof same[0] === 'object') return false;
  for (let i = 0; i < col.length; i++) {
    const c = col[i];
    if (c !== same[i] || (c === 0 && 1 / c !== 1 / (same[i] as number))) return false;
  }
  return true;
}

function encodeColumn(values: readonly unknown[], transfer: ArrayBuffer[], depth: number, keys?: readonly Key[], times?: readonly number[]): Column {
  const n = values.length;
  const first = values[0];
  if (typeof first === 'number') {
    const d = new Float64Array(n);
    let ok = true;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v !== 'number') {
        ok = false;
        break;
      }
      d[i] = v;
    }
    if (ok) {
      transfer.push(d.buffer);
      return { t: 'f64', d };
    }
  } else if (typeof first === 'string') {
    const c = encodeStrings(values, transfer);
    if (c !== undefined) return c;
  } else if (typeof first === 'boolean') {
    const d = new Uint8Array(n);
    let ok = true;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v !== 'boolean') {
        ok = false;
        break;
      }
      d[i] = v ? 1 : 0;
    }
    if (ok) {
      transfer.push(d.buffer);
      return { t: 'bool', d };
    }
  } else if (depth < MAX_DEPTH) {
    const fields = shapeOf(values);
    if (fields !== undefined) {
      const cols: Column[] = [];
      for (const f of fields) {
        const col = new Array<unknown>(n);
        for (let i = 0; i < n; i++) col[i] = (values[i] as Record<string, unknown>)[f];
        cols.push(depth !== 0
          ? encodeColumn(col, transfer, depth + 1)
          : isSameColumn(col, keys) ? { t: 'key' } : isSameColumn(col, times) ? { t: 'time' } : encodeColumn(col, transfer, 1));
      }
      return { t: 'obj', fields, cols };
    }
  }
  return { t: 'any', d: values };
}

type Cols = readonly (readonly unknown[])[];
type Fields = readonly string[];

/*
 * The decoded objects of one shape are built without generating code (edge runtimes forbid it,
 * and field names come from data): up to six fields, by one object literal with computed keys in
 * the shape's order — one allocation and a cached hidden-class walk per object; a computed
 * `__proto__` key defines an own data property, as it was on the sender. Wider shapes: property
 * stores into `{}` in field order (`__proto__` by `Object.defineProperty`).
 */

function build1(f: Fields, c: Cols, out: unknown[], n: number): void {
  const [f0] = f as [string];
  const [c0] = c as [unknown[]];
  for (let i = 0; i < n; i++) out[i] = { [f0]: c0[i] };
}

function build2(f: Fields, c: Cols, out: unknown[], n: number): void {
  const [f0, f1] = f as [string, string];
  const [c0, c1] = c as [unknown[], unknown[]];
  for (let i = 0; i < n; i++) out[i] = { [f0]: c0[i], [f1]: c1[i] };
}

function build3(f: Fields, c: Cols, out: unknown[], n: number): void {
  const [f0, f1, f2] = f as [string, string, string];
  const [c0, c1, c2] = c as [unknown[], unknown[], unknown[]];
  for (let i = 0; i < n; i++) out[i] = { [f0]: c0[i], [f1]: c1[i], [f2]: c2[i] };
}

function build4(f: Fields, c: Cols, out: unknown[], n: number): void {
  const [f0, f1, f2, f3] = f as [string, string, string, string];
  const [c0, c1, c2, c3] = c as [unknown[], unknown[], unknown[], unknown[]];
  for (let i = 0; i < n; i++) out[i] = { [f0]: c0[i], [f1]: c1[i], [f2]: c2[i], [f3]: c3[i] };
}

function build5(f: Fields, c: Cols, out: unknown[], n: number): void {
  const [f0, f1, f2, f3, f4] = f as [string, string, string, string, string];
  const [c0, c1, c2, c3, c4] = c as [unknown[], unknown[], unknown[], unknown[], unknown[]];
  for (let i = 0; i < n; i++) out[i] = { [f0]: c0[i], [f1]: c1[i], [f2]: c2[i], [f3]: c3[i], [f4]: c4[i] };
}

function build6(f: Fields, c: Cols, out: unknown[], n: number): void {
  const [f0, f1, f2, f3, f4, f5] = f as [string, string, string, string, string, string];
  const [c0, c1, c2, c3, c4, c5] = c as [unknown[], unknown[], unknown[], unknown[], unknown[], unknown[]];
  for (let i = 0; i < n; i++) out[i] = { [f0]: c0[i], [f1]: c1[i], [f2]: c2[i], [f3]: c3[i], [f4]: c4[i], [f5]: c5[i] };
}

function buildWide(f: Fields, c: Cols, out: unknown[], n: number): void {
  const m = f.length;
  const proto = f.includes('__proto__');
  for (let i = 0; i < n; i++) {
    const o: Record<string, unknown> = {};
    for (let j = 0; j < m; j++) {
      const name = f[j] as string;
      const v = (c[j] as readonly unknown[])[i];
      if (proto && name === '__proto__') Object.defineProperty(o, name, { value: v, enumerable: true, writable: true, configurable: true });
      else o[name] = v;
    }
    out[i] = o;
  }
}

const builders = [build1, build1, build2, build3, build4, build5, build6];

/**
 * The field names as internalized strings: names that arrived by structured clone are fresh
 * strings, and each use of one as a property key would look it up in the string table again.
 * An object's own keys are internalized (a computed `__proto__` key is an own key too).
 */
function internalized(fields: Fields): string[] {
  const names = new Array<string>(fields.length);
  for (let j = 0; j < fields.length; j++) names[j] = Object.keys({ [fields[j] as string]: 0 })[0] as string;
  return names;
}

/** Strings shorter than this are copied by `slice`; longer ones are decoded on their own (flat). */
const SLICE_COPIES_BELOW = 13;

function decodeColumn(c: Column, n: number, keys: readonly unknown[] | undefined, times: readonly number[]): unknown[] {
  switch (c.t) {
    case 'f64': {
      const out = new Array<unknown>(n);
      const d = c.d;
      for (let i = 0; i < n; i++) out[i] = d[i];
      return out;
    }
    case 'bool': {
      const out = new Array<unknown>(n);
      const d = c.d;
      for (let i = 0; i < n; i++) out[i] = d[i] === 1;
      return out;
    }
    case 'str': {
      const out = new Array<unknown>(n);
      const { d, ends } = c;
      const s = decoder.decode(d);
      let at = 0;
      for (let i = 0; i < n; i++) {
        const end = ends[i] as number;
        out[i] = end - at < SLICE_COPIES_BELOW ? s.slice(at, end) : decoder.decode(d.subarray(at, end));
        at = end;
      }
      return out;
    }
    case 'key':
      return keys as unknown[];
    case 'time':
      return times as unknown[];
    case 'obj': {
      const out = new Array<unknown>(n);
      const decoded = c.cols.map((col) => decodeColumn(col, n, keys, times));
      (builders[c.fields.length] ?? buildWide)(internalized(c.fields), decoded, out, n);
      return out;
    }
    case 'any':
      return c.d as unknown[];
  }
}

/**
 * Encodes a batch (its arrays are only read); the buffers to transfer are pushed to `transfer`.
 *
 * @example
 * const transfer: ArrayBuffer[] = [];
 * port.postMessage(encodeBatch(batch.values, batch.times, batch.keys, transfer), transfer);
 */
export function encodeBatch(values: readonly unknown[], times: readonly number[], keys: readonly Key[] | undefined, transfer: ArrayBuffer[]): ColumnarBatch {
  const n = values.length;
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = times[i] as number;
  transfer.push(t.buffer);
  const v = n === 0 ? { t: 'any' as const, d: [] } : encodeColumn(values, transfer, 0, keys, times);
  if (keys === undefined) return { n, times: t, values: v };
  return { n, times: t, values: v, keys: encodeColumn(keys, transfer, MAX_DEPTH) };
}

/**
 * Decodes what `encodeBatch` produced (after the transport moved it) back into a batch.
 *
 * @example
 * receiver.receiveBatch(decodeBatch(message.batch), input);
 */
export function decodeBatch(b: ColumnarBatch): Batch {
  const n = b.n;
  const times = new Array<number>(n);
  const t = b.times;
  for (let i = 0; i < n; i++) times[i] = t[i] as number;
  if (b.keys === undefined) return { values: decodeColumn(b.values, n, undefined, times), times };
  const keys = decodeColumn(b.keys, n, undefined, times) as Key[];
  return { values: decodeColumn(b.values, n, keys, times), times, keys };
}
