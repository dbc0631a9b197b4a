/**
 * Joins in whole pipelines: two real sources with their own watermarks, names in the run summary,
 * `late()` routing, and dead letters upstream of a join staying out of the join's counters.
 */
import { describe, expect, it } from 'vitest';
import { Pipeline, boundedOutOfOrderness, collect, fromArray, tumbling } from 'tidemark';
import './setup.js';
import type { JoinLateRecord, JoinPair } from './setup.js';

interface Click { ad: string; ts: number }
interface View { ad: string; ts: number }

describe('joins in pipelines', () => {
  it('runs all three joins over two sources; names reach the summary', async () => {
    const p = new Pipeline({ batchSize: 3 });
    const clicks = p.source(fromArray<Click>([
      { ad: 'x', ts: 1_000 }, { ad: 'y', ts: 2_000 }, { ad: 'x', ts: 9_000 }, { ad: 'x', ts: 30_000 },
    ]), { timestamp: (c) => c.ts, watermark: boundedOutOfOrderness(0), name: 'clicks' });
    const views = p.source(fromArray<View>([
      { ad: 'x', ts: 500 }, { ad: 'y', ts: 1_900 }, { ad: 'x', ts: 8_000 }, { ad: 'z', ts: 8_500 },
    ]), { timestamp: (v) => v.ts, watermark: boundedOutOfOrderness(0), name: 'views' });
    const c = clicks.keyBy((x) => x.ad);
    const v = views.keyBy((x) => x.ad);
    const interval: JoinPair<Click, View | undefined>[] = [];
    const windowed: string[] = [];
    const temporal: JoinPair<Click, View | undefined>[] = [];
    c.intervalJoin(v, { lower: -1_000, upper: 0, type: 'left', name: 'attributed' }).sink(collect(interval));
    c.windowJoin(v, tumbling(10_000), { name: 'perWindow' })
      .apply((ad, w, cs, vs) => [`${ad}@${w.start}: ${cs.length} clicks, ${vs.length} views`]).sink(collect(windowed));
    c.temporalJoin(v, { name: 'lastView' }).sink(collect(temporal));
    const s = await p.run();
    expect(interval.map((x) => `${x.left.ts}-${x.right?.ts ?? '∅'}`).sort()).toEqual(['1000-500', '2000-1900', '30000-∅', '9000-8000']);
    expect(windowed.sort()).toEqual(['x@0: 2 clicks, 2 views', 'y@0: 1 clicks, 1 views']);
    expect(temporal.map((x) => `${x.left.ts}-${x.right?.ts ?? '∅'}`).sort()).toEqual(['1000-500', '2000-1900', '30000-8000', '9000-8000']);
    expect(Object.keys(s.operators)).toEqual(expect.arrayContaining(['attributed', 'perWindow', 'lastView', 'lastView.table']));
    for (const name of ['attributed', 'perWindow', 'lastView']) {
      const op = s.operators[name] as Record<string, number>;
      expect(op['in']).toBe((op['accepted'] as number) + (op['tooLate'] as number) + (op['deadLettered'] as number));
    }
  });

  it('routes late records through late(); bad keys are dead-lettered upstream, not by the join', async () => {
    const p = new Pipeline({ batchSize: 1 });
    // One source for both sides, so the late record is late on every schedule.
    const src = p.source(fromArray([
      { side: 'v', ad: 'x', ts: 9_500 }, { side: 'c', ad: 'x', ts: 10_000 }, { side: 'c', ad: 'x', ts: 20_000 },
      { side: 'v', ad: 'x', ts: 1_000 }, { side: 'v', ad: null as unknown as string, ts: 20_500 },
    ]), { timestamp: (r) => r.ts, watermark: boundedOutOfOrderness(0), name: 'events' });
    const late: JoinLateRecord<unknown, unknown, string>[] = [];
    const out: unknown[] = [];
    const joined = src.filter((r) => r.side === 'c').keyBy((r) => r.ad)
      .intervalJoin(src.filter((r) => r.side === 'v').keyBy((r) => r.ad), { lower: -1_000, upper: 0, name: 'j' });
    joined.sink(collect(out));
    joined.late().sink(collect(late));
    const s = await p.run();
    expect(out).toHaveLength(1);
    expect(late.map((l) => [l.side, l.timestamp])).toEqual([['right', 1_000]]);
    expect(s.deadLetters).toBe(1);
    expect(s.operators['j']).toMatchObject({ in: 4, accepted: 3, tooLate: 1, deadLettered: 0, late: 1 });
  });
});
