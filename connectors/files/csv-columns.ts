/**
 * Typed CSV columns: converting a cell's text to its declared type when reading (a cell that does
 * not fit makes the record a dead letter, with the column named), and a value back to text when
 * writing. Timestamps are epoch milliseconds in records, ISO-8601 (with a zone) or integer
 * milliseconds in files.
 */

/** The types a CSV column can declare. */
export type CsvColumnType = 'string' | 'number' | 'integer' | 'boolean' | 'timestamp';

/** All column types (for validation). */
export const CSV_COLUMN_TYPES: readonly CsvColumnType[] = ['string', 'number', 'integer', 'boolean', 'timestamp'];

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const INTEGER = /^[-+]?\d+$/;
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|z|[+-]\d{2}:?\d{2}))?$/;
const ISO_LOCAL = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;

/** A converted cell, or why it does not fit its column. */
export type CellResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: string };

const bad = (type: string, cell: string): CellResult => ({ ok: false, reason: `expected ${type}, got ${JSON.stringify(cell.length > 40 ? `${cell.slice(0, 40)}…` : cell)}` });

/**
 * Converts one cell's text to `type`.
 *
 * @example
 * parseCell('2024-01-01T00:00:00Z', 'timestamp'); // { ok: true, value: 1704067200000 }
 */
export function parseCell(cell: string, type: CsvColumnType): CellResult {
  switch (type) {
    case 'string':
      return { ok: true, value: cell };
    case 'number': {
      const t = cell.trim();
      const v = NUMBER.test(t) ? Number(t) : NaN;
      return Number.isFinite(v) ? { ok: true, value: v } : bad('a finite number', cell);
    }
    case 'integer': {
      const t = cell.trim();
      const v = INTEGER.test(t) ? Number(t) : NaN;
      return Number.isSafeInteger(v) ? { ok: true, value: v } : bad('a safe integer', cell);
    }
    case 'boolean': {
      const t = cell.trim().toLowerCase();
      if (t === 'true' || t === '1') return { ok: true, value: true };
      if (t === 'false' || t === '0') return { ok: true, value: false };
      return bad('a boolean (true/false/1/0)', cell);
    }
    case 'timestamp': {
      const t = cell.trim();
      if (INTEGER.test(t)) {
        const v = Number(t);
        return Number.isSafeInteger(v) && Math.abs(v) <= 8.64e15 ? { ok: true, value: v } : bad('a timestamp', cell);
      }
      if (!ISO.test(t)) {
        return ISO_LOCAL.test(t)
          ? { ok: false, reason: `timestamp ${JSON.stringify(t)} has no time zone (add Z or an offset)` }
          : bad('an ISO-8601 timestamp or epoch milliseconds', cell);
      }
      const v = Date.parse(t.replace(' ', 'T'));
      return Number.isFinite(v) ? { ok: true, value: v } : bad('a valid timestamp', cell);
    }
  }
}

/**
 * Renders a value as cell text (before quoting): null/undefined → empty; a `timestamp` column's
 * number or Date → ISO-8601; other objects → JSON.
 *
 * @example
 * formatCell(1704067200000, 'timestamp'); // '2024-01-01T00:00:00.000Z'
 */
export function formatCell(value: unknown, type: CsvColumnType): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (type === 'timestamp' && typeof value === 'number') return new Date(value).toISOString();
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}
