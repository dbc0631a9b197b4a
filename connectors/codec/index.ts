/**
 * Safe decoders for untrusted payloads, shared by every connector: strict UTF-8, JSON with a
 * nesting limit, MessagePack without extension code, own-property object building, and the
 * per-record limits (`maxRecordBytes`, `maxDepth`).
 */
export { decodeJson, decodeJsonBytes, jsonTooDeep } from './json.js';
export { decodeMsgpack, type MsgpackDecodeOptions } from './msgpack-decode.js';
export { encodeMsgpack } from './msgpack-encode.js';
export { decodeUtf8 } from './utf8.js';
export { setOwn } from './safe-object.js';
export { type Decoded, rejected } from './result.js';
export { DEFAULT_MAX_DEPTH, DEFAULT_MAX_RECORD_BYTES, type DecodeLimits, type ResolvedLimits, resolveLimits, positiveInteger } from './limits.js';
