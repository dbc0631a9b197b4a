/**
 * Review: a savepoint that fails after the sinks pre-committed (here: the store cannot write it)
 * rejects `pipeline.savepoint()` but lets the run go on. The sinks' sealed epoch is never
 * committed, and the next checkpoint commits only its own epoch: a sink that does what the
 * contract says (commit(k) makes epoch k visible) silently loses that output; the exactly-once
 * JSON-lines sink fails the next commit with a misleading "truncated outside the pipeline" error.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CheckpointStore, ManualClock, Pipeline, type Sink, type Source, type SourceChunk, fileCheckpoints, toJsonLines } from 'tidemark';

type Rec = { n: number };

const dir = (p: string): string => mkdtempSync(join(tmpdir(), `tm-review-${p}-`));

/** Records 1..n, one per chunk, positioned; calls `onRead(i)` before handing out record i. */
function numbers(n: number, onRead: (i: number) => void): Source<Rec> {
  return {
    kind: 'numbers',
    providesTimestamps: true,
    providesWatermarks: false,
    replayable: true,
    open(ctx) {
      let i = typeof ctx.resume === 'number' ? ctx.resume : 0;
      return {
        next(): SourceChunk<Rec> | null {
          if (i >= n) return null;
          i++;
          onRead(i);
          return { kind: 'records', values: [{ n: i }], timestamps: [i], position: i };
        },
      };
    },
  };
}

/** A file store whose writes of savepoints fail (a full disk, a lost connection…). */
function savepointsFail(inner: CheckpointStore): CheckpointStore {
  return {
    kind: 'failing',
    encodeState: (s) => inner.encodeState(s),
    write: (meta, state, sinks) => (meta.type === 'savepoint' ? Promise.reject(new Error('ENOSPC: no space left on device')) : inner.write(meta, state, sinks)),
    latest: () => inner.latest(),
    load: (id) => inner.load(id),
    list: () => inner.list(),
  };
}

/** A two-phase sink that makes exactly epoch k visible at commit(k), as `engine/sink.ts` specifies. */
function perEpochSink(visible: number[]): Sink<Rec> {
  let buffer: number[] = [];
  const staged = new Map<number, number[]>();
  return {
    kind: 'per-epoch-2pc',
    guarantee: 'exactly-once',
    write(values) {
      buffer.push(...values.map((v) => v.n));
    },
    preCommit(id) {
      staged.set(id, buffer);
      buffer = [];
      return null;
    },
    commit(id) {
      visible.push(...(staged.get(id) ?? []));
      staged.delete(id);
    },
  };
}

async function runWithFailingSavepoint(sink: Sink<Rec>): Promise<{ outcome: string; savepoint: string }> {
  let savepoint: Promise<unknown> | undefined;
  const p = new Pipeline({ clock: new ManualClock(0), checkpoints: { store: savepointsFail(fileCheckpoints(dir('cp'))) } });
  p.source(numbers(6, (i) => {
    if (i === 4) savepoint = p.savepoint().catch((e: unknown) => e);
  }), { name: 'numbers' }).sink(sink, { name: 'out' });
  const outcome = await p.run().then(() => 'completed', (e: unknown) => `failed: ${String(e)}`);
  return { outcome, savepoint: String(await savepoint) };
}

describe('a savepoint that fails after the sinks sealed their epoch', () => {
  it('does not lose that epoch from a sink that commits epoch by epoch', async () => {
    const visible: number[] = [];
    const { outcome, savepoint } = await runWithFailingSavepoint(perEpochSink(visible));
    expect(savepoint).toMatch(/ENOSPC/);
    // Either the run fails with the savepoint's error (a restart restores the last complete
    // checkpoint), or nothing is lost.
    if (outcome === 'completed') expect(visible).toEqual([1, 2, 3, 4, 5, 6]);
    else expect(outcome).toMatch(/ENOSPC/);
  });

  it('does not make the exactly-once JSON-lines sink fail later with a misleading error', async () => {
    const path = join(dir('jsonl'), 'out.jsonl');
    const { outcome, savepoint } = await runWithFailingSavepoint(toJsonLines<Rec>(path, { delivery: 'exactly-once' }) as Sink<Rec>);
    expect(savepoint).toMatch(/ENOSPC/);
    if (outcome === 'completed') expect(readFileSync(path, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as Rec).n)).toEqual([1, 2, 3, 4, 5, 6]);
    else expect(outcome).toMatch(/ENOSPC/);
  });
});
