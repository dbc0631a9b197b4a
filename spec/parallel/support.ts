/**
 * Helpers of the parallel tests: scratch directories removed after the file's tests, the sorted
 * lines of an output file (outputs compared as multisets), and a replayable (optionally
 * partitioned) source for checkpoint and restart tests.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { Source } from 'tidemark';

/** A function returning fresh scratch directories, all removed after the calling file's tests. */
export function scratchDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}

/** The non-empty lines of `file`, sorted. */
export function lines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).sort();
}

/** A record of the replayable test source. */
export interface Rec {
  readonly id: number;
  readonly k: number;
  readonly t: number;
}

/**
 * A replayable source over `records`, in `partitions` partitions (record i in partition i mod P)
 * when given — positions are objects keyed by partition, so they merge across workers — read in
 * chunks of 3, partitions in turn. With `holdAt`, each reader stops reading a partition at that
 * index and, once all of its partitions are held, calls `onHeld` and waits (a test then stops the run).
 */
export function replayable(records: readonly Rec[], partitions?: number, hold?: { readonly at: number; readonly onHeld: () => void }): Source<Rec> {
  const count = partitions ?? 1;
  return {
    kind: 'replayable-recs',
    providesTimestamps: false,
    providesWatermarks: false,
    replayable: true,
    ...(partitions === undefined ? {} : { partitionCount: partitions }),
    open(ctx) {
      const parts = ctx.partitions ?? Array.from({ length: count }, (_, p) => p);
      const data = parts.map((p) => records.filter((_, i) => i % count === p));
      const resume = (ctx.resume ?? {}) as Record<string, number>;
      const at = parts.map((p) => resume[String(p)] ?? 0);
      let turn = 0;
      let signalled = false;
      return {
        ...(partitions === undefined ? {} : { partitions: parts }),
        next() {
          for (let tries = 0; tries < parts.length; tries++) {
            const k = turn++ % parts.length;
            const rows = data[k] as Rec[];
            const from = at[k] as number;
            const limit = hold === undefined ? rows.length : Math.min(rows.length, hold.at);
            if (from >= limit) continue;
            const to = Math.min(limit, from + 3);
            at[k] = to;
            const position = Object.fromEntries(parts.map((p, j) => [String(p), at[j] as number]));
            return { kind: 'records', values: rows.slice(from, to), position, ...(partitions === undefined ? {} : { partition: parts[k] as number }) };
          }
          if (hold === undefined || at.every((a, j) => a >= (data[j] as Rec[]).length)) return null;
          if (!signalled) {
            signalled = true;
            hold.onHeld();
          }
          return new Promise<null>(() => undefined);
        },
      };
    },
  };
}
