/**
 * Shared helpers for the join specs: record shapes, arrival orders of two inputs within a
 * disorder bound, a runner that feeds them through the join harness, and a runner for one-source
 * pipelines split into both join inputs (for batch-size independence).
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { type DeadLetter, type RunSummary, type Stream, Pipeline, boundedOutOfOrderness, collect, fromArray } from 'tidemark';
import { canonical } from 'tidemark/testing';
import { joinHarness } from './setup.js';

/** A record of either input. */
export interface Ev {
  readonly id: string;
  readonly k: string;
  readonly ts: number;
}

/** A record of the one-source pipelines, tagged with the input it goes to. */
export interface SideEv extends Ev {
  readonly side: 'L' | 'R';
}

export type Step =
  | { kind: 'left'; ev: Ev }
  | { kind: 'right'; ev: Ev }
  | { kind: 'watermark'; w: number };

/** Records of both sides: keys a/b, timestamps in [0, maxTs], ids L0…, R0…. */
export function sides(maxTs = 60, maxLength = 14): fc.Arbitrary<{ lefts: Ev[]; rights: Ev[] }> {
  const recs = (prefix: string) => fc.array(
    fc.record({ k: fc.constantFrom('a', 'b'), ts: fc.integer({ min: 0, max: maxTs }) }),
    { maxLength },
  ).map((xs) => xs.map((x, i) => ({ id: `${prefix}${i}`, k: x.k, ts: x.ts })));
  return fc.record({ lefts: recs('L'), rights: recs('R') });
}

/**
 * An arrival order of both inputs within `maxDisorder`, with watermarks `maxSeen − maxDisorder − 1`
 * (both inputs) after random arrivals: no record is ever late.
 */
export function arrival(lefts: readonly Ev[], rights: readonly Ev[], delays: readonly number[], marks: readonly boolean[], maxDisorder: number): Step[] {
  const all = [
    ...lefts.map((ev, i) => ({ kind: 'left' as const, ev, i })),
    ...rights.map((ev, i) => ({ kind: 'right' as const, ev, i: i + lefts.length })),
  ].map((x) => ({ ...x, at: x.ev.ts + Math.min(maxDisorder, delays[x.i % delays.length] ?? 0) }))
    .sort((a, b) => a.at - b.at || a.i - b.i);
  const steps: Step[] = [];
  let maxSeen = -Infinity;
  let lastW = -Infinity;
  all.forEach((x, j) => {
    steps.push(x.kind === 'left' ? { kind: 'left', ev: x.ev } : { kind: 'right', ev: x.ev });
    maxSeen = Math.max(maxSeen, x.ev.ts);
    const w = maxSeen - maxDisorder - 1;
    if (marks[j % marks.length] === true && w > lastW) {
      steps.push({ kind: 'watermark', w });
      lastW = w;
    }
  });
  return steps;
}

/** Steps in timestamp order (lefts before rights at equal timestamps), no watermarks. */
export function sortedSteps(lefts: readonly Ev[], rights: readonly Ev[]): Step[] {
  return arrival(lefts, rights, [0], [false], 0);
}

/** Arbitrary delays and watermark marks for `arrival`. */
export const disorder = fc.record({
  delays: fc.array(fc.nat({ max: 20 }), { minLength: 1, maxLength: 16 }),
  marks: fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
});

/** Runs `steps` through a join harness; returns canonical outputs (with timestamps) and the summary. */
export function runSteps<O>(build: (l: Stream<Ev>, r: Stream<Ev>) => Stream<O>, steps: readonly Step[]): { out: string[]; summary: RunSummary; late: unknown[] } {
  const h = joinHarness(build);
  for (const s of steps) {
    if (s.kind === 'left') h.addLeft(s.ev, s.ev.ts);
    else if (s.kind === 'right') h.addRight(s.ev, s.ev.ts);
    else h.advanceWatermarkTo(s.w);
  }
  h.finish();
  const out = h.takeOutputWithTimestamps().map((x) => `${x.timestamp}:${canonical(x.value)}`);
  return { out, summary: h.summary(), late: h.takeLate() };
}

