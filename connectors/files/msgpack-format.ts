/**
 * The msgpack file format: concatenated MessagePack values, one record each, with no framing of
 * their own (the standard "msgpack stream", as written by msgpackr's `PackrStream` or by
 * appending `pack(value)` results). Each value's extent is found by walking its headers, so an
 * oversized value is skipped to its end; an invalid or truncated one cannot be skipped reliably,
 * so the rest of the file becomes one dead letter.
 */
import { PlanError, TidemarkError } from '../../engine/errors.js';
import { type DecodeLimits, resolveLimits } from '../codec/limits.js';
import { decodeMsgpack } from '../codec/msgpack-decode.js';
import { encodeMsgpack } from '../codec/msgpack-encode.js';
import type { Decoded } from '../codec/result.js';
import { type Decoding, type Encoding, binaryPreview } from './format.js';
import { msgpackFramer } from './msgpack-framer.js';

/** Options of the msgpack reader. */
export interface MsgpackReadOptions extends DecodeLimits {
  /** Decode the standard timestamp extension (-1) to `Date` (default true); no other extension is ever decoded. */
  readonly timestamps?: boolean;
}

/** The reading side of msgpack (options validated eagerly, errors naming `factory`). */
export function msgpackDecoding<T>(factory: string, options: MsgpackReadOptions): Decoding<T> {
  const { maxRecordBytes, maxDepth } = resolveLimits(factory, options);
  const timestamps = options.timestamps ?? true;
  if (typeof timestamps !== 'boolean') throw new PlanError(`${factory}: timestamps must be a boolean`);
  return {
    format: 'msgpack',
    lineBased: false,
    framer: (start) => msgpackFramer({ maxRecordBytes, start }),
    decoder: () => ({ decode: (bytes) => decodeMsgpack(bytes, { maxDepth, timestamps }) as Decoded<T> }),
    preview: binaryPreview,
  };
}

/** The writing side of msgpack. */
export function msgpackEncoding<T>(factory: string): Encoding<T> {
  return {
    format: 'msgpack',
    encode(values) {
      const parts: Uint8Array[] = [];
      let size = 0;
      for (const v of values) {
        let b: Uint8Array;
        try {
          b = encodeMsgpack(v);
        } catch (e) {
          throw new TidemarkError(`${factory}: cannot encode a value as msgpack: ${e instanceof Error ? e.message : String(e)}`);
        }
        parts.push(b);
        size += b.length;
      }
      return Buffer.concat(parts, size);
    },
  };
}
