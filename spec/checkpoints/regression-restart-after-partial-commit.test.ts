/**
 * Review 2: a checkpoint that was written durably and committed by one sink, but whose commit
 * failed at another sink, must be the point a restart continues from — restarting from where the
 * run started instead re-appends the first sink's committed output (duplicates in an
 * "exactly-once" event log).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventLog, ManualClock, Pipeline, type Sink, fileCheckpoints, fromArray } from 'tidemark';

const dirs: string[] = [];
const temp = async (): Promise<string> => {
  const d = await mkdtemp(join(tmpdir(), 'tidemark-rv2-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('review2: restart after a partially committed checkpoint', () => {
  it('the exactly-once log sink holds each record once after a restart caused by another sink\'s failed commit', async () => {
    const log = await EventLog.open<{ n: number }>(await temp(), { partitions: 2 });
    try {
      let commits = 0;
      const flaky: Sink<{ n: number }> = {
        kind: 'flaky',
        guarantee: 'exactly-once',
        write() {},
        preCommit: () => ({}),
        commit() {
          if (++commits === 1) throw new Error('commit failed once');
        },
      };
      const input = Array.from({ length: 20 }, (_, i) => ({ n: i }));
      const p = new Pipeline({
        clock: new ManualClock(),
        batchSize: 5,
        checkpoints: { store: fileCheckpoints(await temp()), everyRecords: 10 },
        restart: { strategy: 'fixed-delay', attempts: 2, delay: 0 },
      });
      const s = p.source(fromArray(input), { timestamp: (v) => v.n });
      s.sink(log.sink({ key: (v) => `k${v.n}`, delivery: 'exactly-once' }), { name: 'log' });
      s.sink(flaky, { name: 'flaky' });
      await p.run();
      const ns: number[] = [];
      for await (const r of log.read()) ns.push(r.value.n);
      expect(ns.sort((a, b) => a - b)).toEqual(input.map((v) => v.n));
    } finally {
      await log.close();
    }
  });
});
