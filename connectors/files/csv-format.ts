/**
 * The CSV format (RFC 4180): an optional header row, typed columns, quoted fields with embedded
 * delimiters, quotes and newlines. Reading: a record that does not split cleanly, has the wrong
 * number of fields, or has a cell that does not fit its column type is a dead letter; a header
 * that cannot be used (malformed, duplicate names, a declared column missing) fails the run.
 * Header names are data: `__proto__` becomes an own property, never a prototype.
 */
import { PlanError, SourceError, TidemarkError } from '../../engine/errors.js';
import { type DecodeLimits, resolveLimits } from '../codec/limits.js';
import { type Decoded, rejected } from '../codec/result.js';
import { setOwn } from '../codec/safe-object.js';
import { decodeUtf8 } from '../codec/utf8.js';
import { CSV_COLUMN_TYPES, type CsvColumnType, formatCell, parseCell } from './csv-columns.js';
import { quoteCsvField, splitCsvRecord } from './csv-fields.js';
import { type Decoding, type Encoding, isBlank, textPreview } from './format.js';
import type { Frame } from './frame.js';
import { lineFramer } from './line-framer.js';

/** Options shared by CSV reading and writing. */
export interface CsvOptions {
  /** The first row holds the column names (default true). */
  readonly header?: boolean;
  /**
   * Column types by name. With a header, listed columns must appear in it and unlisted ones read
   * as strings; without one, the keys give the column order (without `columns` and without a
   * header, records are arrays of strings).
   */
  readonly columns?: Readonly<Record<string, CsvColumnType>>;
  /** Field delimiter, one character (default `,`). */
  readonly delimiter?: string;
}

/** Options of the CSV reader. */
export interface CsvReadOptions extends CsvOptions, DecodeLimits {
  /** What an empty cell in a non-string column becomes: `null`, or a dead letter (default). */
  readonly empty?: 'null' | 'dead-letter';
}

/** Options of the CSV writer: the columns to write, in order (names, or names with types). */
export interface CsvWriteOptions {
  /** Write a header row first (default true; not when appending to a non-empty file). */
  readonly header?: boolean;
  readonly columns: readonly string[] | Readonly<Record<string, CsvColumnType>>;
  readonly delimiter?: string;
}

function delimiterOf(factory: string, d: unknown): string {
  if (d === undefined) return ',';
  if (typeof d !== 'string' || d.length !== 1 || d.charCodeAt(0) > 0x7f || d === '"' || d === '\n' || d === '\r') {
    throw new PlanError(`${factory}: delimiter must be one ASCII character other than a quote or newline, got ${JSON.stringify(d)}`);
  }
  return d;
}

function columnsOf(factory: string, columns: unknown): Map<string, CsvColumnType> | undefined {
  if (columns === undefined) return undefined;
  if (typeof columns !== 'object' || columns === null || Array.isArray(columns)) {
    throw new PlanError(`${factory}: columns must be an object of column name → type`);
  }
  const out = new Map<string, CsvColumnType>();
  for (const [name, type] of Object.entries(columns)) {
    if (!CSV_COLUMN_TYPES.includes(type as CsvColumnType)) {
      throw new PlanError(`${factory}: column '${name}' has type ${JSON.stringify(type)}; expected one of ${CSV_COLUMN_TYPES.join(', ')}`);
    }
    out.set(name, type as CsvColumnType);
  }
  return out;
}

