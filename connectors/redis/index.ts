/**
 * Redis Streams connectors: `fromRedisStream` (consumer groups, at-least-once with XACK after
 * processing, claiming a dead consumer's entries) and `toRedisStream` (pipelined XADD with
 * optional MAXLEN retention).
 */
export { fromRedisStream, type FromRedisStreamOptions, type RedisStreamRecord } from './from-redis-stream.js';
export { toRedisStream, type ToRedisStreamOptions, type RedisFieldValue } from './to-redis-stream.js';
export type { RedisConnectionOptions, RedisClientOptions } from './connection.js';
export type { RedisStreamFormat, RedisStreamTimestamp } from './decode.js';
