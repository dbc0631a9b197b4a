/**
 * A consumer killed mid-stream (SIGKILL, after reading but before acknowledging a chunk): another
 * consumer of the group claims its pending entries with XAUTOCLAIM once they have been idle for
 * `claimIdleMs`, and every entry is processed at least once — the redelivered ones are exactly
 * those the dead consumer had read without acknowledging.
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Pipeline, collect } from 'tidemark';
import { fromRedisStream, type RedisStreamRecord } from 'tidemark';
import { available } from '../services.js';
import { Names, appendJson, pendingByConsumer, rawClient, until } from './support.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');

describe.skipIf(!(await available('redis')))('a consumer killed mid-stream', () => {
  const redis = rawClient();
  const names = new Names();
  afterAll(async () => {
    await names.cleanup(redis);
    redis.disconnect();
  });

  it('has its pending entries claimed by another consumer; nothing is lost', async () => {
    const stream = names.stream('kill');
    const group = names.group();
    const ids = await appendJson(redis, stream, Array.from({ length: 20 }, (_, i) => ({ i })));

    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'fixtures/doomed-consumer.ts'), stream, group, 'doomed', '5'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((res) => child.once('exit', (_code, signal) => res(signal)));
    try {
      await until(`the doomed consumer to hang (stderr: ${stderr})`, () => (stdout.includes('HUNG\n') ? true : undefined), 30_000);
    } finally {
      child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');
    const lines = stdout.trim().split('\n');
    const processedByDoomed = lines.filter((l) => l.startsWith('PROCESSED ')).map((l) => l.slice(10));
    const readNotAcked = lines.filter((l) => l.startsWith('READ ')).map((l) => l.slice(5));
    expect(processedByDoomed).toEqual(ids.slice(0, 5));
    expect(readNotAcked).toEqual(ids.slice(5, 10));
    // The dead consumer's unacknowledged entries are pending in its name.
    expect((await pendingByConsumer(redis, stream, group)).get('doomed')).toEqual(readNotAcked);

    // Wait (bounded) until they have been idle for claimIdleMs, then a rescuer takes over.
    const claimIdleMs = 300;
    await until('the pending entries to be idle long enough', async () => {
      const rows = (await redis.call('XPENDING', stream, group, 'IDLE', claimIdleMs, '-', '+', 100, 'doomed')) as unknown[];
      return rows.length === readNotAcked.length ? true : undefined;
    });
    const out: RedisStreamRecord<{ i: number }>[] = [];
    const p = new Pipeline();
    p.source(fromRedisStream<{ i: number }>({ host: '127.0.0.1', port: 6379, streams: stream, group, consumer: 'rescuer', claimIdleMs }), { name: 'rescuer' })
      .sink(collect(out));
    const summary = await p.run();

    const redelivered = out.filter((r) => r.redelivered).map((r) => r.id);
    expect(redelivered).toEqual(readNotAcked);
    expect(out.filter((r) => !r.redelivered).map((r) => r.id)).toEqual(ids.slice(10));
    // Every entry processed at least once; only the unacknowledged ones twice (read, then claimed).
    const all = new Set([...processedByDoomed, ...out.map((r) => r.id)]);
    expect([...all].sort()).toEqual([...ids].sort());
    expect(processedByDoomed.filter((id) => out.some((r) => r.id === id))).toEqual([]);
    expect(summary.sources['rescuer']).toMatchObject({ claimed: 5, redelivered: 5, acked: 15 });
    expect((await pendingByConsumer(redis, stream, group)).size).toBe(0);
  });
});
