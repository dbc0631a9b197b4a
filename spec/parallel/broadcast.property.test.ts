/**
 * Connected broadcast process functions on parallel workers: the operator runs keyed on every
 * worker (keyed records at the owner of their key group, every broadcast element at every
 * instance), and only the first instance (`OperatorContext.worker.index` 0) forwards what
 * `onBroadcast` emits. Over random records, rules and delivery orders, the output multiset, the
 * late and dead-lettered records and the operator's counters equal parallelism 1's; each worker
 * holds the whole broadcast state (the summed `broadcastEntries` gauge shows n copies); and a run
 * stopped with p₁ workers resumes with p₂ to the uninterrupted run's exactly-once output.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Pipeline, type RunSummary, boundedOutOfOrderness, collect, fileCheckpoints, fromArray, mapState, type Sink } from 'tidemark';
import { canonical, simulateParallel } from 'tidemark/testing';
import { memoryDb, tempDir, twoPhaseSink } from '../checkpoints/support.js';
import { type Rec, replayable } from './support.js';

interface Rule {
  readonly k: number;
  readonly max: number;
  readonly t: number;
}

interface Scenario {
  readonly records: Rec[];
  readonly rules: Rule[];
  readonly bound: number;
  readonly batchSize: number;
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  records: fc.array(fc.record({ k: fc.integer({ min: 0, max: 15 }), jitter: fc.integer({ min: 0, max: 20 }) }), { minLength: 1, maxLength: 150 })
    .map((rs) => rs.map((r, id) => ({ id, k: r.k, t: Math.max(0, id * 3 - r.jitter) }))),
  // Rules in timestamp order, at distinct timestamps: a rule behind the watermark, or at the same
  // timestamp as another, is applied in arrival order — timing-dependent already in one run.
  rules: fc.uniqueArray(fc.record({ k: fc.integer({ min: 0, max: 15 }), max: fc.integer({ min: 1, max: 6 }), t: fc.integer({ min: 0, max: 450 }) }), { maxLength: 12, selector: (r) => r.t })
    .map((rs) => [...rs].sort((a, b) => a.t - b.t)),
  bound: fc.integer({ min: 0, max: 25 }),
  batchSize: fc.integer({ min: 1, max: 16 }),
});

interface Out {
  readonly emitted: unknown[];
  readonly late: unknown[];
  readonly dead: unknown[];
}

/** The pipeline; `sink` makes the output sink, `tap` sees every keyed record before the operator. */
function build(s: Scenario, out: Out, sink: (xs: unknown[]) => Sink<unknown> = (xs) => collect(xs), tap: () => void = () => undefined): (p: Pipeline) => void {
  return (p) => {
    const rules = p.source(fromArray(s.rules), { name: 'rules', timestamp: (r) => r.t, watermark: boundedOutOfOrderness(0) }).broadcast();
    const counts = { n: mapState<number, number>() };
    const limited = p.source(replayable(s.records), { name: 'recs', timestamp: (r) => r.t, watermark: boundedOutOfOrderness(s.bound) })
      .map((r) => {
        tap();
        return r;
      }, { name: 'tap' })
      .keyBy((r) => r.k)
      .connect(rules)
      .process<string, typeof counts, number, number>({
        state: counts,
        onBroadcast(rule, ctx) {
          if (rule.max === 6) throw new Error(`bad rule for k${rule.k}`);
          ctx.broadcast.set(rule.k, rule.max);
          ctx.emit(`rule k${rule.k} ≤ ${rule.max} at ${rule.t}`);
        },
        onRecord(r, ctx) {
          const n = (ctx.state.n.get(0) ?? 0) + 1;
          ctx.state.n.set(0, n);
          const max = ctx.broadcast.get(r.k);
          if (max !== undefined && n > max) ctx.emit(`k${r.k} over ${max} with ${n} at ${r.t}`);
        },
      }, { name: 'limits', onError: 'dead-letter' });
    limited.sink(sink(out.emitted), { name: 'out' });
    p.deadLetters().map((d) => `${d.operator}: ${d.reason}`).sink(collect(out.dead));
  };
}

const multiset = (xs: readonly unknown[]): string[] => xs.map(canonical).sort();

function counters(s: RunSummary): unknown {
  const o = s.operators['limits'];
  return { in: o?.in, out: o?.out, deadLettered: o?.deadLettered, accepted: o?.['accepted'], deadLetters: s.deadLetters, lateRecords: s.lateRecords };
}

async function run(s: Scenario, parallelism: number, seed: number): Promise<{ out: Out; summary: RunSummary }> {
  const out: Out = { emitted: [], late: [], dead: [] };
  const summary = await simulateParallel(build(s, out), { parallelism, seed, batchSize: s.batchSize });
  return { out, summary };
}

describe('broadcast process functions on parallel workers', () => {
  it('run keyed on every worker with the results and counters of parallelism 1', async () => {
    await fc.assert(fc.asyncProperty(scenario, fc.integer({ min: 2, max: 4 }), fc.integer(), async (s, parallelism, seed) => {
      const one = await run(s, 1, 1);
      const many = await run(s, parallelism, seed);
      expect(multiset(many.out.emitted)).toEqual(multiset(one.out.emitted));
      expect(multiset(many.out.dead)).toEqual(multiset(one.out.dead));
      expect(counters(many.summary)).toEqual(counters(one.summary));
      // Every worker holds the broadcast state: the summed gauge counts one copy per worker.
      expect(many.summary.operators['limits']?.['broadcastEntries']).toBe(parallelism * Number(one.summary.operators['limits']?.['broadcastEntries']));
    }), { numRuns: 80 });
  }, 120_000);

  it('a run stopped with p₁ workers resumes with p₂: the exactly-once output of an uninterrupted run', async () => {
    await fc.assert(fc.asyncProperty(scenario, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 150 }), async (s, before, after, stopAt) => {
      const expected = memoryDb<unknown>();
      await simulateParallel(build(s, { emitted: [], late: [], dead: [] }, () => twoPhaseSink(expected)), { parallelism: 1 });
      const db = memoryDb<unknown>();
      const store = fileCheckpoints(tempDir('par-broadcast'));
      const stop = new AbortController();
      let seen = 0;
      const tap = (): void => {
        if (++seen === stopAt) stop.abort('held');
      };
      await simulateParallel(build(s, { emitted: [], late: [], dead: [] }, () => twoPhaseSink(db), tap), {
        parallelism: before, seed: stopAt, batchSize: s.batchSize, checkpoints: { store }, signal: stop.signal,
      });
      await simulateParallel(build(s, { emitted: [], late: [], dead: [] }, () => twoPhaseSink(db)), { parallelism: after, batchSize: s.batchSize, checkpoints: { store } });
      expect(multiset(db.committed)).toEqual(multiset(expected.committed));
    }), { numRuns: 20 });
  }, 120_000);
});
