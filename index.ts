/**
 * Tidemark's public API: build typed event-time pipelines, run them, read their summary.
 * Everything a user imports from 'tidemark' is exported here (the testing kit is
 * 'tidemark/testing').
 */
export { Pipeline, type PipelineOptions, type SourceOptions, type CheckpointOptions } from './api/pipeline.js';
export { Stream, KeyedStream, SortedStream, WindowedStream, WindowStream, LateAwareStream } from './api/stream.js';
export type { OperatorOptions } from './api/options.js';
export { outputTag, type OutputTag } from './api/output-tag.js';
/** @internal The in-thread parallel runner behind `simulateParallel` (tidemark/testing). */
export { runWorkersInThread, type InThreadParallelOptions } from './api/parallel-in-thread.js';
/** @internal The restart loop of parallel runs (`runParallel`, `simulateParallel`) and its policy. */
export { runAttempts, type AttemptsOptions, type AttemptStart } from './engine/runtime/parallel-attempts.js';
export { backoff, type Backoff } from './engine/backoff.js';

export type { Aggregate } from './engine/aggregate.js';
export type { Batch } from './engine/batch.js';
export { ManualClock, SystemClock, type Clock, type Cancel } from './engine/clock.js';
export { TidemarkError, PlanError, OrderingError, UserFunctionError, SourceError, CheckpointError, SinkError } from './engine/errors.js';
export { ExchangeError } from './engine/errors.js';
export {
  CHECKPOINT_FORMAT, type Checkpoint, type CheckpointInfo, type CheckpointMeta, type CheckpointState, type CheckpointStore,
  type OperatorCheckpoint, type SourceCheckpoint, type StateMigration, type NodeWatermarks,
} from './engine/checkpoint.js';
export type { PipelineEvent, PipelineEventListener } from './engine/events.js';
export type { BackoffOptions } from './engine/backoff.js';
export type { CheckpointSummary } from './engine/runtime/checkpointer.js';
export { hashKey, keyProblem, KeyMap, type Key, type KeyPrimitive } from './engine/keys.js';
export { DEFAULT_KEY_GROUPS, MAX_KEY_GROUPS, checkKeyGroups, keyGroupOf, partitionOfKeyGroup } from './engine/key-groups.js';
export { filterOperatorSnapshot, isKeyGroupSplittable, mergeOperatorSnapshots, splitOperatorSnapshot } from './engine/key-group-state.js';
export type { KeyedStateDeclaration, StateLayout } from './engine/state-layout.js';
export { restoredKeyGroups } from './engine/runtime/restore.js';
export type { OnError, OperatorContext, OperatorFactory, OperatorLogic, Output } from './engine/operator.js';
export type { Ordering } from './engine/plan.js';
export type { DeadLetter } from './engine/runtime/emitter.js';
export type { RunSummary, OperatorSummary, SinkSummary } from './engine/runtime/summary.js';
export type { SourceSummary } from './engine/runtime/source-driver.js';
export type { Sink, SinkContext, DeliveryGuarantee } from './engine/sink.js';
export type { Source, SourceChunk, SourceContext, SourceDeadLetter, SourceReader } from './engine/source.js';
export { isValidTimestamp, toMillis, MAX_TIMESTAMP, type Duration, type DurationLike, type EventTime } from './engine/time.js';
export type { WatermarkGenerator, WatermarkStrategy } from './engine/watermark.js';

export { tumbling } from './operators/tumbling.js';
export { sliding } from './operators/sliding.js';
export { session, type SessionOptions } from './operators/session.js';
export { globalWindow } from './operators/global-window.js';
export { calendar } from './operators/calendar.js';
export type { WindowAssigner, TumblingAssigner, SlidingAssigner, SessionAssigner, GlobalAssigner, CalendarAssigner, CalendarUnit } from './operators/window/assigners.js';
export type { WindowOptions } from './operators/window/window-operator.js';
export type { TriggerOptions, EarlyTrigger, LateTrigger } from './operators/window/triggers.js';
export type { Accumulation, LateRecord, PaneInfo, PaneTiming, Window, WindowResult } from './operators/window/types.js';
export { count } from './operators/aggregates/count.js';
export { sum } from './operators/aggregates/sum.js';
export { min } from './operators/aggregates/min.js';
export { max } from './operators/aggregates/max.js';
export { mean, type MeanAcc } from './operators/aggregates/mean.js';
export { approxDistinct, type ApproxDistinctAcc, type ApproxDistinctAggregate, type ApproxDistinctOptions } from './operators/aggregates/approx-distinct.js';
export { quantiles, type QuantilesAcc, type QuantilesOptions, type QuantilesResult, type QuantilesStore } from './operators/aggregates/quantiles.js';
export { topK, type TopKAcc, type TopKEntry, type TopKOptions } from './operators/aggregates/top-k.js';
export { toList } from './operators/aggregates/to-list.js';
export { reduce } from './operators/aggregates/reduce.js';
export { boundedOutOfOrderness, type IdleOptions } from './operators/watermarks/bounded-out-of-orderness.js';
export { monotonic } from './operators/watermarks/monotonic.js';
export { watermarkStrategy, type CustomWatermarkOptions } from './operators/watermarks/watermark-strategy.js';
export type { AsyncMapOptions } from './operators/async-map.js';

