/**
 * The publisher of a repartition stream: each message goes to `<stream>.<partition>` with its
 * message id (`Nats-Msg-Id`). A write publishes its messages in order over one connection — so a
 * partition receives an origin's records and markers in the order they were emitted — and resolves
 * once JetStream has acknowledged all of them (stored, or dropped as duplicates of a replay). A
 * failed publish fails the write (no out-of-order retry); the task then restarts from its last
 * checkpoint and publishes the same ids again. Before each write it checks that the task still
 * holds its lease: a zombie (paused past its lease, or its lease lost) publishes nothing more; what
 * it had in flight is dropped by the readers (an older token than the successor's).
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { SinkError } from '../../../engine/errors.js';
import type { Sink } from '../../../engine/sink.js';
import { encodeMsgpack } from '../../codec/index.js';
import { type JetStreamConnection, describeRedacted, openConnection } from '../../jetstream/connection.js';
import type { RepartitionMessage } from './messages.js';

const WHERE = 'tidemark.runPartitioned: repartition';

/**
 * A sink publishing {@link RepartitionMessage}s to `stream`.
 *
 * @example
 * const sink = repartitionSink(conn, 'app-repartition-byPage', () => true);
 */
export function repartitionSink(conn: JetStreamConnection, stream: string, leaseHeld: () => boolean): Sink<RepartitionMessage> {
  let nc: NatsConnection | undefined;
  let js: JetStreamClient | undefined;
  return {
    kind: 'repartition',
    guarantee: 'at-least-once',
    async open() {
      nc = await openConnection(conn, WHERE, (m) => new SinkError(m, stream));
      js = jetstream(nc);
    },
    async write(values) {
      const client = js;
      if (client === undefined) throw new SinkError(`${WHERE}: write before open`, stream);
      // Issued in order without awaiting each: the connection keeps them in order.
      const acks = new Array<Promise<unknown>>(values.length);
      let i = 0;
      for (; i < values.length; i++) {
        if (!leaseHeld()) break; // checked before each publish
        const msg = values[i] as RepartitionMessage;
        acks[i] = client.publish(`${stream}.${msg.q}`, encodeMsgpack(msg.m), { msgID: msg.id, expect: { streamName: stream }, timeout: 10_000 });
      }
      const settled = await Promise.allSettled(acks.slice(0, i));
      if (i < values.length) throw new SinkError(`${WHERE}: publishing to '${stream}' was refused: this instance no longer holds the partition's lease`, stream);
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed !== undefined) throw new SinkError(`${WHERE}: publishing to '${stream}' failed: ${describeRedacted(failed.reason, conn.secrets)}`, stream);
    },
    async close() {
      await nc?.drain().catch(() => undefined);
    },
    async abort() {
      await nc?.close().catch(() => undefined);
    },
  };
}
