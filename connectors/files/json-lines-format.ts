/**
 * The JSON-lines format: one JSON document per line (LF or CRLF), UTF-8. Reading is strict
 * (invalid UTF-8, invalid JSON and nesting deeper than `maxDepth` are dead letters); blank lines
 * are skipped and counted. Writing puts each value's `JSON.stringify` on its own line.
 */
import { TidemarkError } from '../../engine/errors.js';
import { decodeJsonBytes } from '../codec/json.js';
import { type DecodeLimits, resolveLimits } from '../codec/limits.js';
import type { Decoded } from '../codec/result.js';
import { type Decoding, type Encoding, isBlank, textPreview } from './format.js';
import { lineFramer } from './line-framer.js';

/** Options of the JSON-lines reader. */
export type JsonLinesReadOptions = DecodeLimits;

/** The reading side of JSON lines (options validated eagerly, errors naming `factory`). */
export function jsonLinesDecoding<T>(factory: string, options: JsonLinesReadOptions): Decoding<T> {
  const { maxRecordBytes, maxDepth } = resolveLimits(factory, options);
  return {
    format: 'json-lines',
    lineBased: true,
    framer: (start) => lineFramer({ maxRecordBytes, start }),
    decoder: () => ({ decode: (bytes) => (isBlank(bytes) ? undefined : (decodeJsonBytes(bytes, maxDepth) as Decoded<T>)) }),
    preview: textPreview,
  };
}

const utf8 = new TextEncoder();

/** The writing side of JSON lines. */
export function jsonLinesEncoding<T>(factory: string): Encoding<T> {
  return {
    format: 'json-lines',
    encode(values) {
      let text = '';
      for (const v of values) {
        let line: string | undefined;
        try {
          line = JSON.stringify(v);
        } catch (e) {
          throw new TidemarkError(`${factory}: cannot encode a value as JSON: ${e instanceof Error ? e.message : String(e)}`);
        }
        if (line === undefined) throw new TidemarkError(`${factory}: cannot encode ${typeof v} as JSON`);
        text += `${line}\n`;
      }
      return utf8.encode(text);
    },
  };
}
