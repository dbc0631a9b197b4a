/**
 * Checkpoints: what a consistent snapshot of a running pipeline holds, and the store contract
 * that keeps them durably. The runtime takes a checkpoint between chunks (every source paused at
 * a chunk boundary, every pending write settled), so source positions, operator state and sink
 * epochs describe one cut through the stream. Encoding and storage live outside the kernel
 * (`fileCheckpoints`, `postgresCheckpoints` in the connectors).
 */

/** Format version of `Checkpoint` (bumped when its layout changes). */
export const CHECKPOINT_FORMAT = 1;

/** The saved state of one source. */
export interface SourceCheckpoint {
  /** The reader's position after the last processed chunk (`undefined`: none yet). */
  readonly position: unknown;
  /** Whether the source honours positions (`Source.replayable`). */
  readonly replayable: boolean;
  /** The watermark the source had emitted. */
  readonly watermark: number;
  /** Each partition's own watermark, as `[partition, watermark]`. */
  readonly partitions: readonly (readonly [number, number])[];
  /** Records read so far (`read` of the summary), so counters continue across restores. */
  readonly read: number;
}

/** The saved state of one operator, matched on restore by its stable name. */
export interface OperatorCheckpoint {
  readonly kind: string;
  /** `OperatorFactory.stateVersion` (1 when not given). */
  readonly version: number;
  /** `OperatorFactory.stateSignature`, when given. */
  readonly signature?: string;
  readonly state: unknown;
}

/** When and what a checkpoint is. */
export interface CheckpointMeta {
  readonly format: number;
  /** Increasing per store; restored runs continue numbering after the checkpoint they start from. */
  readonly id: number;
  /** `savepoint`: taken on request and kept until deleted; `checkpoint`: periodic, the last N kept. */
  readonly type: 'checkpoint' | 'savepoint';
  /** Processing time (the pipeline's clock) when it was taken. */
  readonly takenAt: number;
}

/** The watermarks of one operator node: each input's, the combined input's, the output's. */
export interface NodeWatermarks {
  readonly inputs: readonly number[];
  readonly input: number;
  readonly output: number;
}

/** The state part of a checkpoint: sources and operators, as of one cut. */
export interface CheckpointState {
  readonly sources: Readonly<Record<string, SourceCheckpoint>>;
  readonly operators: Readonly<Record<string, OperatorCheckpoint>>;
  /**
   * Every operator node's watermarks, so that an output watermark held ahead of its input's
   * (e.g. by a timer registered behind the watermark) is seen downstream exactly as before.
   */
  readonly watermarks?: Readonly<Record<string, NodeWatermarks>>;
  /**
   * The number of key groups the pipeline was first started with (a power of two). A run that
   * restores the checkpoint keeps it — even with another number of workers — since key groups are
   * the unit in which keyed state moves between workers (see `restoredKeyGroups`). Absent in
   * checkpoints of runs that did not record one: keyed state is saved per key, so any count fits.
   */
  readonly keyGroups?: number;
}

/** A consistent snapshot of a pipeline. */
export interface Checkpoint extends CheckpointMeta, CheckpointState {
  /** Handles of the sinks' pre-committed epochs (committed after the checkpoint is durable). */
  readonly sinks: Readonly<Record<string, unknown>>;
}

/** What a store says about a stored checkpoint. */
export interface CheckpointInfo {
  readonly id: number;
  readonly type: Checkpoint['type'];
  readonly takenAt: number;
  /** Encoded size in bytes. */
  readonly bytes: number;
  /** Where it is, e.g. a file path or `postgres:table/id`. */
  readonly location: string;
}

/**
 * Where checkpoints are kept. `encodeState` runs synchronously at the checkpoint (the state may be
 * shared with live objects until it returns); `write` — called once the sinks have pre-committed —
 * makes the checkpoint durable and then complete: a crash during `write` must leave the previous
 * checkpoints intact and this one absent. A stored checkpoint that fails its integrity check is
 * refused with an error, never half-restored.
 */
export interface CheckpointStore {
  readonly kind: string;
  encodeState(state: CheckpointState): Uint8Array;
  write(meta: CheckpointMeta, state: Uint8Array, sinks: Readonly<Record<string, unknown>>): Promise<CheckpointInfo>;
  /** The newest complete checkpoint (of either type), or `undefined` when there is none. */
  latest(): Promise<Checkpoint | undefined>;
  /** A checkpoint or savepoint by id; rejects when it is missing or corrupt. */
  load(id: number): Promise<Checkpoint>;
  /** Every stored checkpoint, oldest first. */
  list(): Promise<CheckpointInfo[]>;
  /** Releases connections (a run calls it when it ends). */
  close?(): Promise<void>;
}

/** Converts an operator's saved state of an older version or signature to what it reads now. */
export type StateMigration = (state: unknown, from: { readonly version: number; readonly signature: string | undefined; readonly kind: string }) => unknown;
