/**
 * Review: `pipeline.savepoint()` after the run has ended is not refused: it takes a "savepoint" of
 * the finished runtime, calling preCommit/commit on sinks that were already closed and writing a
 * new newest checkpoint into the store.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock, Pipeline, type Sink, fileCheckpoints, fromArray } from 'tidemark';

describe('savepoint() after the run ended', () => {
  it('is refused and does not touch the closed sinks', async () => {
    const calls: string[] = [];
    const sink: Sink<number> = {
      kind: 'logging-2pc',
      guarantee: 'exactly-once',
      write: () => undefined,
      preCommit: (id) => (calls.push(`preCommit ${id}`), null),
      commit: (id) => void calls.push(`commit ${id}`),
      close: () => void calls.push('close'),
    };
    const store = fileCheckpoints(mkdtempSync(join(tmpdir(), 'tm-review-sp-')));
    const p = new Pipeline({ clock: new ManualClock(0), checkpoints: { store } });
    p.source(fromArray([1, 2, 3]), { timestamp: (n) => n }).sink(sink, { name: 'out' });
    await p.run();
    const result = await p.savepoint().then((info) => `written: savepoint ${info.id}`, (e: unknown) => `refused: ${String(e)}`);
    expect(result).toMatch(/^refused/);
    expect(calls.slice(calls.indexOf('close') + 1)).toEqual([]);
    expect((await store.list()).map((c) => c.type)).toEqual(['checkpoint']);
  });
});
