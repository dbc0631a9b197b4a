/**
 * Checkpoints of parallel runs: a run stopped at a cut and restored with another number of
 * workers — 2 → 3 → 1 (the ordinary single-process run), and 2 → 1 → 2 — writes exactly what
 * an uninterrupted run writes; checkpoints record the key-group count (a single-process run
 * restored from one keeps it), and a restore with another count is refused.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CheckpointError, Pipeline, type RunSummary, fileCheckpoints, runParallel } from 'tidemark';
import resumable from './fixtures/resumable.js';
import { lines, scratchDirs } from './support.js';

const here = dirname(fileURLToPath(import.meta.url));
const module = join(here, 'fixtures/resumable.ts');
const scratch = scratchDirs('tidemark-parallel-cp-');

/** Polls until every `held-<stopAt>-<w>` marker exists (bounded). */
async function held(into: string, stopAt: number, workers: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  const all = (): boolean => Array.from({ length: workers }, (_, w) => existsSync(join(into, `held-${stopAt}-${w}`))).every(Boolean);
  while (!all()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for the readers to reach ${stopAt}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A parallel run held at `stopAt` and then stopped (a final checkpoint), or run to the end. */
async function parallel(parallelism: number, into: string, checkpoints: string, stopAt?: number): Promise<RunSummary> {
  const stop = new AbortController();
  const run = runParallel({
    module, parallelism, args: { into, ...(stopAt === undefined ? {} : { stopAt }) }, signal: stop.signal,
    checkpoints: { store: fileCheckpoints(checkpoints), interval: 50 },
  });
  if (stopAt !== undefined) {
    await Promise.race([held(into, stopAt, parallelism), run]);
    stop.abort('test');
  }
  return run;
}

/** The ordinary single-process run of the same module. */
async function single(into: string, checkpoints?: string, stopAt?: number): Promise<RunSummary> {
  const p = new Pipeline(checkpoints === undefined ? {} : { checkpoints: { store: fileCheckpoints(checkpoints), interval: 50 } });
  resumable(p, { into, ...(stopAt === undefined ? {} : { stopAt }) });
  const run = p.run();
  if (stopAt !== undefined) {
    await Promise.race([held(into, stopAt, 1), run]);
    p.stop('test');
  }
  return run;
}

describe('parallel checkpoints', () => {
  it('2 → 3 → 1 workers: the output equals an uninterrupted run', async () => {
    const expected = scratch();
    await single(expected);
    const into = scratch();
    const cps = scratch();
    const first = await parallel(2, into, cps, 300);
    expect(first.stopped).toBe('test');
    expect(first.checkpoints?.completed).toBeGreaterThan(0);
    const second = await parallel(3, into, cps, 700);
    expect(second.stopped).toBe('test');
    expect(second.checkpoints?.restoredFrom).toBe(first.checkpoints?.lastId);
    const last = await single(into, cps);
    expect(last.stopped).toBeUndefined();
    for (const f of ['counts.jsonl', 'sessions.jsonl']) expect(lines(join(into, f))).toEqual(lines(join(expected, f)));
    expect(lines(join(into, 'counts.jsonl')).length).toBeGreaterThan(100);
  }, 120_000);

  it('2 → 1 → 2 workers; the key-group count stays the one the pipeline first started with', async () => {
    const expected = scratch();
    await single(expected);
    const into = scratch();
    const cps = scratch();
    await parallel(2, into, cps, 300);
    await single(into, cps, 600);
    expect((await fileCheckpoints(cps).latest())?.keyGroups).toBe(128);
    await expect(runParallel({ module, parallelism: 2, keyGroups: 64, args: { into }, checkpoints: { store: fileCheckpoints(cps) } })).rejects.toThrow(CheckpointError);
    const summary = await parallel(2, into, cps);
    expect(summary.stopped).toBeUndefined();
    expect(summary.sources['clicks']?.read).toBe(4_000);
    for (const f of ['counts.jsonl', 'sessions.jsonl']) expect(lines(join(into, f))).toEqual(lines(join(expected, f)));
  }, 120_000);
});
