/**
 * `runParallel` with real worker threads: results equal a single-worker run's; a partitioned
 * source is read by every worker (each its own partitions), a non-partitioned one once; dead
 * letters arrive; a worker's error fails the run with that error; options are validated.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PlanError, type RunSummary, runParallel } from 'tidemark';
import { lines, scratchDirs } from './support.js';

const here = dirname(fileURLToPath(import.meta.url));
const module = join(here, 'fixtures/counts.ts');
const scratch = scratchDirs('tidemark-parallel-');

async function run(parallelism: number, args: Record<string, unknown>): Promise<{ dir: string; summary: RunSummary }> {
  const dir = scratch();
  const summary = await runParallel({ module, parallelism, args: { ...args, into: dir }, batchSize: 256 });
  return { dir, summary };
}

describe('runParallel (worker threads)', () => {
  it('gives the results of parallelism 1, reads a non-partitioned source once, and delivers dead letters', async () => {
    const one = await run(1, {});
    const two = await run(2, {});
    for (const f of ['counts.jsonl', 'sliding.jsonl', 'dead.jsonl']) expect(lines(join(two.dir, f))).toEqual(lines(join(one.dir, f)));
    expect(lines(join(two.dir, 'counts.jsonl')).length).toBeGreaterThan(100);
    expect(lines(join(two.dir, 'dead.jsonl')).length).toBe(40);
    expect(two.summary.sources['clicks']?.read).toBe(4_000);
    expect(two.summary.deadLetters).toBe(40);
    expect(two.summary.operators['perUser']?.in).toBe(one.summary.operators['perUser']?.in);
    expect(two.summary.sinks).toEqual(one.summary.sinks);
  }, 60_000);

  it('a partitioned source is read by every worker, each its own partitions, with the same results', async () => {
    const one = await run(1, { partitioned: true, readers: true });
    const three = await run(3, { partitioned: true, readers: true });
    for (const f of ['counts.jsonl', 'sliding.jsonl', 'dead.jsonl']) expect(lines(join(three.dir, f))).toEqual(lines(join(one.dir, f)));
    // 4 partitions of 1000 records: worker 0 reads partitions 0 and 3, workers 1 and 2 one each.
    const readers = lines(join(three.dir, 'readers.jsonl')).map((l) => JSON.parse(l) as { worker: number; read: number });
    expect(readers.sort((a, b) => a.worker - b.worker)).toEqual([{ worker: 0, read: 2_000 }, { worker: 1, read: 1_000 }, { worker: 2, read: 1_000 }]);
    expect(three.summary.sources['clicks']?.read).toBe(4_000);
    expect(three.summary.lateRecords).toBe(0);
  }, 60_000);

  it("a worker's error fails the run with that error", async () => {
    const dir = scratch();
    const failing = runParallel({ module, parallelism: 2, args: { into: dir, failKey: 'u5' } });
    await expect(failing).rejects.toThrow(/boom for u5/);
    await expect(failing).rejects.toMatchObject({ name: 'UserFunctionError' });
  }, 60_000);

  it('validates its options', async () => {
    await expect(runParallel({ module, parallelism: 0 })).rejects.toThrow(/tidemark.runParallel: parallelism must be/);
    await expect(runParallel({ module, parallelism: 4, keyGroups: 2 })).rejects.toThrow(/keyGroups \(2\) must be ≥ parallelism \(4\)/);
    await expect(runParallel({ module, parallelism: 2, keyGroups: 12 })).rejects.toThrow(/tidemark.runParallel: keyGroups must be a power of two/);
    await expect(runParallel({ module, parallelism: 2, checkpoints: {} as never })).rejects.toThrow(/tidemark.runParallel: checkpoints.store must be/);
    await expect(runParallel({ module, parallelism: 2, batchSize: 0 })).rejects.toThrow(PlanError);
    await expect(runParallel({ module: join(here, 'fixtures/missing.ts'), parallelism: 2 })).rejects.toThrow(/missing\.ts/);
  }, 60_000);
});
