/**
 * Review: a restart restores the store's `latest` checkpoint, even when this run did not start
 * from it (`restore: 'none'` or an older savepoint id) and has not completed a checkpoint of its
 * own yet. The restarted attempt then jumps to another lineage's position and sink epoch.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock, Pipeline, type Sink, fileCheckpoints, fromArray } from 'tidemark';

type Rec = { n: number; ts: number };
const records: Rec[] = Array.from({ length: 50 }, (_, i) => ({ n: i + 1, ts: 1_000 + i }));

/** An exactly-once sink over `db` (committed rows survive runs, like a database). */
function twoPhase(db: { committed: number[]; staged: Map<number, number[]>; fence: number }): Sink<Rec> {
  let buffer: number[] = [];
  const commit = (id: number): void => {
    if (db.fence >= id) return;
    for (const [e, rows] of [...db.staged].sort((a, b) => a[0] - b[0])) if (e <= id) {
      db.committed.push(...rows);
      db.staged.delete(e);
    }
    db.fence = id;
  };
  return {
    kind: 'memory-2pc',
    guarantee: 'exactly-once',
    open(ctx) {
      buffer = [];
      if (ctx.restored !== undefined) {
        commit(ctx.restored.checkpointId);
        for (const e of [...db.staged.keys()]) if (e > ctx.restored.checkpointId) db.staged.delete(e);
      }
    },
    write(values) {
      buffer.push(...values.map((v) => v.n));
    },
    preCommit(id) {
      db.staged.set(id, buffer);
      buffer = [];
      return null;
    },
    commit,
  };
}

function build(dir: string, db: Parameters<typeof twoPhase>[0], opts: { restore?: 'none'; failAt?: number; restart?: boolean }): Pipeline {
  let seen = 0;
  const p = new Pipeline({
    clock: new ManualClock(0),
    checkpoints: { store: fileCheckpoints(dir), everyRecords: 1_000, ...(opts.restore === undefined ? {} : { restore: opts.restore }) },
    ...(opts.restart === true ? { restart: { attempts: 1, delay: 0 } } : {}),
  });
  p.source(fromArray(records, { batchSize: 5 }), { timestamp: (r) => r.ts, name: 'numbers' })
    .map((r) => {
      if (++seen === opts.failAt) throw new Error('injected');
      return r;
    }, { name: 'maybeFail' })
    .sink(twoPhase(db), { name: 'db' });
  return p;
}

describe('a restart of a run that started elsewhere than the latest checkpoint', () => {
  it("restore: 'none' (start fresh), fail before the first checkpoint, restart: the output is still complete", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-review-restart-'));
    // An earlier run of the same pipeline left its final checkpoint in the store.
    await build(dir, { committed: [], staged: new Map(), fence: 0 }, {}).run();
    // Rebuild the output from scratch into a fresh database.
    const db = { committed: [] as number[], staged: new Map<number, number[]>(), fence: 0 };
    const summary = await build(dir, db, { restore: 'none', failAt: 12, restart: true }).run();
    expect(summary.restarts).toBe(1);
    expect(db.committed).toEqual(records.map((r) => r.n));
  });
});
