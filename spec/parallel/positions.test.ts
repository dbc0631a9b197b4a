/**
 * Positions of partitioned sources in parallel checkpoints never go backwards: each worker
 * restores only the position entries of the partitions it reads, and the merge takes each
 * partition's entry from its reader — a worker that reads nothing after a restore cannot report a
 * stale entry for another worker's partition (records would be read twice).
 */
import { describe, expect, it } from 'vitest';
import { type Pipeline, type Source, boundedOutOfOrderness, collect, count, fileCheckpoints, tumbling } from 'tidemark';
import { simulateParallel } from 'tidemark/testing';
import { tempDir } from '../checkpoints/support.js';

interface Rec { readonly k: number; readonly t: number }
/** Records per partition: partition 0 is longer than partition 1. */
const LENGTHS = [20, 5];

/** Two partitions read in chunks of 2; each partition stops at `holdAt`, then `onHeld` and wait. */
function source(holdAt: number | undefined, onHeld: () => void): Source<Rec> {
  return {
    kind: 'held', providesTimestamps: false, providesWatermarks: false, replayable: true, partitionCount: 2,
    open(ctx) {
      const parts = ctx.partitions ?? [0, 1];
      const resume = (ctx.resume ?? {}) as Record<string, number>;
      const at = parts.map((p) => resume[String(p)] ?? 0);
      let turn = 0;
      let signalled = false;
      return {
        partitions: parts,
        next() {
          for (let tries = 0; tries < parts.length; tries++) {
            const k = turn++ % parts.length;
            const p = parts[k] as number;
            const limit = Math.min(LENGTHS[p] as number, holdAt ?? Infinity);
            const from = at[k] as number;
            if (from >= limit) continue;
            const to = Math.min(limit, from + 2);
            at[k] = to;
            const values: Rec[] = [];
            for (let i = from; i < to; i++) values.push({ k: i % 3, t: i * 10 });
            return { kind: 'records', values, partition: p, position: Object.fromEntries(parts.map((q, j) => [String(q), at[j] as number])) };
          }
          if (holdAt === undefined || at.every((a, j) => a >= (LENGTHS[parts[j] as number] as number))) return null;
          if (!signalled) {
            signalled = true;
            onHeld();
          }
          return new Promise<null>(() => undefined);
        },
      };
    },
  };
}

const build = (holdAt: number | undefined, onHeld: () => void, out: { value: number }[]) => (p: Pipeline): void => {
  p.source(source(holdAt, onHeld), { name: 'recs', timestamp: (r) => r.t, watermark: boundedOutOfOrderness(0) })
    .keyBy((r) => r.k).window(tumbling(1000), { name: 'w' }).aggregate(count()).sink(collect(out), { name: 'o' });
};

describe('positions of partitioned sources in parallel checkpoints', () => {
  it('a partition read by one worker keeps its advanced position; resuming reads every record once', async () => {
    const store = fileCheckpoints(tempDir('par-positions'));
    const stop1 = new AbortController();
    await simulateParallel(build(5, () => stop1.abort('held'), []), { parallelism: 2, checkpoints: { store }, signal: stop1.signal });
    expect((await store.latest())?.sources['recs']?.position).toEqual({ 0: 5, 1: 5 });
    const stop2 = new AbortController();
    await simulateParallel(build(15, () => stop2.abort('held'), []), { parallelism: 2, checkpoints: { store }, signal: stop2.signal });
    expect((await store.latest())?.sources['recs']?.position).toEqual({ 0: 15, 1: 5 });
    const out: { value: number }[] = [];
    await simulateParallel(build(undefined, () => undefined, out), { parallelism: 1, checkpoints: { store } });
    expect(out.reduce((n, r) => n + r.value, 0)).toBe(25);
  });
});
