/**
 * Regressions found by the crash suite in the file sinks, reproduced in-process.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type CheckpointStore, Pipeline, type Sink, boundedOutOfOrderness, fileCheckpoints, fromArray, toJsonLines } from 'tidemark';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-crash-regression-'));
  dirs.push(dir);
  return dir;
}

describe('toJsonLines keeps the order of its writes', () => {
  it('several batches of one chunk (cut by watermark advances) land in order', async () => {
    const dir = tempDir();
    // Every 7th record is far behind the watermark: the source cuts the chunk there (several sink writes per chunk).
    const records = Array.from({ length: 3_000 }, (_, i) => ({ id: i, ts: 1_600_000_000_000 + i * 10 - (i % 7 === 3 ? 30_000 : 0) }));
    // Whether concurrent writes overtake each other depends on timing: several runs.
    for (let run = 0; run < 8; run++) {
      const path = join(dir, `out-${run}.jsonl`);
      const p = new Pipeline({ batchSize: 50 });
      p.source(fromArray(records, { batchSize: 50 }), { timestamp: (r) => r.ts, watermark: boundedOutOfOrderness(2_000), ordering: 'total' })
        .map((r) => r.id)
        .sink(toJsonLines(path));
      await p.run();
      const ids = readFileSync(path, 'utf8').trim().split('\n').map(Number);
      expect(ids, `run ${run}`).toEqual(records.map((r) => r.id));
    }
  });
});

describe('exactly-once toJsonLines across restarts', () => {
  // Driven through the sink contract by hand: each "attempt" is a fresh sink over the same file,
  // as a restarted process builds it.
  it('a restore from the same checkpoint twice commits that epoch, not a later attempt\'s part of the same name', async () => {
    const path = join(tempDir(), 'out.jsonl');
    // Attempt 1: epoch 1 is pre-committed and its checkpoint written; the process dies before commit.
    const a = toJsonLines<string>(path, { delivery: 'exactly-once' });
    await a.open?.({ name: 'out' });
    await a.write(['aaaa'], [0]);
    const h1 = await a.preCommit?.(1);
    // Attempt 2 restores checkpoint 1 (re-commits epoch 1), stages epoch 2, and dies before checkpoint 2 is durable.
    const b = toJsonLines<string>(path, { delivery: 'exactly-once' });
    await b.open?.({ name: 'out', restored: { checkpointId: 1, handle: h1 } });
    expect(readFileSync(path, 'utf8')).toBe('"aaaa"\n');
    await b.write(['bbbb'], [0]);
    await b.preCommit?.(2);
    // Attempt 3 restores checkpoint 1 again: the file must hold epoch 1's output.
    const c = toJsonLines<string>(path, { delivery: 'exactly-once' });
    await c.open?.({ name: 'out', restored: { checkpointId: 1, handle: h1 } });
    expect(readFileSync(path, 'utf8')).toBe('"aaaa"\n');
  });
});

describe('checkpoint cuts', () => {
  it('a time-based checkpoint waits for the sink writes of the chunks before its cut', async () => {
    // The cut's source position covers every record the sink must have received (and sealed) by
    // preCommit; otherwise a restore from that checkpoint skips records the sink never committed.
    const inner = fileCheckpoints(tempDir());
    let position = -1;
    const store: CheckpointStore = {
      kind: 'probe',
      encodeState: (state) => {
        position = (state.sources['input']?.position as { index: number } | undefined)?.index ?? 0;
        return inner.encodeState(state);
      },
      write: (meta, state, sinks) => inner.write(meta, state, sinks),
      latest: () => inner.latest(),
      load: (id) => inner.load(id),
      list: () => inner.list(),
    };
    let written = 0;
    const cuts: { id: number; position: number; sealed: number }[] = [];
    const sink: Sink<number> = {
      kind: 'slow-probe',
      guarantee: 'exactly-once',
      write: (values) => new Promise((resolve) => setTimeout(() => {
        written += values.length;
        resolve();
      }, 3)),
      preCommit(id) {
        cuts.push({ id, position, sealed: written });
        return { sealed: written };
      },
      commit() {},
    };
    const p = new Pipeline({ checkpoints: { store, interval: 2 } });
    p.source(fromArray(Array.from({ length: 1_500 }, (_, i) => i), { batchSize: 50 }), { timestamp: (i) => 1_600_000_000_000 + i, name: 'input' })
      .map((x) => x)
      .sink(sink, { name: 'probe' });
    await p.run();
    expect(cuts.length).toBeGreaterThan(1);
    expect(cuts.filter((c) => c.sealed !== c.position)).toEqual([]);
  });
});
