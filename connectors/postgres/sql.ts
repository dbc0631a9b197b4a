/**
 * SQL text for the PostgreSQL sink: safely quoted identifiers, checked column types, the
 * canonical text of a window key, JSON with exact bigints, and epoch-ms bounds as bigint.
 */
import { Buffer } from 'node:buffer';
import { PlanError } from '../../engine/errors.js';
import type { Key } from '../../engine/keys.js';

/** A table, optionally schema-qualified. */
export type TableName = string | { readonly schema?: string; readonly name: string };

/** Double-quotes an identifier (embedded quotes doubled); rejects empty, NUL and over-long names. */
export function quoteIdent(name: string, where: string, what: string): string {
  if (typeof name !== 'string' || name === '') throw new PlanError(`${where}: ${what} must be a non-empty string`);
  if (name.includes('\0')) throw new PlanError(`${where}: ${what} must not contain NUL`);
  if (Buffer.byteLength(name) > 63) throw new PlanError(`${where}: ${what} '${name}' is longer than PostgreSQL's 63-byte identifier limit`);
  return `"${name.replace(/"/g, '""')}"`;
}

/** The quoted, possibly schema-qualified table name. A string is one identifier (no dot splitting). */
export function quoteTable(table: TableName, where: string): string {
  if (typeof table === 'string') {
    if (table.includes('.')) throw new PlanError(`${where}: table '${table}' contains a dot; for a schema-qualified table pass { schema, name }`);
    return quoteIdent(table, where, 'table');
  }
  if (table === null || typeof table !== 'object') throw new PlanError(`${where}: table must be a name or { schema, name }`);
  const name = quoteIdent(table.name, where, 'table name');
  return table.schema === undefined ? name : `${quoteIdent(table.schema, where, 'table schema')}.${name}`;
}

const TYPE = /^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?(\s*\[\])?$/;

/** Checks a column's SQL type (`numeric(12,2)`, `double precision`, `text[]`…): letters, digits, spaces, a size, `[]`. */
export function checkType(type: string, column: string, where: string): string {
  if (typeof type !== 'string' || !TYPE.test(type.trim())) {
    throw new PlanError(`${where}: column '${column}' has an unsupported type ${JSON.stringify(type)} (expected e.g. 'bigint', 'numeric(12,2)', 'double precision', 'text[]')`);
  }
  return type.trim();
}

function primitiveText(k: unknown): string {
  if (typeof k === 'number') return Object.is(k, -0) ? '0' : String(k);
  return String(k);
}

/**
 * The canonical text of a window key, stored in the `key` column: a string as it is, a number,
 * bigint or boolean as its decimal / `true` / `false` text (bigints exact), an array as JSON with
 * exact bigint digits (`["u1",3,12345678901234567890]`). Keys of different types with the same
 * text (`1`, `'1'`, `1n`) share a row.
 *
 * @example
 * keyText(['u1', 2n ** 70n]); // '["u1",1180591620717411303424]'
 */
export function keyText(key: Key): string {
  if (!Array.isArray(key)) return primitiveText(key);
  const parts = (key as readonly unknown[]).map((k) => {
    if (typeof k === 'string') return JSON.stringify(k);
    if (typeof k === 'number' && !Number.isFinite(k)) return JSON.stringify(String(k));
    return primitiveText(k);
  });
  return `[${parts.join(',')}]`;
}

/**
 * JSON text for a `jsonb` column: like `JSON.stringify`, but bigints are written as exact
 * numbers (jsonb numbers are arbitrary-precision) instead of throwing. Returns `undefined` for
 * `undefined`. Cycles throw.
 */
export function toJson(value: unknown): string | undefined {
  const stack = new Set<object>();
  const write = (v: unknown, inArray: boolean): string | undefined => {
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      v = (v as { toJSON: () => unknown }).toJSON();
    }
    switch (typeof v) {
      case 'bigint':
        return v.toString();
      case 'number':
        return Number.isFinite(v) ? JSON.stringify(v) : 'null';
      case 'string':
      case 'boolean':
        return JSON.stringify(v);
      case 'undefined':
      case 'function':
      case 'symbol':
        return inArray ? 'null' : undefined;
      default:
        break;
    }
    if (v === null) return 'null';
    const obj = v as object;
    if (stack.has(obj)) throw new TypeError('cannot store a value with a cycle as JSON');
    stack.add(obj);
    let out: string;
    if (Array.isArray(obj)) {
      out = `[${obj.map((x) => write(x, true) as string).join(',')}]`;
    } else {
      const parts: string[] = [];
      for (const k of Object.keys(obj)) {
        const s = write((obj as Record<string, unknown>)[k], false);
        if (s !== undefined) parts.push(`${JSON.stringify(k)}:${s}`);
      }
      out = `{${parts.join(',')}}`;
    }
    stack.delete(obj);
    return out;
  };
  return write(value, false);
}

/** `bigint` column text of a window bound: epoch ms, with the global window's ±∞ as the bigint extremes. */
export function boundText(ms: number): string {
  if (ms === Infinity) return '9223372036854775807';
  if (ms === -Infinity) return '-9223372036854775808';
  return String(ms);
}
