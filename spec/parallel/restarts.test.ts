/**
 * Restarts and record-count checkpoints of parallel runs (simulated workers): a worker's failure
 * ends the attempt and, with a restart strategy, every worker starts again from the latest
 * checkpoint — the exactly-once output equals an uninterrupted run's, with `restart` events and
 * `summary.restarts`; `everyRecords` checkpoints are counted per worker; attempts run out; a
 * stopped run is not restarted.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Pipeline, type PipelineEvent, boundedOutOfOrderness, count, fileCheckpoints, tumbling } from 'tidemark';
import { canonical, simulateParallel } from 'tidemark/testing';
import { type MemoryDb, memoryDb, tempDir, twoPhaseSink } from '../checkpoints/support.js';
import { type Rec, replayable } from './support.js';

const records = (n: number): Rec[] => Array.from({ length: n }, (_, id) => ({ id, k: (id * 7) % 11, t: id * 3 }));

/** Per-key tumbling counts into an exactly-once sink; `fail(r)` may throw for a record. */
function build(rs: readonly Rec[], db: MemoryDb<unknown>, partitions: number | undefined, fail: (r: Rec) => void): (p: Pipeline) => void {
  return (p) => {
    p.source(replayable(rs, partitions), { name: 'recs', timestamp: (r) => r.t, watermark: boundedOutOfOrderness(0) })
      .map((r) => {
        fail(r);
        return r;
      }, { name: 'check' })
      .keyBy((r) => `k${r.k}`)
      .window(tumbling(30), { name: 'w' })
      .aggregate(count())
      .sink(twoPhaseSink(db), { name: 'out' });
  };
}

const multiset = (xs: readonly unknown[]): string[] => xs.map(canonical).sort();

async function uninterrupted(rs: readonly Rec[], partitions?: number): Promise<string[]> {
  const db = memoryDb<unknown>();
  await simulateParallel(build(rs, db, partitions, () => undefined), { parallelism: 1, checkpoints: { store: fileCheckpoints(tempDir('par-expected')) } });
  return multiset(db.committed);
}

describe('restarts of parallel runs', () => {
  it('a failed worker restarts every worker from the latest checkpoint: the output of an uninterrupted run', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 20, max: 200 }), fc.integer({ min: 2, max: 4 }), fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
      fc.integer({ min: 5, max: 40 }), fc.integer({ min: 0, max: 1_000 }), fc.integer(),
      async (n, parallelism, partitions, every, failAt, seed) => {
        const rs = records(n);
        const db = memoryDb<unknown>();
        const events: PipelineEvent[] = [];
        let failures = 0;
        const failing = failAt % n;
        const summary = await simulateParallel(build(rs, db, partitions, (r) => {
          if (r.id === failing && failures === 0) {
            failures++;
            throw new Error(`boom at ${r.id}`);
          }
        }), {
          parallelism, seed, batchSize: 4, restart: { attempts: 2, delay: 10 }, onEvent: (e) => events.push(e),
          checkpoints: { store: fileCheckpoints(tempDir('par-restart')), everyRecords: every },
        });
        expect(failures).toBe(1);
        expect(summary.restarts).toBe(1);
        expect(events.filter((e) => e.type === 'restart')).toMatchObject([{ type: 'restart', attempt: 1, delayMs: 10 }]);
        expect(multiset(db.committed)).toEqual(await uninterrupted(rs, partitions));
      },
    ), { numRuns: 25 });
  }, 120_000);

  it('everyRecords: a checkpoint each time a worker has read that many records (counted per worker)', async () => {
    const rs = records(120);
    const db = memoryDb<unknown>();
    const events: PipelineEvent[] = [];
    // One unpartitioned source, read by worker 0: 120 records, a checkpoint every 30 (3 records a chunk).
    const summary = await simulateParallel(build(rs, db, undefined, () => undefined), {
      parallelism: 3, batchSize: 4, onEvent: (e) => events.push(e), checkpoints: { store: fileCheckpoints(tempDir('par-every')), everyRecords: 30 },
    });
    // 4 by record count (at 30, 60, 90, 120 records) and the final one.
    expect(summary.checkpoints?.completed).toBe(5);
    expect(events.filter((e) => e.type === 'checkpoint-completed')).toHaveLength(5);
    expect(multiset(db.committed)).toEqual(await uninterrupted(rs));
    // Four partitions on two workers: each worker counts its own reads (60 each: 2 + 2, and the final one).
    const partitioned = await simulateParallel(build(rs, memoryDb(), 4, () => undefined), {
      parallelism: 2, batchSize: 4, checkpoints: { store: fileCheckpoints(tempDir('par-every-p')), everyRecords: 30 },
    });
    expect(partitioned.checkpoints?.completed).toBeGreaterThanOrEqual(3);
    expect(partitioned.checkpoints?.completed).toBeLessThanOrEqual(5);
  });

  it('fails with the error once the attempts are used up', async () => {
    const events: PipelineEvent[] = [];
    const run = simulateParallel(build(records(50), memoryDb(), 2, (r) => {
      if (r.id === 17) throw new Error('always boom');
    }), {
      parallelism: 2, restart: { attempts: 2, delay: 5, strategy: 'fixed-delay' }, onEvent: (e) => events.push(e),
      checkpoints: { store: fileCheckpoints(tempDir('par-exhausted')), everyRecords: 10 },
    });
    await expect(run).rejects.toThrow(/always boom/);
    expect(events.filter((e) => e.type === 'restart').map((e) => (e as { attempt: number }).attempt)).toEqual([1, 2]);
  });
});
