/**
 * The outcome of decoding one record: a value, or the reason it was rejected (which becomes a
 * dead letter). Decoders never throw on bad input.
 */

/** A decoded record, or why it could not be decoded. */
export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** A rejection with `reason`. */
export function rejected(reason: string): { readonly ok: false; readonly reason: string } {
  return { ok: false, reason };
}
