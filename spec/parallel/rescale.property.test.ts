/**
 * Checkpoints restore across numbers of workers: a random windowed pipeline over randomly
 * disordered input (late records included), stopped at a random point with p₁ simulated workers
 * (a final checkpoint) and resumed with p₂ — 1 to 4 each, the ordinary single-worker run among
 * them — commits through its exactly-once sinks exactly the panes and late records of an
 * uninterrupted run. A partitioned source (each worker reads its partitions; positions merged by
 * partition), on input without late records, gives the same panes but for their `final` flag
 * (how far the partitions' minimum watermark jumps depends on how reads interleave), the same
 * final results, and never a pane after one marked final.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Pipeline, boundedOutOfOrderness, count, fileCheckpoints, session, sliding, tumbling } from 'tidemark';
import { canonical, finalResults, simulateParallel } from 'tidemark/testing';
import { type MemoryDb, memoryDb, tempDir, twoPhaseSink } from '../checkpoints/support.js';
import { type Rec, replayable } from './support.js';

interface Scenario {
  readonly records: Rec[];
  readonly bound: number;
  readonly window: { kind: 'tumbling'; size: number } | { kind: 'sliding'; size: number; slide: number } | { kind: 'session'; gap: number };
  readonly lateness: number;
  readonly holdAt: number;
  readonly before: number;
  readonly after: number;
  readonly seed: number;
}

const scenario = (maxJitter: number): fc.Arbitrary<Scenario> => fc.record({
  records: fc.array(fc.record({ k: fc.integer({ min: 0, max: 12 }), jitter: fc.integer({ min: 0, max: maxJitter }) }), { minLength: 1, maxLength: 80 })
    .map((rs) => rs.map((r, id) => ({ id, k: r.k, t: Math.max(0, id * 4 - r.jitter) }))),
  bound: fc.constant(maxJitter === 0 ? 0 : 10),
  window: fc.oneof(
    fc.integer({ min: 5, max: 40 }).map((size) => ({ kind: 'tumbling' as const, size })),
    fc.integer({ min: 5, max: 20 }).chain((slide) => fc.integer({ min: slide, max: slide * 3 }).map((size) => ({ kind: 'sliding' as const, size, slide }))),
    fc.integer({ min: 3, max: 20 }).map((gap) => ({ kind: 'session' as const, gap })),
  ),
  lateness: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 30 })),
  holdAt: fc.integer({ min: 0, max: 60 }),
  before: fc.integer({ min: 1, max: 4 }),
  after: fc.integer({ min: 1, max: 4 }),
  seed: fc.integer(),
});

interface Dbs {
  readonly panes: MemoryDb<unknown>;
  readonly late: MemoryDb<unknown>;
}

function build(s: Scenario, partitions: number | undefined, holdAt: number | undefined, onHeld: () => void, dbs: Dbs): (p: Pipeline) => void {
  return (p) => {
    const w = s.window;
    const assigner = w.kind === 'tumbling' ? tumbling(w.size) : w.kind === 'sliding' ? sliding(w.size, w.slide) : session(w.gap);
    const counted = p.source(replayable(s.records, partitions, holdAt === undefined ? undefined : { at: holdAt, onHeld }), { name: 'recs', timestamp: (r) => r.t, watermark: boundedOutOfOrderness(s.bound) })
      .keyBy((r) => `k${r.k}`)
      .window(assigner, { allowedLateness: s.lateness, name: 'w' })
      .aggregate(count());
    counted.sink(twoPhaseSink(dbs.panes), { name: 'panes' });
    counted.late().sink(twoPhaseSink(dbs.late), { name: 'late' });
  };
}

const multiset = (xs: readonly unknown[]): string[] => xs.map(canonical).sort();

interface Pane {
  readonly key: unknown;
  readonly window: { readonly start: number; readonly end: number };
  readonly pane: { readonly final: boolean };
}

/** A pane without its `final` flag. */
const withoutFinal = (x: unknown): unknown => {
  const { pane, ...rest } = x as Pane;
  const { final: _final, ...info } = pane;
  return { ...rest, pane: info };
};

/** The windows that emitted a pane after one marked final (in commit order): must be none. */
function updatedAfterFinal(panes: readonly unknown[]): string[] {
  const closed = new Set<string>();
  const out: string[] = [];
  for (const x of panes as Pane[]) {
    const id = `${canonical(x.key)}|${x.window.start}`;
    if (closed.has(id)) out.push(id);
    if (x.pane.final) closed.add(id);
  }
  return out;
}

async function check(s: Scenario, partitions: number | undefined): Promise<void> {
  const expected: Dbs = { panes: memoryDb(), late: memoryDb() };
  await simulateParallel(build(s, partitions, undefined, () => undefined, expected), { parallelism: 1 });
  const dbs: Dbs = { panes: memoryDb(), late: memoryDb() };
  const store = fileCheckpoints(tempDir('parallel-rescale'));
  const stop = new AbortController();
  const first = await simulateParallel(build(s, partitions, s.holdAt, () => stop.abort('held'), dbs), {
    parallelism: s.before, seed: s.seed, batchSize: 4, checkpoints: { store }, signal: stop.signal,
  });
  const held = first.stopped !== undefined;
  await simulateParallel(build(s, partitions, undefined, () => undefined, dbs), { parallelism: s.after, seed: s.seed + 1, batchSize: 4, checkpoints: { store } });
  if (partitions === undefined) {
    expect(multiset(dbs.panes.committed), `stopped: ${String(held)}`).toEqual(multiset(expected.panes.committed));
  } else {
    // How far the partitions' minimum watermark jumps in one step depends on how the partitions'
    // reads interleave (as with one reader whose partitions arrive with other timing), and with
    // it whether an on-time pane is already `final` (watermark ≥ end − 1 + allowed lateness when
    // it fires). Everything else is the same, pane for pane — and a pane marked final is never
    // followed by another pane of its window (no input watermark is ever restored ahead).
    expect(finalResults(dbs.panes.committed), `stopped: ${String(held)}`).toEqual(finalResults(expected.panes.committed));
    expect(multiset(dbs.panes.committed.map(withoutFinal))).toEqual(multiset(expected.panes.committed.map(withoutFinal)));
    expect(updatedAfterFinal(dbs.panes.committed)).toEqual([]);
  }
  expect(multiset(dbs.late.committed)).toEqual(multiset(expected.late.committed));
}

describe('checkpoints across numbers of simulated workers', () => {
  it('stop with p₁ workers, resume with p₂: the exactly-once output of an uninterrupted run (late records included)', async () => {
    await fc.assert(fc.asyncProperty(scenario(30), (s) => check(s, undefined)), { numRuns: 40 });
  }, 120_000);

  it('the same with a partitioned source read by every worker (no late records)', async () => {
    await fc.assert(fc.asyncProperty(scenario(0), fc.integer({ min: 1, max: 6 }), (s, partitions) => check(s, partitions)), { numRuns: 40 });
  }, 120_000);
});
