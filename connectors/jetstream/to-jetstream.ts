/**
 * `toJetStream(options)`: publishes records to JetStream, each with a message id
 * (`Nats-Msg-Id`), so that a replayed publish — a retry after a timeout, or a restarted pipeline
 * writing the same records again — is stored once: JetStream drops a message whose id it has seen
 * within the stream's duplicate window (`duplicate_window`, 2 minutes unless the stream sets
 * another). Outside that window a replay is stored again: size the window to cover a restart.
 *
 * Every write waits until JetStream has acknowledged each of its records (stored, or recognised
 * as a duplicate), with at most `maxInFlight` publishes outstanding at once; the pipeline reads no
 * more input until the write resolves (backpressure). A publish that fails (timeout, no
 * responders while the server restarts) is retried with the same id, so the retry cannot
 * duplicate it.
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { PlanError, TidemarkError } from '../../engine/errors.js';
import type { Sink } from '../../engine/sink.js';
import { checkFormat, encoderFor, type JetStreamEncode } from './codec.js';
import { connectionOf, describeRedacted, openConnection, type JetStreamConnectionOptions } from './connection.js';

const WHERE = 'tidemark.toJetStream';

/** Options of {@link toJetStream}. */
export interface ToJetStreamOptions<T> extends JetStreamConnectionOptions {
  /** The subject every record is published to (or use `subjectFor`). */
  readonly subject?: string;
  /** The subject of each record, e.g. a partition by key: `(o) => \`ORDERS.${hashKey(o.user) % 4}\``. */
  readonly subjectFor?: (record: T, timestamp: number) => string;
  /**
   * The message id of each record, for de-duplication: it must be the same whenever the same
   * record is published again (e.g. derived from the record's key and window, or its source position).
   */
  readonly msgId: (record: T, timestamp: number) => string;
  /** Payload format (default `'json'`). */
  readonly format?: JetStreamEncode<T>;
  /** Publishes awaiting their acknowledgement at once (default 256). */
  readonly maxInFlight?: number;
  /** How long one publish waits for its acknowledgement, ms (default 5000). */
  readonly publishTimeoutMs?: number;
  /** Attempts per record before the run fails (default 10, with growing pauses up to 2 s). */
  readonly attempts?: number;
  /** When set, JetStream rejects a publish that would land in another stream. */
  readonly stream?: string;
}

/** Counters of a JetStream sink. */
export interface JetStreamSinkStats {
  /** Records acknowledged by JetStream (stored or recognised as duplicates). */
  readonly published: number;
  /** Of those, publishes JetStream recognised as duplicates within its window. */
  readonly duplicates: number;
  /** Publishes retried after a failure. */
  readonly retries: number;
}

/** A JetStream sink; `stats()` counts publishes, duplicates and retries. */
export interface JetStreamSink<T> extends Sink<T> {
  stats(): JetStreamSinkStats;
}

/**
 * Publishes each record to JetStream with a message id (de-duplicated within the stream's
 * duplicate window, 2 minutes by default); writes resolve once every record is acknowledged.
 * Guarantee: at-least-once. Records are published as they arrive, so after a crash and restore
 * the replayed records are published again; JetStream drops them as duplicates only if the
 * restore happens within `duplicate_window` of the first publish (and `msgId` is deterministic) —
 * in practice exactly-once for quick restarts, but not promised.
 *
 * @example
 * results.sink(toJetStream({
 *   servers: '127.0.0.1:4222', subject: 'TOTALS.out', stream: 'TOTALS',
 *   msgId: (r) => `${r.key}:${r.window.start}:${r.pane.index}`,
 * }));
 */
