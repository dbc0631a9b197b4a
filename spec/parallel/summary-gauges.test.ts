/**
 * The combined summary of a parallel run does not sum gauges blindly: a stopped run's
 * `openWindows` of a keyed window is the number of windows open (each worker holds panes of the
 * same window bounds for its own keys), as in a single run; counters are still summed.
 */
import { describe, expect, it } from 'vitest';
import { type Pipeline, boundedOutOfOrderness, collect, count, tumbling } from 'tidemark';
import { simulateParallel } from 'tidemark/testing';
import { type Rec, replayable } from './support.js';

const records: Rec[] = Array.from({ length: 60 }, (_, id) => ({ id, k: id % 13, t: id }));

async function stopped(parallelism: number): Promise<Record<string, unknown>> {
  const stop = new AbortController();
  let held = 0;
  const build = (p: Pipeline): void => {
    p.source(replayable(records, 4, { at: 12, onHeld: () => {
      if (++held === Math.min(parallelism, 4)) stop.abort('held');
    } }), { name: 'recs', timestamp: (r) => r.t, watermark: boundedOutOfOrderness(0) })
      .keyBy((r) => r.k).window(tumbling(1_000), { name: 'w' }).aggregate(count()).sink(collect([]), { name: 'o' });
  };
  const summary = await simulateParallel(build, { parallelism, signal: stop.signal });
  return summary.operators['w'] as Record<string, unknown>;
}

describe('gauges in the combined summary of a parallel run', () => {
  it('openWindows of a stopped keyed window equals the single run; counters are summed', async () => {
    const single = await stopped(1);
    expect(single['openWindows']).toBe(1);
    for (const parallelism of [2, 3]) {
      const w = await stopped(parallelism);
      expect(w['openWindows']).toBe(1);
      expect(w['in']).toBe(single['in']);
    }
  });
});
