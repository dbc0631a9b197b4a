/**
 * `fromCloudEvents(source)`: reads any source's records as CloudEvents — each raw record (JSON
 * text, bytes, a parsed object, or a `{ headers, body }` message) is decoded; its event time is
 * the event's `time`; records that are not valid CloudEvents become dead letters with their
 * position and reason.
 */
import { PlanError } from '../../engine/errors.js';
import type { Source } from '../../engine/source.js';
import { resolveLimits } from '../codec/limits.js';
import { decodingSource } from '../schema/decoding-source.js';
import { decodeCloudEvent, type CloudEventDecodeOptions, type CloudEventRecord } from './codec.js';

/**
 * Wraps `source` so that its records are decoded as CloudEvents 1.0 (structured, or binary when
 * a record is a message with `ce-*` headers). The wrapper provides timestamps (from `time`, which
 * replaces any timestamp of the inner source), so `p.source(…)` needs no `timestamp` option.
 * Invalid events become dead letters `{ value: raw (bounded), reason, position: { source, record, partition? } }`;
 * partitions and acknowledgements pass through to the inner source.
 *
 * @example
 * p.source(fromCloudEvents<Order>(fromAsyncIterable(lines)), { watermark: boundedOutOfOrderness(1_000), name: 'orders' })
 *   .filter((e) => e.type === 'com.shop.order.placed')
 *   .map((e) => e.data);
 */
export function fromCloudEvents<T = unknown, I = unknown>(source: Source<I>, options: CloudEventDecodeOptions = {}): Source<CloudEventRecord<T>> {
  const where = 'tidemark.fromCloudEvents';
  if (options === null || typeof options !== 'object') throw new PlanError(`${where}: options must be an object`);
  const limits = resolveLimits(where, options);
  return decodingSource<I, CloudEventRecord<T>>(source, {
    kind: `cloudevents(${typeof source?.kind === 'string' ? source.kind : 'source'})`,
    where,
    timestamps: true,
    decode: (raw) => decodeCloudEvent<T>(raw, limits),
  });
}
