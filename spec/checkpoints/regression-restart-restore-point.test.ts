/**
 * Review: a restart restores the store's `latest` checkpoint, even when this run did not start
 * from it (`restore: 'none'` or an older savepoint id) and has not completed a checkpoint of its
 * own yet. The restarted attempt then jumps to another lineage's position and sink epoch.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock, Pipeline, fileCheckpoints, fromArray } from 'tidemark';
import { type MemoryDb, memoryDb, twoPhaseSink } from './support.js';

type Rec = { n: number; ts: number };
const records: Rec[] = Array.from({ length: 50 }, (_, i) => ({ n: i + 1, ts: 1_000 + i }));

function build(dir: string, db: MemoryDb<number>, opts: { restore?: 'none'; failAt?: number; restart?: boolean }): Pipeline {
  let seen = 0;
  const p = new Pipeline({
    clock: new ManualClock(0),
    checkpoints: { store: fileCheckpoints(dir), everyRecords: 1_000, ...(opts.restore === undefined ? {} : { restore: opts.restore }) },
    ...(opts.restart === true ? { restart: { attempts: 1, delay: 0 } } : {}),
  });
  p.source(fromArray(records, { batchSize: 5 }), { timestamp: (r) => r.ts, name: 'numbers' })
    .map((r) => {
      if (++seen === opts.failAt) throw new Error('injected');
      return r.n;
    }, { name: 'maybeFail' })
    .sink(twoPhaseSink(db), { name: 'db' });
  return p;
}

describe('a restart of a run that started elsewhere than the latest checkpoint', () => {
  it("restore: 'none' (start fresh), fail before the first checkpoint, restart: the output is still complete", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-review-restart-'));
    // An earlier run of the same pipeline left its final checkpoint in the store.
    await build(dir, memoryDb<number>(), {}).run();
    // Rebuild the output from scratch into a fresh database.
    const db = memoryDb<number>();
    const summary = await build(dir, db, { restore: 'none', failAt: 12, restart: true }).run();
    expect(summary.restarts).toBe(1);
    expect(db.committed).toEqual(records.map((r) => r.n));
  });
});
