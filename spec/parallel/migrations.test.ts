/**
 * Restoring a parallel run from a checkpoint written by another version of the pipeline
 * (simulated workers, and the single-process run for comparison): a changed operator is refused
 * without a migration — with the single-process message — and restored with one (run once, by
 * the coordinator); state of an operator the pipeline no longer has is refused unless
 * `allowNonRestoredState`. Either way the exactly-once output equals an uninterrupted run's.
 */
import { describe, expect, it } from 'vitest';
import { CheckpointError, type Pipeline, boundedOutOfOrderness, count, fileCheckpoints, sum, tumbling } from 'tidemark';
import { canonical, simulateParallel } from 'tidemark/testing';
import { type MemoryDb, memoryDb, tempDir, twoPhaseSink } from '../checkpoints/support.js';
import { type Rec, replayable } from './support.js';

const rs: Rec[] = Array.from({ length: 150 }, (_, id) => ({ id, k: (id * 5) % 13, t: id * 2 }));

interface Version {
  /** `sum(() => 1)` instead of `count()`: the same counts, another state signature. */
  readonly summing?: boolean;
  /** An extra keyed window (with state) the next version drops. */
  readonly extra?: boolean;
  /** Stop (a final checkpoint) once this many records went through. */
  readonly stopAfter?: number;
}

function build(db: MemoryDb<unknown>, v: Version, stop?: AbortController): (p: Pipeline) => void {
  let seen = 0;
  return (p) => {
    const keyed = p.source(replayable(rs, 2), { name: 'recs', timestamp: (r) => r.t, watermark: boundedOutOfOrderness(0) })
      .map((r) => {
        if (v.stopAfter !== undefined && ++seen === v.stopAfter) stop?.abort('version change');
        return r;
      }, { name: 'tap' })
      .keyBy((r) => r.k);
    const windowed = keyed.window(tumbling(20), { name: 'w' });
    (v.summing === true ? windowed.aggregate(sum((_: Rec) => 1)) : windowed.aggregate(count())).sink(twoPhaseSink(db), { name: 'out' });
    if (v.extra === true) keyed.window(tumbling(50), { name: 'extra' }).aggregate(count()).sink(twoPhaseSink(memoryDb()), { name: 'extraOut' });
  };
}

const multiset = (xs: readonly unknown[]): string[] => xs.map(canonical).sort();

async function expected(): Promise<string[]> {
  const db = memoryDb<unknown>();
  await simulateParallel(build(db, {}), { parallelism: 1 });
  return multiset(db.committed);
}

/** Runs version `first` with `before` workers until stopped: the store holds its final checkpoint. */
async function stopped(first: Version, before: number, db: MemoryDb<unknown>): Promise<ReturnType<typeof fileCheckpoints>> {
  const store = fileCheckpoints(tempDir('par-migrate'));
  const stop = new AbortController();
  const summary = await simulateParallel(build(db, { ...first, stopAfter: 60 }, stop), { parallelism: before, batchSize: 4, checkpoints: { store }, signal: stop.signal });
  expect(summary.stopped).toBe('version change');
  return store;
}

describe('parallel restores of another pipeline version', () => {
  it.each([[2, 3], [3, 1], [1, 2]])('a changed operator needs a migration (%i → %i workers)', async (before, after) => {
    const db = memoryDb<unknown>();
    const store = await stopped({}, before, db);
    const refused = simulateParallel(build(db, { summing: true }), { parallelism: after, checkpoints: { store } });
    await expect(refused).rejects.toThrow(CheckpointError);
    await expect(refused).rejects.toThrow(/operator 'w' cannot read its saved state.*supply migrations\['w'\]/);
    const froms: unknown[] = [];
    const summary = await simulateParallel(build(db, { summing: true }), {
      parallelism: after, batchSize: 4,
      checkpoints: { store, migrations: { w: (state, from) => (froms.push(from), state) } },
    });
    expect(summary.stopped).toBeUndefined();
    // Migrated once (by the coordinator, or the single-process restore), from the old signature.
    expect(froms).toHaveLength(1);
    expect(froms[0]).toMatchObject({ kind: 'window:tumbling' });
    expect(String((froms[0] as { signature: string }).signature)).toMatch(/count/);
    expect(multiset(db.committed)).toEqual(await expected());
  });

  it.each([[2, 2], [3, 1], [1, 3]])('state of a dropped operator is refused unless allowNonRestoredState (%i → %i workers)', async (before, after) => {
    const db = memoryDb<unknown>();
    const store = await stopped({ extra: true }, before, db);
    await expect(simulateParallel(build(db, {}), { parallelism: after, checkpoints: { store } })).rejects.toThrow(/state for operator 'extra'.*allowNonRestoredState/);
    const summary = await simulateParallel(build(db, {}), { parallelism: after, batchSize: 4, checkpoints: { store, allowNonRestoredState: true } });
    expect(summary.stopped).toBeUndefined();
    expect(multiset(db.committed)).toEqual(await expected());
  });
});
