/**
 * Every source, operator and sink accepts `{ name }`, and the run summary reports it by that name.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock, Pipeline, collect, count, fromArray, monotonic, tumbling } from 'tidemark';

describe('names', () => {
  it('are accepted everywhere and used by the summary', async () => {
    const p = new Pipeline({ clock: new ManualClock() });
    const rows = [{ k: 'a', ts: 1 }, { k: 'b', ts: 2 }];
    const a = p.source(fromArray(rows), { timestamp: (r) => r.ts, watermark: monotonic(), name: 'left', ordering: 'total' });
    const b = p.source(fromArray(rows), { timestamp: (r) => r.ts, name: 'right' });
    const both = a.map((r) => r, { name: 'ident' }).filter(() => true, { name: 'all' }).flatMap((r) => [r], { name: 'flat' })
      .union([b], { name: 'both' });
    const keyed = both.keyBy((r) => r.k, { name: 'byK' });
    keyed.window(tumbling(10), { name: 'win' }).aggregate(count()).sink(collect([]), { name: 'counts' });
    keyed.window(tumbling(10)).process((k) => [k], { name: 'proc' }).sink(collect([]), { name: 'keys' });
    keyed.sortByEventTime({ name: 'sorted' }).scan((n: number) => n + 1, 0, { name: 'running' }).sink(collect([]), { name: 'totals' });
    const s = await p.run();
    expect(Object.keys(s.sources).sort()).toEqual(['left', 'right']);
    expect(Object.keys(s.operators).sort()).toEqual(['all', 'both', 'byK', 'flat', 'ident', 'proc', 'running', 'sorted', 'win']);
    expect(Object.keys(s.sinks).sort()).toEqual(['counts', 'keys', 'totals']);
    expect(s.operators['both']?.in).toBe(4);
  });

  it('must be unique', () => {
    const p = new Pipeline({ clock: new ManualClock() });
    const a = p.source(fromArray([1]), { timestamp: (n) => n, name: 'x' });
    expect(() => a.map((n) => n, { name: 'x' })).toThrow(/the name 'x' is already used/);
    expect(() => a.union([a], { name: 'x' })).toThrow(/already used/);
  });
});
