/**
 * RFC 4180 fields: splitting one CSV record (already cut by the line framer, so quoted newlines
 * are inside it) into fields, and quoting fields for writing. Strict: a quote inside an unquoted
 * field, or text after a closing quote, makes the record malformed (a dead letter), never guessed.
 */

/** The fields of a record, or why it is malformed. */
export type SplitResult = { readonly ok: true; readonly fields: string[] } | { readonly ok: false; readonly reason: string };

/**
 * Splits one record into fields.
 *
 * @example
 * splitCsvRecord('a,"b,""c""",d', ','); // { ok: true, fields: ['a', 'b,"c"', 'd'] }
 */
export function splitCsvRecord(record: string, delimiter: string): SplitResult {
  const fields: string[] = [];
  const n = record.length;
  const d = delimiter.charCodeAt(0);
  let i = 0;
  for (;;) {
    if (record.charCodeAt(i) === 0x22) {
      // quoted field
      let value = '';
      let from = ++i;
      for (;;) {
        const q = record.indexOf('"', i);
        if (q < 0) return { ok: false, reason: `unterminated quoted field ${fields.length + 1}` };
        if (record.charCodeAt(q + 1) === 0x22) {
          value += record.slice(from, q + 1);
          i = from = q + 2;
          continue;
        }
        value += record.slice(from, q);
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i === n) return { ok: true, fields };
      if (record.charCodeAt(i) !== d) return { ok: false, reason: `unexpected text after the closing quote of field ${fields.length}` };
      i++;
    } else {
      let j = record.indexOf(delimiter, i);
      if (j < 0) j = n;
      const value = record.slice(i, j);
      if (value.includes('"')) return { ok: false, reason: `quote inside unquoted field ${fields.length + 1}` };
      fields.push(value);
      if (j === n) return { ok: true, fields };
      i = j + 1;
    }
  }
}

/**
 * A field as written: quoted when it contains the delimiter, a quote, CR or LF, or starts or ends
 * with a space (inner quotes doubled).
 *
 * @example
 * quoteCsvField('say "hi", then go', ','); // '"say ""hi"", then go"'
 */
export function quoteCsvField(value: string, delimiter: string): string {
  if (value.length === 0) return value;
  if (
    value.includes(delimiter) || value.includes('"') || value.includes('\n') || value.includes('\r')
    || value.charCodeAt(0) === 0x20 || value.charCodeAt(value.length - 1) === 0x20
  ) {
    return `"${value.replace(/"/g, '""')}"`;
  }
  return value;
}
