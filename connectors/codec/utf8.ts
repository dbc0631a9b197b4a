/**
 * Strict UTF-8 decoding of untrusted bytes: invalid sequences are an error (a dead letter), never
 * silently replaced with U+FFFD.
 */
import { type Decoded, rejected } from './result.js';

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes `bytes` as UTF-8, or rejects them as invalid.
 *
 * @example
 * decodeUtf8(new Uint8Array([0xff])); // { ok: false, reason: 'invalid UTF-8' }
 */
export function decodeUtf8(bytes: Uint8Array): Decoded<string> {
  // ASCII fast path: no multi-byte sequences, nothing to validate.
  let ascii = bytes.length < 64;
  if (ascii) {
    for (let i = 0; i < bytes.length; i++) {
      if ((bytes[i] as number) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return { ok: true, value: String.fromCharCode.apply(null, bytes as unknown as number[]) };
  }
  try {
    return { ok: true, value: strict.decode(bytes) };
  } catch {
    return rejected('invalid UTF-8');
  }
}
