/**
 * Failures of parallel runs never hang them: a checkpoint whose write or commit fails after the
 * sinks sealed its epoch releases every worker's pause and fails the run (or, with a restart
 * strategy, restarts it from the latest checkpoint); periodic checkpoints go on until every
 * worker has finished.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type CheckpointStore, type Pipeline, boundedOutOfOrderness, count, fileCheckpoints, runParallel, tumbling } from 'tidemark';
import { canonical, simulateParallel } from 'tidemark/testing';
import { type MemoryDb, memoryDb, tempDir, twoPhaseSink } from '../checkpoints/support.js';
import { type Rec, replayable } from './support.js';

const records = (n: number): Rec[] => Array.from({ length: n }, (_, id) => ({ id, k: (id * 7) % 11, t: id * 3 }));

function build(rs: readonly Rec[], db: MemoryDb<unknown>): (p: Pipeline) => void {
  return (p) => {
    p.source(replayable(rs, 4), { name: 'recs', timestamp: (r) => r.t, watermark: boundedOutOfOrderness(0) })
      .keyBy((r) => `k${r.k}`)
      .window(tumbling(30), { name: 'w' })
      .aggregate(count())
      .sink(twoPhaseSink(db), { name: 'out' });
  };
}

/** A file store whose `write` rejects while `failing()` says so. */
function failingStore(failing: () => boolean): CheckpointStore {
  const store = fileCheckpoints(tempDir('par-failing'));
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key === 'write') {
        return (...args: Parameters<CheckpointStore['write']>) => (failing() ? Promise.reject(new Error('disk full')) : target.write(...args));
      }
      const v: unknown = Reflect.get(target, key, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('failed checkpoints of parallel runs', () => {
  it('a write that fails after sealing rejects the run instead of hanging it', async () => {
    for (const parallelism of [2, 3]) {
      const db = memoryDb<unknown>();
      const run = simulateParallel(build(records(120), db), { parallelism, checkpoints: { store: failingStore(() => true), everyRecords: 10 } });
      await expect(run).rejects.toMatchObject({ name: 'SealedCheckpointError' });
    }
  }, 20_000);

  it('with a restart strategy, a failed checkpoint restarts the run: the output of an uninterrupted run', async () => {
    const rs = records(150);
    const expectedDb = memoryDb<unknown>();
    await simulateParallel(build(rs, expectedDb), { parallelism: 1, checkpoints: { store: fileCheckpoints(tempDir('par-expected')) } });
    let writes = 0;
    const db = memoryDb<unknown>();
    const summary = await simulateParallel(build(rs, db), {
      parallelism: 2,
      restart: { attempts: 3, delay: 1 },
      checkpoints: { store: failingStore(() => ++writes === 2), everyRecords: 15 },
    });
    expect(summary.restarts).toBe(1);
    expect(db.committed.map(canonical).sort()).toEqual(expectedDb.committed.map(canonical).sort());
  }, 20_000);
});

describe('periodic checkpoints of parallel runs (worker threads)', () => {
  it('go on while a worker with nothing placed on it has already finished', async () => {
    const dir = tempDir('par-periodic');
    const summary = await runParallel({
      module: fileURLToPath(new URL('./fixtures/waits-for-checkpoints.ts', import.meta.url)),
      parallelism: 2,
      args: { dir, checkpoints: 3 },
      checkpoints: { store: fileCheckpoints(dir), interval: 30 },
    });
    expect(summary.checkpoints?.completed).toBeGreaterThanOrEqual(3);
  }, 30_000);
});