/** Sorted copy. */
export const sorted = (xs: readonly string[]): string[] => [...xs].sort();

/** `{ left, right }` rendered with ids only, for readable expectations. */
export function ids(o: { left?: Ev | undefined; right?: Ev | undefined }): string {
  return `${o.left?.id ?? '-'}|${o.right?.id ?? '-'}`;
}

/** Events of a one-source pipeline: side, key, timestamp (a few invalid ones become dead letters). */
export const sideEvents = fc.array(
  fc.record({ side: fc.constantFrom('L' as const, 'R' as const), k: fc.constantFrom('a', 'b', 'c'), ts: fc.integer({ min: 0, max: 80 }) }),
  { minLength: 1, maxLength: 50 },
).map((xs) => xs.map((x, i): SideEv => ({ id: `${x.side}${i}`, ...x })));

export interface SplitRun {
  out: string[];
  late: string[];
  dead: string[];
  summary: RunSummary;
  /** Outputs (non-late by design) that reached the downstream probe at or behind its watermark. */
  behind: string[];
  watermarks: number[];
}

/**
 * Runs one source split into the two join inputs (so both inputs share one watermark sequence)
 * at `batchSize`, observing the join's output watermark and records behind it.
 */
export async function runSplit<O>(
  build: (l: Stream<SideEv>, r: Stream<SideEv>) => Stream<O> & { late(): Stream<unknown> },
  evs: readonly SideEv[],
  batchSize: number,
  bound: number,
): Promise<SplitRun> {
  const p = new Pipeline({ batchSize, maxFutureSkew: false });
  const out: string[] = [];
  const late: unknown[] = [];
  const dead: DeadLetter[] = [];
  const behind: string[] = [];
  const watermarks: number[] = [];
  const src = p.source(fromArray(evs), { timestamp: (e) => e.ts, watermark: boundedOutOfOrderness(bound), name: 'src' });
  const joined = build(src.filter((e) => e.side === 'L'), src.filter((e) => e.side === 'R'));
  joined.transform<O>({
    kind: 'probe',
    build: (ctx) => ({
      onBatch({ values, times }) {
        for (let i = 0; i < values.length; i++) {
          const t = times[i] as number;
          const line = `${t}:${canonical(values[i])}`;
          if (t <= ctx.watermark) behind.push(line);
          out.push(line);
        }
      },
      onWatermark(w) {
        watermarks.push(w);
      },
    }),
  }, { name: 'probe' }).sink(collect([]));
  joined.late().sink(collect(late));
  p.deadLetters().sink(collect(dead));
  const summary = await p.run();
  return { out, late: late.map(canonical), dead: dead.map(canonical), summary, behind, watermarks };
}

/**
 * The stateful-operator contract for one split run of the join named 'join': watermarks strictly
 * increasing and ending at +∞, conservation (`in = accepted + tooLate + deadLettered`), and no
 * state left at the end (`buffered`, `keys`, `openWindows`, `versions` all 0 when reported).
 */
export function expectContract(r: SplitRun): void {
  for (let i = 1; i < r.watermarks.length; i++) expect(r.watermarks[i]).toBeGreaterThan(r.watermarks[i - 1] as number);
  expect(r.watermarks.at(-1)).toBe(Infinity);
  const op = r.summary.operators['join'] as Record<string, number>;
  expect(op['in']).toBe((op['accepted'] as number) + (op['tooLate'] as number) + (op['deadLettered'] as number));
  for (const k of ['buffered', 'keys', 'openWindows', 'versions']) expect(op[k] ?? 0).toBe(0);
  const src = r.summary.sources['src'];
  expect(src?.read).toBe((src?.emitted ?? 0) + (src?.deadLettered ?? 0));
}
