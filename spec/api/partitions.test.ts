/**
 * Partitioned sources: one watermark generator per partition, combined by the minimum; declared
 * partitions hold the watermark back until they have data; idle partitions leave the minimum;
 * late-appearing partitions join once caught up; results do not depend on chunking.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type LateRecord, ManualClock, Pipeline, type Source, type SourceChunk, type WindowResult, boundedOutOfOrderness,
  collect, count, tumbling,
} from 'tidemark';
import { canonical } from 'tidemark/testing';

interface Ev {
  k: string;
  ts: number;
}

/** A source replaying `chunks` (each `[partition, records]`), with optionally declared partitions. */
function partitioned(chunks: readonly (readonly [number, readonly Ev[]])[], declared?: readonly number[]): Source<Ev> {
  return {
    kind: 'partitioned-test',
    providesTimestamps: false,
    providesWatermarks: false,
    open() {
      let i = 0;
      return {
        ...(declared === undefined ? {} : { partitions: declared }),
        next(): SourceChunk<Ev> | null {
          const c = chunks[i++];
          return c === undefined ? null : { kind: 'records', values: c[1], partition: c[0] };
        },
      };
    },
  };
}

async function run(source: Source<Ev>, clock = new ManualClock()) {
  const p = new Pipeline({ clock });
  const out: WindowResult<string, number>[] = [];
  const late: LateRecord<Ev, string>[] = [];
  const w = p.source(source, { timestamp: (e) => e.ts, watermark: boundedOutOfOrderness(0), name: 'src' })
    .keyBy((e) => e.k).window(tumbling(10)).aggregate(count(), { name: 'w' });
  w.sink(collect(out));
  w.late().sink(collect(late));
  const summary = await p.run();
  return { out, late, summary };
}

const ev = (k: string, ts: number): Ev => ({ k, ts });

describe('partitioned sources', () => {
  it('take the minimum over partitions: a slow partition keeps windows open for its records', async () => {
    const r = await run(partitioned([
      [0, [ev('a', 1), ev('a', 50), ev('a', 90)]],
      [1, [ev('b', 5)]],
      [1, [ev('b', 8), ev('b', 95)]],
    ], [0, 1]));
    // b@5 and b@8 arrive after a@90, yet they are on time: partition 1's watermark was behind.
    expect(r.late).toEqual([]);
    expect(r.out.find((x) => x.key === 'b' && x.window.start === 0)?.value).toBe(2);
  });

  it('a declared partition without records holds the watermark back', async () => {
    const r = await run(partitioned([[0, [ev('a', 1), ev('a', 50)]], [1, [ev('b', 2)]]], [0, 1, 2]));
    expect(r.late).toEqual([]);
    expect(r.out.map((x) => x.pane.timing)).toEqual(['on-time', 'on-time', 'on-time']);
  });

  it('a partition that appears after the watermark advanced joins once caught up; its records behind are late', async () => {
    const r = await run(partitioned([[0, [ev('a', 1), ev('a', 50)]], [7, [ev('c', 3), ev('c', 60)]]]));
    expect(r.late.map((l) => [l.key, l.timestamp])).toEqual([['c', 3]]);
    expect(r.summary.operators['w']?.tooLate).toBe(1);
  });

  it('an idle partition leaves the minimum after idleTimeout (processing time)', async () => {
    const clock = new ManualClock(0);
    let release: (() => void) | undefined;
    const source: Source<Ev> = {
      kind: 'stalling',
      providesTimestamps: false,
      providesWatermarks: false,
      open() {
        let step = 0;
        return {
          partitions: [0, 1],
          async next(): Promise<SourceChunk<Ev> | null> {
            step++;
            if (step === 1) return { kind: 'records', values: [ev('a', 1)], partition: 0 };
            if (step === 2) return { kind: 'records', values: [ev('b', 2)], partition: 1 };
            if (step === 3) return { kind: 'records', values: [ev('a', 40)], partition: 0 };
            if (step === 4) {
              await new Promise<void>((resolve) => (release = resolve)); // partition 1 falls silent
              return { kind: 'records', values: [ev('a', 45)], partition: 0 };
            }
            return null;
          },
        };
      },
    };
    const p = new Pipeline({ clock });
    const out: WindowResult<string, number>[] = [];
    p.source(source, { timestamp: (e) => e.ts, watermark: boundedOutOfOrderness(0, { idleTimeout: 1_000 }) })
      .keyBy((e) => e.k).window(tumbling(10)).aggregate(count()).sink(collect(out));
    const done = p.run();
    for (let i = 0; i < 100 && release === undefined; i++) await new Promise((r) => setImmediate(r));
    expect(out.map((x) => x.window)).toEqual([]); // partition 1 (at 2) holds every window back
    clock.advanceTo(1_000); // partition 1 has been silent for 1 s: it leaves the minimum (then 0 too)
    expect(out.map((x) => [x.key, x.window.start])).toEqual([['a', 0], ['b', 0]]);
    release?.();
    await done;
    expect(out.map((x) => [x.key, x.window.start])).toEqual([['a', 0], ['b', 0], ['a', 40]]);
  });

  it('give the same output however the partitions are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ p: fc.integer({ min: 0, max: 2 }), k: fc.constantFrom('a', 'b'), ts: fc.integer({ min: 0, max: 100 }) }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 5 }),
        async (recs, size) => {
          const singles = recs.map((r) => [r.p, [ev(r.k, r.ts)]] as const);
          // consecutive records of one partition grouped into chunks of up to `size`
          const grouped: [number, Ev[]][] = [];
          for (const r of recs) {
            const last = grouped[grouped.length - 1];
            if (last !== undefined && last[0] === r.p && last[1].length < size) last[1].push(ev(r.k, r.ts));
            else grouped.push([r.p, [ev(r.k, r.ts)]]);
          }
          const a = await run(partitioned(singles, [0, 1, 2]));
          const b = await run(partitioned(grouped, [0, 1, 2]));
          expect(b.out.map(canonical)).toEqual(a.out.map(canonical));
          expect(b.late.map(canonical)).toEqual(a.late.map(canonical));
        },
      ),
      { numRuns: 100 },
    );
  });
});