export { fromArray, type FromArrayOptions } from './connectors/from-array.js';
export { fromAsyncIterable } from './connectors/from-async-iterable.js';
export { fromObservable, type FromObservableOptions } from './connectors/from-observable.js';
export { collect } from './connectors/collect.js';
export { forEach } from './connectors/for-each.js';
export { toObservable, type ObservableSink } from './connectors/to-observable.js';
export { console, toConsole, type ConsoleSinkOptions } from './connectors/console.js';

export {
  fromRedisStream, toRedisStream, type FromRedisStreamOptions, type RedisStreamRecord, type ToRedisStreamOptions,
  type RedisFieldValue, type RedisConnectionOptions, type RedisClientOptions, type RedisStreamFormat, type RedisStreamTimestamp,
} from './connectors/redis/index.js';
export {
  fromJsonLines, toJsonLines, fromCsv, toCsv, fromMsgpack, toMsgpack, fromReadable, toWritable,
  type FromJsonLinesOptions, type ToJsonLinesOptions, type FromCsvOptions, type ToCsvOptions,
  type FromMsgpackOptions, type ToMsgpackOptions, type FromReadableOptions, type ToWritableOptions,
  type StreamFormat, type CsvColumnType, type FileSourceOptions, type FileSinkOptions,
  type FsyncPolicy, type StartPosition, type FileDelivery, type ExactlyOnceFileSinkOptions,
} from './connectors/files/index.js';
export {
  decodeJson, decodeMsgpack, encodeMsgpack, DEFAULT_MAX_RECORD_BYTES, type Decoded, type MsgpackDecodeOptions,
} from './connectors/codec/index.js';
export { toPostgres, PostgresError, keyText, type ToPostgresWindowsOptions, type ToPostgresAppendOptions } from './connectors/postgres/index.js';
export {
  cloudEvents, decodeCloudEvent, decodeCloudEventOrThrow, encodeCloudEvent, fromCloudEvents, toCloudEvents, CloudEventError, rfc3339ToMillis,
  type CloudEventRecord, type CloudEventMessage, type CloudEventInit, type CloudEventDecodeResult, type CloudEventDecodeOptions,
  type EncodedBinaryCloudEvent, type ToCloudEventsOptions,
} from './connectors/cloudevents/index.js';
export {
  schema, validate, withSchema, SchemaError, checkCompatibility, assertCompatible, lintEventNames,
  type EventSchema, type SchemaOptions, type SchemaResult, type SchemaIssue, type CompatibilityReport,
  type CompatibilityIssue, type EventNameFinding,
} from './connectors/schema/index.js';
export {
  fromJetStream, toJetStream, type FromJetStreamOptions, type JetStreamSource, type ToJetStreamOptions,
  type JetStreamSink, type JetStreamSinkStats, type JetStreamStart, type JetStreamConnectionOptions,
  type JetStreamMessageMeta, type JetStreamDecode, type JetStreamEncode,
} from './connectors/jetstream/index.js';
export {
  ProcessStream, BroadcastStream, BroadcastConnectedStream, valueState, listState, mapState,
  type ValueState, type ListState, type MapState, type ValueStateDescriptor, type ListStateDescriptor,
  type MapStateDescriptor, type StateDescriptor, type StateOf, type StateOptions, type StateSpec,
  type ProcessContext, type ProcessFunction, type ProcessOutput, type TimerInfo, type TimerService,
  type BroadcastProcessContext, type BroadcastProcessFunction, type BroadcastState, type ReadOnlyBroadcastState,
  type OnBroadcastContext, type LateOutput, type SideOutputTag,
} from './api/process.js';
export { JoinStream, WindowJoinedStreams } from './api/joins.js';
export type { IntervalJoinOptions } from './operators/joins/interval-join.js';
export type { WindowJoinOptions } from './operators/joins/window-join.js';
export type { TemporalJoinOptions } from './operators/joins/temporal-join.js';
export type { JoinType, JoinSide, JoinPair, JoinLateRecord } from './operators/joins/types.js';
export {
  EventLog, LogError, LogTruncatedError, LogCorruptionError, type LogInput, type LogPosition, type LogRecord, type ReadOptions,
  type PartitionLag, type ConsumerLag, type EventLogOptions, type Retention, type StartFrom, type FsyncPolicy as LogFsyncPolicy,
  type RecoveryReport, type LagEvent, type LagObjective, type LogSourceOptions, type LogSinkOptions, type LogEpochHandle,
  parseFrame as parseLogFrame, unpackField as unpackLogField,
} from './connectors/log/index.js';
export { fileCheckpoints, type FileCheckpointOptions } from './connectors/checkpoints/index.js';
export { runParallel, startParallel, WorkerError, type ParallelRun, type RunParallelOptions, type ParallelCheckpointOptions } from './connectors/parallel/index.js';
export { postgresCheckpoints, type PostgresCheckpointOptions } from './connectors/checkpoints/postgres-store.js';
export { FencedError } from './connectors/postgres/fence.js';
export type { FenceToken } from './engine/sink.js';
export {
  runPartitioned, partitionFor, partitionedSubject, fairShare, LeaseTable, PartitioningError,
  type PartitionedHandle, type PartitionedStatus, type PartitionStatus, type RunPartitionedOptions, type PartitionedCheckpointOptions,
  type PartitionedEvent, type PartitionedModule, type ShareInput, type ShareDecision, type Lease, type LeaseView, type MemberView,
} from './connectors/cluster/index.js';
