/**
 * The embedded event log: `EventLog.open(dir, options)`, its records, reads, sources (replayable
 * from checkpoints), sinks (at-least-once or exactly-once), consumer offsets and lag, and its
 * errors.
 */
export { EventLog, type LogInput, type LogPosition, type ReadOptions, type PartitionLag, type ConsumerLag } from './event-log.js';
export type { LogRecord } from './cursor.js';
export type { EventLogOptions, Retention, StartFrom } from './options.js';
export type { FsyncPolicy, RecoveryReport } from './partition.js';
export type { LagEvent, LagObjective, LogSourceOptions } from './source.js';
export type { LogEpochHandle, LogSinkOptions } from './sink.js';
export { LogError, LogTruncatedError, LogCorruptionError } from './errors.js';
/** Low-level frame access, for diagnostics and benchmarks (using the log does not need it). */
export { parseFrame, unpack as unpackField, type FrameView } from './codec.js';
