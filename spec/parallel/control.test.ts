/**
 * Controlling a parallel run on worker threads (`startParallel`): counters reported by the
 * workers while it runs, a savepoint across all workers on request, a stop with a final
 * checkpoint, a restore from the savepoint with another number of workers; and a restart after a
 * worker's failure — each time the output equals an uninterrupted single-process run's.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PlanError, Pipeline, type PipelineEvent, fileCheckpoints, runParallel, startParallel } from 'tidemark';
import resumable from './fixtures/resumable.js';
import { lines, scratchDirs } from './support.js';

const here = dirname(fileURLToPath(import.meta.url));
const module = join(here, 'fixtures/resumable.ts');
const scratch = scratchDirs('tidemark-parallel-control-');

/** Polls `ready` every 20 ms until it holds (bounded: 30 s). */
async function until(ready: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function uninterrupted(): Promise<string> {
  const dir = scratch();
  const p = new Pipeline();
  resumable(p, { into: dir });
  await p.run();
  return dir;
}

describe('startParallel', () => {
  it('reports counters, takes a savepoint on request, stops with a final checkpoint, and resumes from the savepoint', async () => {
    const expected = await uninterrupted();
    const into = scratch();
    const cps = scratch();
    const store = fileCheckpoints(cps);
    const events: PipelineEvent[] = [];
    const run = startParallel({ module, parallelism: 2, args: { into, stopAt: 300 }, checkpoints: { store }, reportInterval: 20, onEvent: (e) => events.push(e) });
    await until(() => existsSync(join(into, 'held-300-0')) && existsSync(join(into, 'held-300-1')), 'the readers to hold');
    // 4 partitions × 300 records read, summed over both workers' reports.
    await until(() => run.summary()?.sources['clicks']?.read === 1_200, 'the counters');
    const savepoint = await run.savepoint();
    expect(savepoint.type).toBe('savepoint');
    run.stop('test');
    const summary = await run.done;
    expect(summary.stopped).toBe('test');
    expect(summary.checkpoints?.lastId).toBeGreaterThan(savepoint.id);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['checkpoint-completed', 'stopping']));
    await expect(run.savepoint()).rejects.toThrow(PlanError);
    // Another run from the savepoint, with three workers: the final checkpoint's epoch is already
    // committed, so the restart from the earlier savepoint must not write anything twice.
    const resumed = await runParallel({ module, parallelism: 3, args: { into }, checkpoints: { store: fileCheckpoints(cps), restore: savepoint.id } });
    expect(resumed.checkpoints?.restoredFrom).toBe(savepoint.id);
    expect(resumed.sources['clicks']?.read).toBe(4_000);
    for (const f of ['counts.jsonl', 'sessions.jsonl']) expect(lines(join(into, f))).toEqual(lines(join(expected, f)));
  }, 120_000);

  it('restarts every worker after a failure, from the latest checkpoint (exactly-once output)', async () => {
    const expected = await uninterrupted();
    const into = scratch();
    const events: PipelineEvent[] = [];
    const summary = await runParallel({
      module, parallelism: 3, args: { into, failOnce: join(into, 'failed-once') },
      checkpoints: { store: fileCheckpoints(scratch()), interval: 20 },
      restart: { attempts: 2, delay: 10 }, onEvent: (e) => events.push(e),
    });
    expect(summary.restarts).toBe(1);
    const restart = events.find((e) => e.type === 'restart') as Extract<PipelineEvent, { type: 'restart' }>;
    expect(String((restart.error as Error).message)).toMatch(/failing once/);
    expect(summary.sources['clicks']?.read).toBeGreaterThan(0);
    for (const f of ['counts.jsonl', 'sessions.jsonl']) expect(lines(join(into, f))).toEqual(lines(join(expected, f)));
  }, 120_000);

  it('validates restart, everyRecords, migrations and reportInterval at once', () => {
    expect(() => startParallel({ module, parallelism: 2, restart: { attempts: -1 } })).toThrow(/tidemark.runParallel: restart: attempts/);
    expect(() => startParallel({ module, parallelism: 2, checkpoints: { store: fileCheckpoints(scratch()), everyRecords: 0 } })).toThrow(/checkpoints.everyRecords must be a positive integer/);
    expect(() => startParallel({ module, parallelism: 2, checkpoints: { store: fileCheckpoints(scratch()), migrations: { w: 1 as never } } })).toThrow(/checkpoints.migrations/);
    expect(() => startParallel({ module, parallelism: 2, reportInterval: 1 })).toThrow(/reportInterval must be ≥ 10 ms/);
  });
});
