/**
 * CloudEvents 1.0 for any source or sink: `cloudEvents.decode` / `cloudEvents.encode` (structured
 * JSON and binary `ce-*` headers), `fromCloudEvents(source)` and `toCloudEvents(sink, mode, …)`.
 */
import { decodeCloudEvent, decodeCloudEventOrThrow, encodeCloudEvent } from './codec.js';
import { fromCloudEvents } from './from-cloud-events.js';
import { toCloudEvents } from './to-cloud-events.js';
import { rfc3339ToMillis } from './time.js';

export {
  decodeCloudEvent, decodeCloudEventOrThrow, encodeCloudEvent, CloudEventError,
  type CloudEventDecodeOptions, type CloudEventDecodeResult, type CloudEventInit, type CloudEventMessage, type CloudEventRecord, type EncodedBinaryCloudEvent,
} from './codec.js';
export { fromCloudEvents } from './from-cloud-events.js';
export { toCloudEvents, type ToCloudEventsOptions } from './to-cloud-events.js';
export { rfc3339ToMillis } from './time.js';

/**
 * The CloudEvents helpers in one namespace. `decode` answers `{ ok: true, value, timestamp }` or
 * `{ ok: false, reason }` — the shape any connector's decode hook can turn into a record or a
 * dead letter.
 *
 * @example
 * const r = cloudEvents.decode({ headers: msg.headers, body: msg.data });
 * const json = cloudEvents.encode({ source: '/shop', type: 'order.placed', time: Date.now(), data });
 */
export const cloudEvents = Object.freeze({
  decode: decodeCloudEvent,
  decodeOrThrow: decodeCloudEventOrThrow,
  encode: encodeCloudEvent,
  fromSource: fromCloudEvents,
  toSink: toCloudEvents,
  timeToMillis: rfc3339ToMillis,
});