/** The reading side of CSV (options validated eagerly, errors naming `factory`). */
export function csvDecoding<T>(factory: string, options: CsvReadOptions): Decoding<T> {
  const { maxRecordBytes } = resolveLimits(factory, options);
  const delimiter = delimiterOf(factory, options.delimiter);
  const declared = columnsOf(factory, options.columns);
  const header = options.header ?? true;
  if (typeof header !== 'boolean') throw new PlanError(`${factory}: header must be a boolean`);
  const empty = options.empty ?? 'dead-letter';
  if (empty !== 'null' && empty !== 'dead-letter') throw new PlanError(`${factory}: empty must be 'null' or 'dead-letter'`);
  return {
    format: 'csv',
    lineBased: true,
    framer: (start) => lineFramer({ maxRecordBytes, start, csvDelimiter: delimiter.charCodeAt(0) }),
    decoder(where, resumed) {
      // Resuming mid-file from a checkpoint: the header was read by the checkpointed run.
      const saved = (resumed as { header?: unknown } | undefined)?.header;
      const restored = header && Array.isArray(saved) && saved.every((n) => typeof n === 'string') ? [...saved as string[]] : undefined;
      let names: string[] | undefined = restored ?? (header ? undefined : declared !== undefined ? [...declared.keys()] : undefined);
      let types: CsvColumnType[] = names?.map((n) => declared?.get(n) ?? 'string') ?? [];
      let plain = names?.every((n) => n !== '__proto__') ?? true;
      let awaitingHeader = header && restored === undefined;
      const badHeader = (frame: Frame, reason: string): SourceError =>
        new SourceError(`${factory}: unusable header in ${where} at line ${frame.line ?? '?'}: ${reason}`);
      const decode = (bytes: Uint8Array, frame: Frame): Decoded<T> | undefined => {
        if (isBlank(bytes)) return undefined;
        const text = decodeUtf8(bytes);
        if (!text.ok) {
          if (awaitingHeader) throw badHeader(frame, text.reason);
          return text;
        }
        const split = splitCsvRecord(text.value, delimiter);
        if (awaitingHeader) {
          if (!split.ok) throw badHeader(frame, split.reason);
          const seen = new Set<string>();
          for (const n of split.fields) {
            if (seen.has(n)) throw badHeader(frame, `duplicate column '${n}'`);
            seen.add(n);
          }
          for (const n of declared?.keys() ?? []) {
            if (!seen.has(n)) throw badHeader(frame, `column '${n}' is declared but missing`);
          }
          names = split.fields;
          types = names.map((n) => declared?.get(n) ?? 'string');
          plain = names.every((n) => n !== '__proto__');
          awaitingHeader = false;
          return undefined;
        }
        if (!split.ok) return rejected(`malformed CSV: ${split.reason}`);
        const fields = split.fields;
        if (names === undefined) return { ok: true, value: fields as T };
        if (fields.length !== names.length) return rejected(`expected ${names.length} fields, got ${fields.length}`);
        const record: Record<string, unknown> = {};
        for (let i = 0; i < fields.length; i++) {
          const name = names[i] as string;
          const type = types[i] as CsvColumnType;
          const cell = fields[i] as string;
          let value: unknown;
          if (cell === '' && type !== 'string') {
            if (empty === 'dead-letter') return rejected(`column '${name}': empty ${type} cell`);
            value = null;
          } else {
            const r = parseCell(cell, type);
            if (!r.ok) return rejected(`column '${name}': ${r.reason}`);
            value = r.value;
          }
          if (plain) record[name] = value;
          else setOwn(record, name, value);
        }
        return { ok: true, value: record as T };
      };
      return {
        decode,
        unframed(frame) {
          if (awaitingHeader) throw badHeader(frame, frame.error ?? 'unreadable');
        },
        resumeState: () => (header && names !== undefined ? { header: names } : undefined),
      };
    },
    preview: textPreview,
  };
}

const utf8 = new TextEncoder();

/** The writing side of CSV: records are objects read by column name (or arrays, by index). */
export function csvEncoding<T>(factory: string, options: CsvWriteOptions): Encoding<T> {
  const delimiter = delimiterOf(factory, options.delimiter);
  const cols = options.columns;
  let names: string[];
  let types: CsvColumnType[];
  if (Array.isArray(cols)) {
    if (cols.length === 0 || !cols.every((c) => typeof c === 'string')) throw new PlanError(`${factory}: columns must be a non-empty list of names`);
    names = [...cols] as string[];
    types = names.map(() => 'string');
  } else {
    const m = columnsOf(factory, cols);
    if (m === undefined || m.size === 0) throw new PlanError(`${factory}: columns is required (names, or names → types)`);
    names = [...m.keys()];
    types = [...m.values()];
  }
  if (options.header !== undefined && typeof options.header !== 'boolean') throw new PlanError(`${factory}: header must be a boolean`);
  const row = (cells: string[]): string => `${cells.map((c) => quoteCsvField(c, delimiter)).join(delimiter)}\r\n`;
  const enc: Encoding<T> = {
    format: 'csv',
    encode(values) {
      let text = '';
      for (const v of values) {
        if (typeof v !== 'object' || v === null) throw new TidemarkError(`${factory}: cannot write ${v === null ? 'null' : typeof v} as a CSV row (expected an object or array)`);
        const cells = Array.isArray(v)
          ? names.map((_, i) => formatCell(v[i], types[i] as CsvColumnType))
          : names.map((n, i) => formatCell(Object.hasOwn(v, n) ? (v as Record<string, unknown>)[n] : undefined, types[i] as CsvColumnType));
        text += row(cells);
      }
      return utf8.encode(text);
    },
  };
  if (options.header ?? true) return { ...enc, header: () => utf8.encode(row(names)) };
  return enc;
}