export function toJetStream<T>(options: ToJetStreamOptions<T>): JetStreamSink<T> {
  if (options === null || typeof options !== 'object') throw new PlanError(`${WHERE}: expected an options object`);
  const conn = connectionOf(options, WHERE);
  const { subject, subjectFor, msgId } = options;
  if ((subject === undefined) === (subjectFor === undefined)) throw new PlanError(`${WHERE}: give exactly one of subject or subjectFor`);
  if (subject !== undefined && (typeof subject !== 'string' || !/^[^\s*>]+$/.test(subject))) throw new PlanError(`${WHERE}: subject must be a subject without wildcards`);
  if (subjectFor !== undefined && typeof subjectFor !== 'function') throw new PlanError(`${WHERE}: subjectFor must be a function (record, timestamp) => subject`);
  if (typeof msgId !== 'function') throw new PlanError(`${WHERE}: msgId must be a function (record, timestamp) => string; it is what lets JetStream drop a replayed publish`);
  const format = options.format ?? 'json';
  checkFormat(format, WHERE);
  const encode = encoderFor(format);
  const maxInFlight = positiveInt(options.maxInFlight, 256, 'maxInFlight');
  const timeout = positiveInt(options.publishTimeoutMs, 5_000, 'publishTimeoutMs');
  const attempts = positiveInt(options.attempts, 10, 'attempts');
  const stream = options.stream;
  if (stream !== undefined && (typeof stream !== 'string' || stream.length === 0)) throw new PlanError(`${WHERE}: stream must be a stream name`);

  let nc: NatsConnection | undefined;
  let js: JetStreamClient | undefined;
  let published = 0;
  let duplicates = 0;
  let retries = 0;
  const fail = (message: string): TidemarkError => new TidemarkError(`${WHERE}: ${message}`);

  const publishOne = async (record: T, ts: number): Promise<void> => {
    let subj: string;
    let id: string;
    let data: Uint8Array;
    try {
      subj = subjectFor !== undefined ? subjectFor(record, ts) : (subject as string);
      id = msgId(record, ts);
      data = encode(record);
    } catch (e) {
      throw fail(`cannot prepare a record for publishing: ${describeRedacted(e, conn.secrets)}`);
    }
    if (typeof subj !== 'string' || subj.length === 0) throw fail(`subjectFor returned ${String(subj)}, not a subject`);
    if (typeof id !== 'string' || id.length === 0) throw fail(`msgId returned ${String(id)}, not a non-empty string`);
    for (let attempt = 1; ; attempt++) {
      try {
        const ack = await (js as JetStreamClient).publish(subj, data, { msgID: id, timeout, ...(stream !== undefined ? { expect: { streamName: stream } } : {}) });
        published++;
        if (ack.duplicate) duplicates++;
        return;
      } catch (e) {
        if (attempt >= attempts || nc === undefined || nc.isClosed()) {
          throw fail(`publishing to '${subj}' failed after ${attempt} attempt(s): ${describeRedacted(e, conn.secrets)}`);
        }
        retries++;
        await new Promise((r) => setTimeout(r, Math.min(2_000, 50 * 2 ** attempt)));
      }
    }
  };

  return {
    kind: 'jetstream',
    // Publishes happen as records arrive (not on checkpoint commit); a replay after a restore is
    // de-duplicated by message id only within the stream's duplicate_window.
    guarantee: 'at-least-once',
    async open() {
      nc = await openConnection(conn, WHERE, (m) => new TidemarkError(m));
      js = jetstream(nc);
    },
    async write(values, timestamps) {
      if (js === undefined) throw fail('write before open');
      let next = 0;
      let failed = false;
      const worker = async (): Promise<void> => {
        while (!failed && next < values.length) {
          const i = next++;
          try {
            await publishOne(values[i] as T, timestamps[i] as number);
          } catch (e) {
            failed = true; // the other workers stop taking records
            throw e;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(maxInFlight, values.length) }, worker));
    },
    async close() {
      await nc?.drain().catch(() => undefined);
    },
    async abort() {
      await nc?.close().catch(() => undefined);
    },
    stats: () => ({ published, duplicates, retries }),
  };

  function positiveInt(v: number | undefined, fallback: number, name: string): number {
    if (v === undefined) return fallback;
    if (!Number.isInteger(v) || v < 1) throw new PlanError(`${WHERE}: ${name} must be a positive integer, got ${String(v)}`);
    return v;
  }
}
