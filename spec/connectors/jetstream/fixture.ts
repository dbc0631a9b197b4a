/**
 * Test fixture for the JetStream connector: an admin connection, streams with names unique to the
 * run (deleted afterwards), publishing helpers, and a driver that reads a source's reader by hand
 * (acknowledging each chunk as the runtime would).
 */
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { SystemClock, type Source, type SourceChunk, type SourceDeadLetter, type SourceReader } from 'tidemark';
import { uniqueName } from '../services.js';

export class JsAdmin {
  private readonly streams: string[] = [];
  private constructor(readonly nc: NatsConnection, readonly jsm: JetStreamManager, readonly js: JetStreamClient) {}

  static async connect(servers: string): Promise<JsAdmin> {
    const nc = await connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    return new JsAdmin(nc, await jetstreamManager(nc), jetstream(nc));
  }

  /** A new stream named uniquely for the run, capturing `<name>.>`. */
  async stream(prefix: string, config: Partial<StreamConfig> = {}): Promise<string> {
    const name = uniqueName(prefix).toUpperCase();
    await this.jsm.streams.add({ name, subjects: [`${name}.>`], ...config });
    this.streams.push(name);
    return name;
  }

  /** Publishes JSON values, `subjectOf(i)` choosing each subject; returns the stream sequences. */
  async publishJson(subjectOf: (i: number) => string, values: readonly unknown[]): Promise<number[]> {
    return this.publishRaw(subjectOf, values.map((v) => new TextEncoder().encode(JSON.stringify(v))));
  }

  async publishRaw(subjectOf: (i: number) => string, payloads: readonly (Uint8Array | string)[]): Promise<number[]> {
    const acks = await Promise.all(payloads.map((p, i) => this.js.publish(subjectOf(i), p)));
    return acks.map((a) => a.seq);
  }

  async messages(stream: string): Promise<number> {
    return (await this.jsm.streams.info(stream)).state.messages;
  }

  async close(): Promise<void> {
    for (const s of this.streams) await this.jsm.streams.delete(s).catch(() => undefined);
    await this.nc.close();
  }
}

/** What a hand-driven read produced. */
export interface Drained<T> {
  readonly chunks: SourceChunk<T>[];
  readonly records: { value: T; timestamp: number; partition: number | undefined }[];
  readonly letters: SourceDeadLetter[];
  readonly reader: SourceReader<T>;
}

/**
 * Opens `source` and reads until end of input (or `maxChunks`), acknowledging each chunk; closes
 * the reader unless `keepOpen`.
 */
export async function drain<T>(source: Source<T>, opts: { batchSize?: number; maxChunks?: number; keepOpen?: boolean } = {}): Promise<Drained<T>> {
  const reader = source.open({ name: 'test', batchSize: opts.batchSize ?? 100, clock: new SystemClock() });
  const out: Drained<T> = { chunks: [], records: [], letters: [], reader };
  try {
    while (out.chunks.length < (opts.maxChunks ?? Infinity)) {
      const chunk = await reader.next();
      if (chunk === null) break;
      out.chunks.push(chunk);
      if (chunk.kind === 'records') {
        chunk.values.forEach((value, i) => out.records.push({ value, timestamp: chunk.timestamps?.[i] as number, partition: chunk.partition }));
      } else if (chunk.kind === 'dead-letters') {
        out.letters.push(...chunk.letters);
      }
      await reader.ack?.(chunk);
    }
  } finally {
    if (opts.keepOpen !== true) await reader.close?.();
  }
  return out;
}
