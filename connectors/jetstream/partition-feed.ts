/**
 * One partition of a JetStream source: an ordered consumer (ephemeral, `ack_policy: none`) on the
 * partition's subject, started just after the partition's position, read into a small bounded
 * buffer. No acknowledgements means nothing is ever redelivered and no `ack_wait` or
 * `max_ack_pending` can stall a long window; the client library recreates the consumer from the
 * last stream sequence it delivered whenever it loses it (server restart, missed heartbeats), so
 * the partition neither skips nor repeats a message across reconnects.
 *
 * End of input (unless following): the partition ends at the stream's last sequence at open
 * (`end`): after a message at or past it, after a message with nothing pending behind it, or at
 * once when nothing is pending from its position.
 */
import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';

/** What every partition of one reader shares. */
export interface FeedConfig {
  readonly js: JetStreamClient;
  readonly stream: string;
  /** Messages per pull request. */
  readonly fetchSize: number;
  /** Messages buffered per partition before reading pauses (backpressure). */
  readonly bufferCap: number;
  /** Payload bytes buffered per partition before reading pauses. */
  readonly bufferBytes: number;
  /** Last stream sequence to read (`Infinity` when following). */
  readonly end: number;
  /** Called when a partition has messages, ends or fails. */
  readonly wake: () => void;
}

/** Reads one partition's messages into `buffer`. */
export class PartitionFeed {
  readonly buffer: JsMsg[] = [];
  /** Payload bytes in `buffer`. */
  private bytes = 0;
  /** True once the partition has delivered everything up to `end`. */
  done = false;
  /** Set when reading failed (the reader fails the run with it). */
  error: unknown;
  /** Times the library recreated the ordered consumer (reconnects, resets). */
  resets = 0;
  private closed = false;
  /** Set when an idle heartbeat found nothing left to read (bounded reads only). */
  private drained = false;
  private consumer: Consumer | undefined;
  private messages: ConsumerMessages | undefined;
  private resume: (() => void) | undefined;
  private running: Promise<void> | undefined;

  constructor(
    readonly id: number,
    /** The subject filter; `undefined` reads every subject of the stream. */
    readonly filter: string | undefined,
    /** Last sequence already consumed: reading starts after it. */
    readonly startAfter: number,
    private readonly cfg: FeedConfig,
  ) {}

  start(): void {
    this.running = this.run().catch((e: unknown) => {
      if (this.closed) return;
      this.error = e;
      this.cfg.wake();
    });
  }

  /** Removes and returns up to `max` buffered messages (in sequence order). */
  take(max: number): JsMsg[] {
    const out = this.buffer.splice(0, max);
    for (const m of out) this.bytes -= m.data.length;
    if (this.resume !== undefined && !this.full()) {
      const r = this.resume;
      this.resume = undefined;
      r();
    }
    return out;
  }

  private full(): boolean {
    return this.buffer.length >= this.cfg.bufferCap || this.bytes >= this.cfg.bufferBytes;
  }

  private finish(): void {
    this.done = true;
    this.cfg.wake();
  }

  private async run(): Promise<void> {
    const { js, stream, end } = this.cfg;
    if (this.startAfter >= end) return this.finish();
    const consumer = await js.consumers.get(stream, {
      opt_start_seq: this.startAfter + 1,
      ...(this.filter !== undefined ? { filter_subjects: this.filter } : {}),
    });
    this.consumer = consumer;
    if (this.closed) {
      await consumer.delete().catch(() => undefined); // closed while it was being created
      return;
    }
    if (end !== Infinity && (await consumer.info(true)).num_pending === 0) return this.finish();
    // Short pull requests (2 s; heartbeats every 1 s): after a reconnect the library may wait for
    // two missed heartbeats before it pulls again, so this bounds that stall to about 3 s.
    const messages = await consumer.consume({ max_messages: this.cfg.fetchSize, expires: 2_000 });
    this.messages = messages;
    void this.watch(messages, consumer);
    for await (const m of messages) {
      if (m.seq > end) return this.finish();
      this.buffer.push(m);
      this.bytes += m.data.length;
      this.cfg.wake();
      if (m.seq >= end || (end !== Infinity && m.info.pending === 0)) return this.finish();
      if (this.full()) await new Promise<void>((r) => (this.resume = r));
      if (this.closed) return;
    }
    if (this.closed) return;
    if (this.drained) return this.finish();
    throw new Error('the consumer stopped: the connection to NATS closed');
  }

  /**
   * Counts consumer resets; when bounded, ends the partition on an idle heartbeat once the server
   * reports nothing pending (the messages up to `end` were removed meanwhile).
   */
  private async watch(messages: ConsumerMessages, consumer: Consumer): Promise<void> {
    try {
      for await (const s of messages.status()) {
        if (s.type === 'ordered_consumer_recreated') this.resets++;
        if (s.type === 'heartbeat' && this.cfg.end !== Infinity && this.buffer.length === 0 && !this.done) {
          const info = await consumer.info().catch(() => undefined);
          if (info?.num_pending === 0) {
            this.drained = true;
            void messages.close();
          }
        }
      }
    } catch {
      // status notifications are best-effort
    }
  }

  /** Stops reading and deletes the consumer (best effort, bounded). */
  async close(): Promise<void> {
    this.closed = true;
    const r = this.resume;
    this.resume = undefined;
    r?.();
    const messages = this.messages;
    const consumer = this.consumer;
    const cleanup = (async () => {
      await messages?.close().catch(() => undefined);
      await consumer?.delete().catch(() => undefined);
      await this.running;
    })();
    await Promise.race([cleanup, new Promise((r2) => setTimeout(r2, 2_000).unref())]);
  }
}
