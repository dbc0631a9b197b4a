/**
 * Helpers for the Redis Streams tests: a raw client for setup and inspection, unique stream and
 * group names with cleanup, bounded polling (no fixed sleeps).
 */
import { Redis } from 'ioredis';
import { uniqueName } from '../services.js';

/** A raw client for the test's own setup and checks. */
export function rawClient(): Redis {
  return new Redis({ host: '127.0.0.1', port: 6379, protocol: 2, lazyConnect: false });
}

/** Stream keys unique to this run, remembered for `cleanup`. */
export class Names {
  private readonly keys: string[] = [];
  stream(tag: string): string {
    const k = uniqueName(`tm_redis_${tag}`);
    this.keys.push(k);
    return k;
  }
  group(tag = 'g'): string {
    return uniqueName(`tm_group_${tag}`);
  }
  async cleanup(client: Redis): Promise<void> {
    if (this.keys.length > 0) await client.del(...this.keys);
    this.keys.length = 0;
  }
}

/** Polls `check` until it returns a value other than undefined, failing after `timeoutMs`. */
export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}

/** Pending entries of `group` on `stream`, per consumer. */
export async function pendingByConsumer(client: Redis, stream: string, group: string): Promise<Map<string, string[]>> {
  const rows = (await client.call('XPENDING', stream, group, '-', '+', 10_000)) as [string, string, number, number][];
  const out = new Map<string, string[]>();
  for (const [id, consumer] of rows) out.set(consumer, [...(out.get(consumer) ?? []), id]);
  return out;
}

/** Appends `n` JSON entries `{ i }` to `stream` (in one pipeline); returns their ids in order. */
export async function appendJson(client: Redis, stream: string, values: readonly unknown[]): Promise<string[]> {
  const p = client.pipeline();
  for (const v of values) p.xadd(stream, '*', 'data', JSON.stringify(v));
  const res = (await p.exec()) ?? [];
  return res.map(([err, id]) => {
    if (err !== null) throw err;
    return id as string;
  });
}
