/**
 * The byte format of a stored checkpoint, shared by every checkpoint store: a header (magic,
 * format version, CRC-32 of the body) and a msgpack body holding the checkpoint's meta data, the
 * sinks' handles and the already-encoded state. A file or row that fails the check is refused
 * with a `CheckpointError` saying where and why — never half-restored.
 */
import { crc32 } from 'node:zlib';
import { Packr } from 'msgpackr';
import { CHECKPOINT_FORMAT, type Checkpoint, type CheckpointMeta, type CheckpointState, CheckpointError } from '../../index.js';

/**
 * Encodes state, handles and meta data: plain data, no custom types. Unlike event payloads, a
 * checkpoint is Tidemark's own output (owner-only file, checked by CRC before it is decoded), so
 * msgpackr's record structures are on: repeated object shapes (window contents, buffered records)
 * are written once per shape, which makes large states about a third faster to restore.
 */
const OPTIONS = { useRecords: true, moreTypes: true, int64AsType: 'bigint' } as const;
const packr = new Packr(OPTIONS);

const MAGIC = 0x544d434b; // "TMCK"
/** magic, format, CRC-32 of everything after the header, length of the meta part. */
const HEADER = 16;

/**
 * A state encoder for one store: it sizes its buffer from the previous checkpoint, so a large
 * state is encoded into one allocation instead of a buffer that doubles (and copies) as it grows.
 * Each call encodes into a fresh buffer: earlier results stay valid.
 */
export function stateEncoder(): (state: CheckpointState) => Uint8Array {
  const own = new Packr(OPTIONS);
  let last = 0;
  return (state) => {
    if (last > 1 << 20) own.useBuffer(new Uint8Array(Math.ceil(last * 1.25) + 65_536));
    const bytes = own.pack(state);
    last = bytes.length;
    return bytes;
  };
}

/**
 * A whole checkpoint as the pieces to write in order (header, meta, state): the state bytes are
 * not copied. Layout: header (magic, format, CRC-32, meta length), msgpack of `{ meta, sinks }`,
 * then the state as encoded by a `stateEncoder()`.
 */
export function encodeCheckpointParts(meta: CheckpointMeta, state: Uint8Array, sinks: Readonly<Record<string, unknown>>): Uint8Array[] {
  const head = packr.pack({ meta, sinks });
  const header = new Uint8Array(HEADER);
  const view = new DataView(header.buffer);
  view.setUint32(0, MAGIC);
  view.setUint32(4, CHECKPOINT_FORMAT);
  view.setUint32(8, crc32(state, crc32(head)));
  view.setUint32(12, head.length);
  return [header, head, state];
}

/** A whole checkpoint as one byte array (for stores that keep it in one value, e.g. a table row). */
export function encodeCheckpoint(meta: CheckpointMeta, state: Uint8Array, sinks: Readonly<Record<string, unknown>>): Uint8Array {
  const parts = encodeCheckpointParts(meta, state, sinks);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Decodes what `encodeCheckpoint` wrote, checking magic, format and checksum.
 *
 * @example
 * const checkpoint = decodeCheckpoint(readFileSync(path), path);
 */
export function decodeCheckpoint(bytes: Uint8Array, where: string): Checkpoint {
  const refuse = (why: string): never => {
    throw new CheckpointError(`checkpoint ${where} is refused: ${why}`);
  };
  if (bytes.length < HEADER) refuse(`it is ${bytes.length} bytes long, shorter than its header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) !== MAGIC) refuse('it is not a Tidemark checkpoint (bad magic number)');
  const format = view.getUint32(4);
  if (format !== CHECKPOINT_FORMAT) refuse(`it has format ${format}; this version reads format ${CHECKPOINT_FORMAT}`);
  const expected = view.getUint32(8);
  const headLength = view.getUint32(12);
  if (HEADER + headLength > bytes.length) refuse(`its meta part (${headLength} bytes) runs past the end (${bytes.length} bytes): the file is truncated`);
  const body = bytes.subarray(HEADER);
  const actual = crc32(body);
  if (expected !== actual) refuse(`its checksum does not match (stored ${expected.toString(16)}, computed ${actual.toString(16)}): the file is corrupt or was modified`);
  let head: { meta?: CheckpointMeta; sinks?: Record<string, unknown> };
  let state: CheckpointState;
  try {
    head = packr.unpack(body.subarray(0, headLength)) as typeof head;
    if (head === null || typeof head !== 'object' || head.meta === undefined) return refuse('its meta part lacks the checkpoint id and type');
    state = packr.unpack(body.subarray(headLength)) as CheckpointState;
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    return refuse(`its body does not decode (${e instanceof Error ? e.message : String(e)})`);
  }
  if (state === null || typeof state !== 'object' || typeof state.sources !== 'object' || typeof state.operators !== 'object') refuse('its state lacks sources or operators');
  return {
    ...head.meta,
    sinks: head.sinks ?? {},
    sources: state.sources,
    operators: state.operators,
    ...(state.watermarks === undefined ? {} : { watermarks: state.watermarks }),
    ...(state.keyGroups === undefined ? {} : { keyGroups: state.keyGroups }),
  };
}
