/**
 * Watermark alignment: a fast source of an alignment group pauses while it is more than
 * `maxDrift` ahead of the slowest source, so the drift stays bounded; without alignment it grows.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock, Pipeline, PlanError, type Source, type SourceChunk, forEach, fromArray, monotonic } from 'tidemark';

async function maxDrift(aligned: boolean): Promise<{ drift: number; pauses: number }> {
  const fast = Array.from({ length: 100 }, (_, i) => i * 100); // 10 s of event time
  const slow = Array.from({ length: 100 }, (_, i) => i * 10); // 1 s of event time
  const p = new Pipeline({ clock: new ManualClock(), batchSize: 10 });
  const seen = { fast: -Infinity, slow: -Infinity };
  let drift = 0;
  const alignment = aligned ? { alignment: { group: 'replay', maxDrift: 200 } } : {};
  const track = (side: 'fast' | 'slow') => forEach<number>((t) => {
    seen[side] = Math.max(seen[side], t);
    // while both run (once the slow source has ended, the fast one may run free)
    if (seen.slow > -Infinity && seen.slow < 990 && seen.fast > -Infinity) drift = Math.max(drift, seen.fast - seen.slow);
  });
  p.source(fromArray(fast), { timestamp: (t) => t, watermark: monotonic(), name: 'fast', ...alignment }).sink(track('fast'));
  p.source(fromArray(slow), { timestamp: (t) => t, watermark: monotonic(), name: 'slow', ...alignment }).sink(track('slow'));
  const s = await p.run();
  return { drift, pauses: (s.sources['fast']?.['alignmentPauses'] as number | undefined) ?? 0 };
}

describe('watermark alignment', () => {
  it('keeps the fast source within maxDrift (plus one chunk) of the slow one', async () => {
    const free = await maxDrift(false);
    const aligned = await maxDrift(true);
    expect(free.drift).toBeGreaterThan(5_000);
    expect(aligned.drift).toBeLessThanOrEqual(200 + 1_000); // one chunk of the fast source spans 1 s
    expect(aligned.pauses).toBeGreaterThan(0);
  });

  it('validates its options', () => {
    const p = new Pipeline({ clock: new ManualClock() });
    expect(() => p.source(fromArray([1]), { timestamp: (t) => t, alignment: { group: '', maxDrift: 10 } })).toThrow(PlanError);
    expect(() => p.source(fromArray([1]), { timestamp: (t) => t, alignment: { group: 'g', maxDrift: -1 } })).toThrow(/maxDrift must be ≥ 0/);
  });
});

describe('watermark alignment of partitions', () => {
  it('pauses a partition running ahead of the slowest one, through reader.pause', async () => {
    const pauses: number[][] = [];
    const source: Source<{ p: number; t: number }> = {
      kind: 'two-speed',
      providesTimestamps: false,
      providesWatermarks: false,
      open() {
        const next = [0, 0]; // next index per partition
        const step = [100, 10]; // partition 0 runs 10× faster in event time
        let paused: ReadonlySet<number> = new Set();
        let turn = 0;
        return {
          partitions: [0, 1],
          pause(p) {
            paused = p;
            pauses.push([...p]);
          },
          next(): SourceChunk<{ p: number; t: number }> | null {
            for (let k = 0; k < 2; k++) {
              const part = (turn + k) % 2;
              if ((next[part] as number) >= 100 || (paused.has(part) && (next[1 - part] as number) < 100)) continue;
              turn = part + 1;
              const from = next[part] as number;
              next[part] = from + 10;
              const values = Array.from({ length: 10 }, (_, i) => ({ p: part, t: (from + i) * (step[part] as number) }));
              return { kind: 'records', values, partition: part };
            }
            return null;
          },
        };
      },
    };
    const p = new Pipeline({ clock: new ManualClock() });
    const seen = [-Infinity, -Infinity];
    let drift = 0;
    p.source(source, { timestamp: (r) => r.t, watermark: monotonic(), name: 's', alignment: { group: 'g', maxDrift: 200 } })
      .sink(forEach(({ p: part, t }) => {
        seen[part] = Math.max(seen[part]!, t);
        if (seen[1]! > -Infinity && seen[1]! < 990) drift = Math.max(drift, seen[0]! - seen[1]!);
      }));
    const summary = await p.run();
    expect(pauses.some((x) => x.includes(0))).toBe(true);
    expect(pauses.some((x) => x.includes(1))).toBe(false);
    expect(summary.sources['s']?.['alignmentPauses']).toBeGreaterThan(0);
    expect(drift).toBeLessThanOrEqual(200 + 1_000);
  });
});
