/**
 * The columnar form of a batch that crosses to another worker: timestamps as one Float64Array,
 * keys and values as typed columns — numbers in a Float64Array, booleans in a Uint8Array, strings
 * as one UTF-8 buffer with UTF-16 end offsets, plain objects of one shape as one column per field
 * (nested plain objects too, two levels deep). Anything else stays an array that the transport
 * clones (structured clone). The buffers are listed for transfer, so a batch moves without copies.
 */
import type { Batch } from '../batch.js';
import type { Key } from '../keys.js';

/** One column of a columnar batch. */
export type Column =
  | { readonly t: 'f64'; readonly d: Float64Array }
  | { readonly t: 'bool'; readonly d: Uint8Array }
  | { readonly t: 'str'; readonly d: Uint8Array; readonly ends: Uint32Array }
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
const SURROGATE = /[\uD800-\uDFFF]/;
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
    let j = 0;
    for (const k in v) {
      if (fields[j] !== k) return undefined;
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
  const joined = (values as readonly string[]).join('');
  // Lone surrogates would not survive UTF-8: such columns are cloned instead.
  if (SURROGATE.test(joined)) return undefined;
  const d = encoder.encode(joined);
  transfer.push(d.buffer as ArrayBuffer, ends.buffer);
  return { t: 'str', d, ends };
}

function encodeColumn(values: readonly unknown[], transfer: ArrayBuffer[], depth: number): Column {
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
        cols.push(encodeColumn(col, transfer, depth + 1));
      }
      return { t: 'obj', fields, cols };
    }
  }
  return { t: 'any', d: values };
}

function decodeColumn(c: Column, n: number): unknown[] {
  const out = new Array<unknown>(n);
  switch (c.t) {
    case 'f64': {
      const d = c.d;
      for (let i = 0; i < n; i++) out[i] = d[i];
      return out;
    }
    case 'bool': {
      const d = c.d;
      for (let i = 0; i < n; i++) out[i] = d[i] === 1;
      return out;
    }
    case 'str': {
      const s = decoder.decode(c.d);
      const ends = c.ends;
      let at = 0;
      for (let i = 0; i < n; i++) {
        const end = ends[i] as number;
        out[i] = s.slice(at, end);
        at = end;
      }
      return out;
    }
    case 'obj': {
      const { fields, cols } = c;
      const decoded = cols.map((col) => decodeColumn(col, n));
      for (let i = 0; i < n; i++) {
        const o: Record<string, unknown> = {};
        for (let f = 0; f < fields.length; f++) o[fields[f] as string] = (decoded[f] as unknown[])[i];
        out[i] = o;
      }
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
  const v = n === 0 ? { t: 'any' as const, d: [] } : encodeColumn(values, transfer, 0);
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
  const values = decodeColumn(b.values, n);
  if (b.keys === undefined) return { values, times };
  return { values, times, keys: decodeColumn(b.keys, n) as Key[] };
}
