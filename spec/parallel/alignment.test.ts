/**
 * Watermark alignment across parallel workers: a source's partitions read on one worker pause
 * while they run more than `maxDrift` ahead of the same group's slowest source read on another
 * worker (the coordinator relays each worker's group minimum), so the drift stays bounded as in
 * a single run; the results are those of parallelism 1 — simulated, and on worker threads. A
 * group whose members all run on worker 0 leaves the other workers alone.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Pipeline, collect, count, fromArray, monotonic, runParallel, tumbling } from 'tidemark';
import { canonical, simulateParallel } from 'tidemark/testing';
import { onePartition } from './fixtures/aligned.js';
import { scratchDirs } from './support.js';

const here = dirname(fileURLToPath(import.meta.url));
const scratch = scratchDirs('tidemark-parallel-align-');

interface Run {
  readonly drift: number;
  readonly pauses: number;
  readonly out: string[];
}

async function run(parallelism: number, aligned: boolean): Promise<Run> {
  const out: unknown[] = [];
  const seen = { fast: -Infinity, slow: -Infinity };
  let drift = 0;
  const build = (p: Pipeline): void => {
    const alignment = aligned ? { alignment: { group: 'replay', maxDrift: 200 } } : {};
    // Worker 1 reads the fast source's records, worker 0 the slow one's (with 2 workers).
    const fast = p.source(onePartition(1, 100, 100), { name: 'fast', timestamp: (t) => t, watermark: monotonic(), ...alignment });
    const slow = p.source(onePartition(0, 100, 10), { name: 'slow', timestamp: (t) => t, watermark: monotonic(), ...alignment });
    fast.map((t) => {
      seen.fast = Math.max(seen.fast, t);
      if (seen.slow > -Infinity && seen.slow < 990) drift = Math.max(drift, seen.fast - seen.slow);
      return `fast ${t}`;
    }, { name: 'tapFast' }).sink(collect(out), { name: 'fastOut' });
    slow.map((t) => {
      seen.slow = Math.max(seen.slow, t);
      return `slow ${t}`;
    }, { name: 'tapSlow' }).sink(collect(out), { name: 'slowOut' });
  };
  const summary = await simulateParallel(build, { parallelism, batchSize: 5 });
  return { drift, pauses: Number(summary.sources['fast']?.['alignmentPauses'] ?? 0), out: out.map(canonical).sort() };
}

describe('watermark alignment across workers', () => {
  it('pauses a source on one worker for the slowest of its group on another', async () => {
    const free = await run(2, false);
    const aligned = await run(2, true);
    const single = await run(1, true);
    expect(free.drift).toBeGreaterThan(5_000);
    expect(aligned.pauses).toBeGreaterThan(0);
    // maxDrift plus one chunk of the fast source (5 records, 500 ms), as in a single run
    // (spec/api/alignment.test.ts); on one worker here the group is one reader of both sources.
    expect(aligned.drift).toBeLessThanOrEqual(200 + 500);
    expect(aligned.out).toEqual(single.out);
    expect(aligned.out).toHaveLength(200);
  });

  it('on worker threads: the fast source on worker 1 pauses for the slow one on worker 0', async () => {
    const into = scratch();
    const summary = await runParallel({ module: join(here, 'fixtures/aligned.ts'), parallelism: 2, args: { into } });
    expect(Number(summary.sources['fast']?.['alignmentPauses'])).toBeGreaterThan(0);
    // In arrival order at the sink (worker 0): how far the fast source got ahead of the slow one.
    const rows = readFileSync(join(into, 'both.jsonl'), 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as { s: string; t: number });
    expect(rows).toHaveLength(4_000);
    const max = { fast: -Infinity, slow: -Infinity };
    let drift = 0;
    for (const r of rows) {
      max[r.s as 'fast' | 'slow'] = Math.max(max[r.s as 'fast' | 'slow'], r.t);
      if (max.slow > -Infinity && max.slow < 19_990) drift = Math.max(drift, max.fast - max.slow);
    }
    // Unaligned, the fast source (200 s of event time) runs through while the slow one reads 20 s.
    expect(drift).toBeLessThan(5_000);
  }, 60_000);
});

describe('an alignment group whose sources all run on worker 0', () => {
  it('workers without a member of the group do not fail: the results are those of parallelism 1', async () => {
    const recs = Array.from({ length: 50 }, (_, i) => ({ k: i % 3, t: i }));
    const run = async (parallelism: number): Promise<string[]> => {
      const out: unknown[] = [];
      await simulateParallel((p: Pipeline) => {
        const opts = { timestamp: (r: { t: number }) => r.t, watermark: monotonic(), alignment: { group: 'g', maxDrift: 10 } };
        const a = p.source(fromArray(recs), { name: 'a', ...opts });
        const b = p.source(fromArray(recs), { name: 'b', ...opts });
        a.union(b).keyBy((r) => r.k).window(tumbling(10)).aggregate(count()).sink(collect(out));
      }, { parallelism });
      return out.map(canonical).sort();
    };
    const expected = await run(1);
    expect(expected.length).toBe(15);
    for (const parallelism of [2, 3]) expect(await run(parallelism)).toEqual(expected);
  });
});
