/**
 * The engine against the reference model: for random window specs, allowed lateness,
 * accumulation modes and arrival orders that may exceed the watermark bound, every emitted pane
 * (value, timing, index, final, timestamp), every late record and every counter must match.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonical, harness, referenceWindows } from 'tidemark/testing';
import { type Steps, ids, lateScenario, lateness, windowPipeline, windowing } from './scenarios.js';
import type { Rec } from './scenarios.js';
import type { RefWindowing } from 'tidemark/testing';

function runEngine(w: RefWindowing<Rec>, L: number, acc: 'accumulating' | 'discarding', steps: Steps, perWindowState = false) {
  const h = harness(windowPipeline(w, L, acc, perWindowState));
  for (const s of steps) {
    if (s.kind === 'record') h.addElement(s.value, s.timestamp);
    else h.advanceWatermarkTo(s.time);
  }
  h.finish();
  const panes = h.takeOutputWithTimestamps().map(({ value: r, timestamp }) =>
    canonical({ key: r.key, window: r.window, value: r.value, pane: r.pane, timestamp }));
  const late = h.takeLate().map((l) => canonical({ ...l, value: (l.value as Rec).id }));
  const op = h.summary().operators['w'];
  return { panes, late, op };
}

describe('window operators match the reference model', () => {
  it('panes, late records and counters, under any arrival order and watermarks', () => {
    fc.assert(
      fc.property(
        windowing,
        lateness,
        fc.constantFrom<'accumulating' | 'discarding'>('accumulating', 'discarding'),
        lateScenario,
        fc.boolean(),
        (w, L, acc, steps, perWindowState) => {
          const ref = referenceWindows(steps, { key: (r: Rec) => r.k, windowing: w, aggregate: ids, allowedLateness: L, accumulation: acc });
          const eng = runEngine(w, L, acc, steps, perWindowState);
          const refPanes = ref.panes.map((p) => canonical({ key: p.key, window: p.window, value: p.value, pane: p.pane, timestamp: p.timestamp }));
          expect(eng.panes.slice().sort()).toEqual(refPanes.slice().sort());
          const refLate = ref.late.map((l) => canonical({ value: l.value.id, timestamp: l.timestamp, key: l.key, missedWindows: l.missedWindows }));
          expect(eng.late.slice().sort()).toEqual(refLate.slice().sort());
          expect(eng.op).toMatchObject({ in: ref.counts.in, accepted: ref.counts.accepted, tooLate: ref.counts.tooLate, tooLatePairs: ref.counts.tooLatePairs });
          expect(eng.op?.['in']).toBe((eng.op?.['accepted'] as number) + (eng.op?.['tooLate'] as number) + (eng.op?.['deadLettered'] as number));
          expect(eng.op?.['openWindows']).toBe(0);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('panes of one window are numbered 0, 1, 2… and only the last can be final', () => {
    fc.assert(
      fc.property(windowing, lateness, lateScenario, (w, L, steps) => {
        const h = harness(windowPipeline(w, L, 'accumulating'));
        for (const s of steps) {
          if (s.kind === 'record') h.addElement(s.value, s.timestamp);
          else h.advanceWatermarkTo(s.time);
        }
        h.finish();
        const byWindow = new Map<string, { index: number; final: boolean }[]>();
        for (const r of h.takeOutput()) {
          const id = `${r.key}|${r.window.start}|${r.window.end}`;
          byWindow.set(id, [...(byWindow.get(id) ?? []), r.pane]);
        }
        for (const panes of byWindow.values()) {
          expect(panes.map((p) => p.index)).toEqual(panes.map((_, i) => i));
          expect(panes.slice(0, -1).every((p) => !p.final)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('with thousands of keys (ids retired, swept and reused)', () => {
  it('still matches the reference model', () => {
    const many = fc.array(
      fc.record({ t: fc.integer({ min: 0, max: 4_000 }), k: fc.integer({ min: 0, max: 2_999 }), gap: fc.integer({ min: 1, max: 60 }) }),
      { minLength: 3_000, maxLength: 4_000 },
    ).map((rs) => rs.map((r, id) => ({ value: { id, k: r.k, gap: r.gap }, timestamp: r.t })).sort((a, b) => a.timestamp - b.timestamp));
    fc.assert(
      fc.property(
        fc.constantFrom<RefWindowing<Rec>>({ kind: 'tumbling', size: 50 }, { kind: 'sliding', size: 100, slide: 30 }, { kind: 'session', gap: 40 }),
        lateness,
        many,
        fc.integer({ min: 0, max: 80 }),
        (w, L, recs, bound) => {
          // arrival: timestamp order with some records held back by up to 3 × bound (so some are late)
          const steps: Steps = [];
          let max = -Infinity;
          const held = recs.map((r, i) => ({ r, at: r.timestamp + ((i * 7919) % 13 === 0 ? 3 * bound : 0) })).sort((a, b) => a.at - b.at);
          for (const { r } of held) {
            steps.push({ kind: 'record', value: r.value, timestamp: r.timestamp });
            if (r.timestamp > max) {
              max = r.timestamp;
              steps.push({ kind: 'watermark', time: max - bound - 1 });
            }
          }
          const ref = referenceWindows(steps, { key: (r: Rec) => r.k, windowing: w, aggregate: ids, allowedLateness: L });
          const eng = runEngine(w, L, 'accumulating', steps);
          const refPanes = ref.panes.map((p) => canonical({ key: p.key, window: p.window, value: p.value, pane: p.pane, timestamp: p.timestamp }));
          expect(eng.panes.slice().sort()).toEqual(refPanes.sort());
          expect(eng.late.length).toBe(ref.late.length);
        },
      ),
      { numRuns: 6 },
    );
  });
});
