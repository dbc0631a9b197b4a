/**
 * The byte format of a stored checkpoint, shared by every checkpoint store: a header (magic,
 * format version, CRC-32 of the body) and a msgpack body holding the checkpoint's meta data, the
 * sinks' handles and the already-encoded state. A file or row that fails the check is refused
 * with a `CheckpointError` saying where and why — never half-restored.
 */
import { crc32 } from 'node:zlib';
import { Packr } from 'msgpackr';
import { CHECKPOINT_FORMAT, type Checkpoint, type CheckpointMeta, type CheckpointState, CheckpointError } from '../../index.js';

/** Encodes state, handles and meta data: plain data only (no records extension, no custom types). */
const packr = new Packr({ useRecords: false, moreTypes: true, int64AsType: 'bigint' });

const MAGIC = 0x544d434b; // "TMCK"
const HEADER = 12;

/** Encodes a checkpoint's state (sources and operators). */
export function encodeCheckpointState(state: CheckpointState): Uint8Array {
  return packr.pack(state);
}

/** Frames a whole checkpoint: header + msgpack of `{ meta, sinks, state }`. */
export function encodeCheckpoint(meta: CheckpointMeta, state: Uint8Array, sinks: Readonly<Record<string, unknown>>): Uint8Array {
  const body = packr.pack({ meta, sinks, state });
  const out = new Uint8Array(HEADER + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC);
  view.setUint32(4, CHECKPOINT_FORMAT);
  view.setUint32(8, crc32(body));
  out.set(body, HEADER);
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
  const body = bytes.subarray(HEADER);
  const expected = view.getUint32(8);
  const actual = crc32(body);
  if (expected !== actual) refuse(`its checksum does not match (stored ${expected.toString(16)}, computed ${actual.toString(16)}): the file is corrupt or was modified`);
  let outer: { meta?: CheckpointMeta; sinks?: Record<string, unknown>; state?: Uint8Array };
  let state: CheckpointState;
  try {
    outer = packr.unpack(body) as typeof outer;
    if (outer.meta === undefined || !(outer.state instanceof Uint8Array)) return refuse('its body lacks meta data or state');
    state = packr.unpack(outer.state) as CheckpointState;
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    return refuse(`its body does not decode (${e instanceof Error ? e.message : String(e)})`);
  }
  if (state === null || typeof state !== 'object' || typeof state.sources !== 'object' || typeof state.operators !== 'object') refuse('its state lacks sources or operators');
  return { ...outer.meta, sinks: outer.sinks ?? {}, sources: state.sources, operators: state.operators };
}
