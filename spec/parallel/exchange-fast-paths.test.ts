/**
 * The exchange's fast paths keep results identical to one worker:
 * - co-partitioned input (each partition holds only keys whose key group its worker owns, as a
 *   producer partitioning by `partitionOfKeyGroup(keyGroupOf(key, G), P)` writes them): every
 *   record reaches its keyed operator as the very object the source emitted (no copy, no encode),
 *   while shuffled input makes copies of the records that cross; both give one worker's results;
 * - fields sent once (a field equal to the record's key or to its timestamp): values arrive
 *   unchanged, −0 and 0 told apart.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Pipeline, type Source, boundedOutOfOrderness, collect, fromArray, keyGroupOf, partitionOfKeyGroup, sum, tumbling,
} from 'tidemark';
import { canonical, simulateParallel } from 'tidemark/testing';

interface Rec {
  readonly id: number;
  readonly k: string;
  readonly t: number;
}

const PARTITIONS = 4;
const KEY_GROUPS = 128;

/** A source of `parts[p]` in partition p (chunks of 5). */
function partitioned(parts: readonly (readonly Rec[])[]): Source<Rec> {
  return {
    kind: 'test-partitioned',
    providesTimestamps: false,
    providesWatermarks: false,
    partitionCount: parts.length,
    open(ctx) {
      const mine = ctx.partitions ?? parts.map((_, p) => p);
      const at = mine.map(() => 0);
      let turn = 0;
      return {
        partitions: mine,
        next() {
          for (let tries = 0; tries < mine.length; tries++) {
            const j = turn++ % mine.length;
            const rows = parts[mine[j] as number] as readonly Rec[];
            const from = at[j] as number;
            if (from >= rows.length) continue;
            at[j] = Math.min(rows.length, from + 5);
            return { kind: 'records', values: rows.slice(from, at[j]), partition: mine[j] as number };
          }
          return null;
        },
      };
    },
  };
}

/** Records of keys `k0…k(keys−1)` in ascending time, each in its key's partition or in partition id mod P. */
function input(records: number, keys: number, coPartitioned: boolean): Rec[][] {
  const parts: Rec[][] = Array.from({ length: PARTITIONS }, () => []);
  for (let id = 0; id < records; id++) {
    const k = `k${(id * 7) % keys}`;
    const p = coPartitioned ? partitionOfKeyGroup(keyGroupOf(k, KEY_GROUPS), PARTITIONS) : id % PARTITIONS;
    (parts[p] as Rec[]).push({ id, k, t: id * 3 });
  }
  return parts;
}

async function run(parts: readonly (readonly Rec[])[], parallelism: number, seed: number): Promise<{ sums: unknown[]; copies: number }> {
  const emitted = new Set<Rec>(parts.flat());
  const sums: unknown[] = [];
  let copies = 0;
  const build = (p: Pipeline): void => {
    p.source(partitioned(parts), { timestamp: (r) => r.t, watermark: boundedOutOfOrderness(0) })
      .keyBy((r) => r.k)
      .process<Rec>({
        onRecord: (r, ctx) => {
          if (!emitted.has(r)) copies++;
          ctx.emit(r);
        },
      })
      .keyBy((r) => r.k)
      .window(tumbling(50))
      .aggregate(sum((r: Rec) => r.id))
      .sink(collect(sums));
  };
  await simulateParallel(build, { parallelism, seed, keyGroups: KEY_GROUPS, batchSize: 16 });
  return { sums: sums.map(canonical).sort(), copies };
}

describe('exchange fast paths', () => {
  it('co-partitioned input reaches the keyed operator uncopied; shuffled input is copied where it crosses; both equal one worker', async () => {
    for (const parallelism of [2, 4]) {
      for (const seed of [1, 2, 3]) {
        const co = input(400, 23, true);
        const one = await run(co, 1, seed);
        const many = await run(co, parallelism, seed);
        expect(many.copies).toBe(0);
        expect(many.sums).toEqual(one.sums);
        const shuffled = input(400, 23, false);
        const s1 = await run(shuffled, 1, seed);
        const sn = await run(shuffled, parallelism, seed);
        expect(sn.copies).toBeGreaterThan(0);
        expect(sn.sums).toEqual(s1.sums);
        expect(sn.sums).toEqual(one.sums);
      }
    }
  });

  it('fields equal to the key or to the timestamp arrive unchanged (−0 and 0 told apart)', async () => {
    const zeroish = fc.constantFrom(0, -0, 1, 2.5);
    const rec = fc.record({ t: fc.constantFrom(0, -0, 1, 7), at: fc.option(zeroish, { nil: undefined }), key: fc.oneof(zeroish, fc.constantFrom('a', 'b')), same: fc.option(zeroish, { nil: undefined }) });
    await fc.assert(
      fc.asyncProperty(fc.array(rec, { maxLength: 25 }), fc.integer({ min: 2, max: 3 }), fc.integer(), async (rs, parallelism, seed) => {
        // `at` is the timestamp unless given (then maybe a zero of the other sign); `k` likewise for the key.
        const records = rs.map((r, id) => ({ id, key: r.key, k: r.same ?? r.key, at: r.at ?? r.t, t: r.t }));
        const out: unknown[] = [];
        await simulateParallel((p) => {
          p.source(fromArray(records), { timestamp: (r) => r.t })
            .keyBy((r) => r.key)
            .process({ onRecord: (r, ctx) => ctx.emit(r) })
            .sink(collect(out));
        }, { parallelism, seed, batchSize: 6 });
        expect([...(out as typeof records)].sort((a, b) => a.id - b.id)).toStrictEqual(records);
      }),
      { numRuns: 150 },
    );
  }, 60_000);
});
