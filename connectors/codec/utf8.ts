/**
 * Strict UTF-8 decoding of untrusted bytes: invalid sequences are an error (a dead letter), never
 * silently replaced with U+FFFD.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { type Decoded, rejected } from './result.js';

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
  if (!isUtf8(bytes)) return rejected('invalid UTF-8');
  return { ok: true, value: (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('utf8') };
}
