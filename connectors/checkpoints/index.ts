/**
 * Checkpoint stores: a local directory (`fileCheckpoints`) and the shared byte format.
 */
export { fileCheckpoints, type FileCheckpointOptions } from './file-store.js';
export { decodeCheckpoint, encodeCheckpoint, encodeCheckpointParts, stateEncoder } from './codec.js';
