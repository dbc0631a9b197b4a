/**
 * The NATS JetStream connector: `fromJetStream` (a stream as a partitioned, replayable log) and
 * `toJetStream` (publishing with message ids, de-duplicated within the stream's window).
 */
export { fromJetStream, type FromJetStreamOptions, type JetStreamSource } from './from-jetstream.js';
export { toJetStream, type ToJetStreamOptions, type JetStreamSink, type JetStreamSinkStats } from './to-jetstream.js';
export type { JetStreamStart } from './start.js';
export type { JetStreamConnectionOptions } from './connection.js';
export type { JetStreamMessageMeta, JetStreamDecode, JetStreamEncode } from './codec.js';
