/**
 * Safe JSON decoding of untrusted text. `JSON.parse` already creates `__proto__` as an own
 * property (never a prototype change); on top of it this enforces a nesting limit (a document
 * nested a million levels deep would overflow the stack of whatever walks it later), and turns
 * every failure into a reason instead of an exception.
 */
import { DEFAULT_MAX_DEPTH } from './limits.js';
import { type Decoded, rejected } from './result.js';
import { decodeUtf8 } from './utf8.js';

/**
 * The nesting depth of a JSON text is more than `maxDepth`. A linear scan that skips string
 * contents; it does not validate (JSON.parse does).
 */
export function jsonTooDeep(text: string, maxDepth: number): boolean {
  if (text.length <= 2 * maxDepth) return false; // each level takes at least two characters
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) { // '"': skip the string
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) { // '[' '{'
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/**
 * Parses untrusted JSON text: `{ ok: true, value }`, or `{ ok: false, reason }` for invalid JSON
 * or nesting deeper than `maxDepth` (default 256).
 *
 * @example
 * decodeJson('{"__proto__":{"polluted":1}}'); // ok; the key is an own property, Object.prototype untouched
 */
export function decodeJson(text: string, maxDepth: number = DEFAULT_MAX_DEPTH): Decoded<unknown> {
  if (jsonTooDeep(text, maxDepth)) return rejected(`JSON nested deeper than ${maxDepth} levels`);
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return rejected(`invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Decodes UTF-8 bytes (strictly) and parses them as JSON.
 *
 * @example
 * decodeJsonBytes(Buffer.from('{"a":1}')); // { ok: true, value: { a: 1 } }
 */
export function decodeJsonBytes(bytes: Uint8Array, maxDepth: number = DEFAULT_MAX_DEPTH): Decoded<unknown> {
  const text = decodeUtf8(bytes);
  return text.ok ? decodeJson(text.value, maxDepth) : text;
}
