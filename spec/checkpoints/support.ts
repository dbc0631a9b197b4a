/**
 * Test support for checkpoint specs: an in-memory "database" with an exactly-once (two-phase
 * commit) sink over it that survives pipeline runs (as a real database survives a crash), a
 * stateful custom operator (running sum per key) with a snapshot, and a temp directory helper.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OperatorFactory, Sink } from 'tidemark';

/** What survives a crash: committed rows, staged epochs, the fence, and a log of protocol calls. */
export interface MemoryDb<T> {
  committed: T[];
  staged: Map<number, T[]>;
  fence: number;
  calls: string[];
}

export function memoryDb<T>(): MemoryDb<T> {
  return { committed: [], staged: new Map(), fence: 0, calls: [] };
}

/** An exactly-once sink over `db` following the engine's two-phase commit contract. */
export function twoPhaseSink<T>(db: MemoryDb<T>): Sink<T> {
  let buffer: T[] = [];
  const commit = (id: number): void => {
    if (db.fence >= id) return;
    for (const [epoch, rows] of [...db.staged.entries()].sort((a, b) => a[0] - b[0])) {
      if (epoch > id) continue;
      db.committed.push(...rows);
      db.staged.delete(epoch);
    }
    db.fence = id;
  };
  return {
    kind: 'memory-2pc',
    guarantee: 'exactly-once',
    open(ctx) {
      buffer = [];
      db.calls.push(ctx.restored === undefined ? 'open' : `open restored ${ctx.restored.checkpointId}`);
      if (ctx.restored !== undefined) {
        commit(ctx.restored.checkpointId);
        for (const epoch of [...db.staged.keys()]) if (epoch > ctx.restored.checkpointId) db.staged.delete(epoch);
      }
    },
    write(values) {
      buffer.push(...values);
    },
    preCommit(id) {
      db.calls.push(`preCommit ${id}`);
      db.staged.set(id, buffer);
      const rows = buffer.length;
      buffer = [];
      return Promise.resolve({ rows });
    },
    commit(id) {
      db.calls.push(`commit ${id}`);
      commit(id);
    },
  };
}

/** A keyed running sum (`{ key, sum }` per record) whose state is checkpointed. */
export function runningSum(options: { signature?: string; version?: number } = {}): OperatorFactory {
  return {
    kind: 'running-sum',
    stateVersion: options.version ?? 1,
    stateSignature: options.signature ?? 'running-sum v1',
    build(ctx, resume) {
      const sums = new Map<string, number>();
      if (resume !== undefined) {
        const entries = (resume as { sums?: unknown }).sums;
        if (!Array.isArray(entries)) throw new Error('expected { sums: [[key, sum], …] }');
        for (const [k, v] of entries as [string, number][]) sums.set(k, v);
      }
      return {
        onBatch(batch) {
          for (let i = 0; i < batch.values.length; i++) {
            const r = batch.values[i] as { key: string; n: number };
            const s = (sums.get(r.key) ?? 0) + r.n;
            sums.set(r.key, s);
            ctx.out.emit({ key: r.key, sum: s }, batch.times[i] as number);
          }
        },
        snapshot: () => ({ sums: [...sums.entries()] }),
      };
    },
  };
}

/** A fresh temporary directory. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `tidemark-${prefix}-`));
}

/** Seeded input: `n` records over `keys` keys, timestamps increasing. */
export function inputs(n: number, keys = 7): { key: string; n: number; ts: number }[] {
  return Array.from({ length: n }, (_, i) => ({ key: `k${(i * 31) % keys}`, n: (i % 13) + 1, ts: 1_000 + i * 10 }));
}
