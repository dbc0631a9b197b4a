/**
 * `toCloudEvents(sink, …)`: writes any sink's values as CloudEvents — each value becomes an event
 * whose `time` is the value's event timestamp, encoded in structured mode (JSON text) or binary
 * mode (`{ headers, body }`) for transports with headers.
 */
import { PlanError } from '../../engine/errors.js';
import type { Sink } from '../../engine/sink.js';
import { encodeCloudEvent, type EncodedBinaryCloudEvent } from './codec.js';

/** How values become events. */
export interface ToCloudEventsOptions<T> {
  /** The `source` attribute (a URI reference, e.g. `'/shop/orders'`). */
  readonly source: string;
  /** The `type` attribute, fixed or per value (`'com.shop.order.placed'`). */
  readonly type: string | ((value: T) => string);
  /** The event id; default a random UUID. Give a deterministic id (from the value) so a replay can be de-duplicated downstream. */
  readonly id?: (value: T, timestamp: number) => string;
  readonly subject?: (value: T) => string | undefined;
  /** The data of the event; default the value itself. */
  readonly data?: (value: T) => unknown;
  readonly datacontenttype?: string;
  readonly extensions?: (value: T) => Readonly<Record<string, string | number | boolean>>;
}

/**
 * A sink that encodes each value as a CloudEvent (with `time` = the value's event timestamp) and
 * writes the encoded events to `sink`: JSON strings in `'structured'` mode, `{ headers, body }` in
 * `'binary'` mode. A value that cannot be encoded fails the run with a `CloudEventError`.
 *
 * @example
 * totals.sink(toCloudEvents(forEach((json) => publish(json)), 'structured', {
 *   source: '/analytics', type: 'com.shop.revenue.computed', id: (r) => `${r.key}:${r.window.start}:${r.pane.index}` }));
 */
export function toCloudEvents<T>(sink: Sink<string>, mode: 'structured', options: ToCloudEventsOptions<T>): Sink<T>;
export function toCloudEvents<T>(sink: Sink<EncodedBinaryCloudEvent>, mode: 'binary', options: ToCloudEventsOptions<T>): Sink<T>;
export function toCloudEvents<T>(sink: Sink<string> | Sink<EncodedBinaryCloudEvent>, mode: 'structured' | 'binary', options: ToCloudEventsOptions<T>): Sink<T> {
  const where = 'tidemark.toCloudEvents';
  if (sink === null || typeof sink !== 'object' || typeof sink.write !== 'function') throw new PlanError(`${where}: expected a sink to wrap`);
  if (mode !== 'structured' && mode !== 'binary') throw new PlanError(`${where}: mode must be 'structured' or 'binary', got '${String(mode)}'`);
  if (options === null || typeof options !== 'object') throw new PlanError(`${where}: expected options { source, type }`);
  if (typeof options.source !== 'string' || options.source === '') throw new PlanError(`${where}: source must be a non-empty string (a URI reference)`);
  if (typeof options.type !== 'string' && typeof options.type !== 'function') throw new PlanError(`${where}: type must be a string or a function`);
  for (const k of ['id', 'subject', 'data', 'extensions'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'function') throw new PlanError(`${where}: ${k} must be a function`);
  }
  const typeOf = options.type;
  const inner = sink as Sink<unknown>;
  return {
    kind: `cloudevents(${inner.kind})`,
    ...(inner.open === undefined ? {} : { open: (ctx) => inner.open?.(ctx) }),
    write(values, timestamps) {
      const out: unknown[] = new Array(values.length);
      for (let i = 0; i < values.length; i++) {
        const v = values[i] as T;
        const ts = timestamps[i] as number;
        const subject = options.subject?.(v);
        const event = {
          source: options.source,
          type: typeof typeOf === 'string' ? typeOf : typeOf(v),
          time: ts,
          data: options.data === undefined ? v : options.data(v),
          ...(options.id === undefined ? {} : { id: options.id(v, ts) }),
          ...(subject === undefined ? {} : { subject }),
          ...(options.datacontenttype === undefined ? {} : { datacontenttype: options.datacontenttype }),
          ...(options.extensions === undefined ? {} : { extensions: options.extensions(v) }),
        };
        out[i] = mode === 'structured' ? encodeCloudEvent(event, 'structured') : encodeCloudEvent(event, 'binary');
      }
      return inner.write(out, timestamps);
    },
    ...(inner.close === undefined ? {} : { close: () => inner.close?.() }),
    ...(inner.abort === undefined ? {} : { abort: (e: unknown) => inner.abort?.(e) }),
  };
}
