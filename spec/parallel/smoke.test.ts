import { describe, expect, it } from 'vitest';
import { boundedOutOfOrderness, collect, count, fromArray, tumbling, type Pipeline } from 'tidemark';
import { finalResults, simulateParallel } from 'tidemark/testing';

describe('smoke', () => {
  it('runs', async () => {
    const recs = Array.from({ length: 5000 }, (_, i) => ({ k: `k${i % 37}`, t: i * 3 + (i % 7) * 5 }));
    const run = async (n: number, seed: number) => {
      const out: unknown[] = [];
      const late: unknown[] = [];
      const build = (p: Pipeline) => {
        const w = p.source(fromArray(recs), { timestamp: (r) => r.t, watermark: boundedOutOfOrderness(10) })
          .keyBy((r) => r.k).window(tumbling(100)).aggregate(count());
        w.sink(collect(out));
        w.late().sink(collect(late));
      };
      const summary = await simulateParallel(build, { parallelism: n, seed, batchSize: 64 });
      return { out, late, summary };
    };
    const a = await run(1, 1);
    const b = await run(3, 5);
    expect(b.out.length).toBe(a.out.length);
    expect(finalResults(b.out)).toEqual(finalResults(a.out));
    expect(b.late.length).toBe(a.late.length);
    expect(b.summary.lateRecords).toBe(a.summary.lateRecords);
    console.log(JSON.stringify(b.summary.operators), a.late.length);
  });
});
