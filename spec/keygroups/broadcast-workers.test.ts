/**
 * What a broadcast input causes, at parallelism n: every worker of a connected (keyed + broadcast)
 * process operator applies every broadcast element (each keeps the broadcast state its keys read),
 * but only the worker whose `OperatorContext.worker.index` is 0 forwards what `onBroadcast` emits,
 * reports its errors and counts it. So n workers — each given its index and its keys' records —
 * emit together exactly what one instance emits: results, late records and side outputs as
 * multisets, the counters summed. Driven through the operator contract with a small context,
 * because the harness runs one instance (which is worker 0 of 1).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Batch, type Key, type OperatorContext, type OperatorFactory, type OperatorLogic, type Output, ManualClock, keyGroupOf } from 'tidemark';
import { canonical } from 'tidemark/testing';
import { type Step, cases, factoriesOf, scenarios, scenariosUpTo, steps } from '../contract/stateful-cases.js';

interface Seen {
  out: string[];
  late: string[];
  side: string[];
  dead: string[];
}

const output = (into: string[]): Output => ({
  emit: (value, timestamp) => void into.push(canonical({ value, timestamp })),
  emitKeyed: (value, timestamp) => void into.push(canonical({ value, timestamp })),
  emitBatch: (b: Batch) => b.values.forEach((value, i) => into.push(canonical({ value, timestamp: b.times[i] }))),
});

/** One operator instance behind a minimal context; `worker` as a parallel runtime sets it (or absent). */
class Instance {
  readonly seen: Seen = { out: [], late: [], side: [], dead: [] };
  readonly logic: OperatorLogic;
  private w = -Infinity;

  constructor(factory: OperatorFactory, clock: ManualClock, worker: { readonly index: number; readonly count: number } | undefined) {
    const seen = this.seen;
    const self = this;
    const fail = (message: string): never => {
      throw new Error(message);
    };
    const ctx: OperatorContext = {
      name: 'op',
      position: 'input → op',
      clock,
      get watermark() {
        return self.w;
      },
      out: output(seen.out),
      late: output(seen.late),
      side: (tag) => ({ ...output(seen.side), emit: (value, timestamp) => void seen.side.push(canonical({ tag, value, timestamp })) }),
      deadLetter: (value, reason) => void seen.dead.push(canonical({ value, reason })),
      userError: (error) => fail(`user function threw: ${String(error)}`),
      fail,
      schedule: () => fail('no processing-time timers in this test'),
      callback: (fn) => fn,
      track: () => undefined,
      ...(worker === undefined ? {} : { worker }),
    };
    this.logic = factory.build(ctx);
  }

  advance(w: number): void {
    if (w <= this.w) return;
    this.w = w;
    this.logic.onWatermark?.(w);
  }

  finish(): void {
    this.advance(Infinity);
    this.logic.onEnd?.();
  }
}

/** Runs the 'broadcast process' contract case's operator on `n` workers (`undefined`: one instance without `worker`). */
function run(ss: readonly Step[], n: number | undefined): { seen: Seen[]; accepted: number } {
  const factory = factoriesOf((cases['broadcast process'] as { build: Parameters<typeof factoriesOf>[0] }).build).get('op') as OperatorFactory;
  const clock = new ManualClock(0);
  const count = n ?? 1;
  const workers = Array.from({ length: count }, (_, index) => new Instance(factory, clock, n === undefined ? undefined : { index, count }));
  for (const s of ss) {
    if (s.kind === 'watermark') workers.forEach((w) => w.advance(s.w));
    else if (s.kind === 'record') {
      if (s.ev.side === 'B') workers.forEach((w) => w.logic.onBatch({ values: [s.ev], times: [s.t] }, 1));
      else (workers[keyGroupOf(s.ev.k as Key, 128) % count] as Instance).logic.onBatch({ values: [s.ev], times: [s.t], keys: [s.ev.k as Key] }, 0);
    }
  }
  workers.forEach((w) => w.finish());
  return { seen: workers.map((w) => w.seen), accepted: workers.reduce((a, w) => a + (w.logic.stats?.()['accepted'] ?? 0), 0) };
}

const multiset = (seen: readonly Seen[]): Seen => ({
  out: seen.flatMap((s) => s.out).sort(),
  late: seen.flatMap((s) => s.late).sort(),
  side: seen.flatMap((s) => s.side).sort(),
  dead: seen.flatMap((s) => s.dead).sort(),
});

const fromBroadcast = (x: string): boolean => /"rule":\d/.test(x) && !x.includes('"id"');

describe('broadcast process on several workers', () => {
  it('one instance without OperatorContext.worker is worker 0 of 1', () => {
    fc.assert(fc.property(scenarios, (sc) => {
      const ss = steps(sc, 1);
      expect(run(ss, 1)).toEqual(run(ss, undefined));
    }), { numRuns: 30, seed: 20261208 });
  });

  for (const [what, arb] of [['timestamps 0–70', scenarios], ['crowded: timestamps 0–12', scenariosUpTo(12)]] as const) {
    it(`n workers emit together what one instance emits: onBroadcast's output once, from worker 0 (${what})`, () => {
      fc.assert(fc.property(arb, fc.integer({ min: 2, max: 4 }), (sc, n) => {
        const ss = steps(sc, 1);
        const one = run(ss, undefined);
        const many = run(ss, n);
        expect(multiset(many.seen)).toEqual(multiset(one.seen));
        expect(many.accepted).toBe(one.accepted);
        // only worker 0 forwards what the broadcast input causes
        many.seen.slice(1).forEach((s, i) => expect(s.out.filter(fromBroadcast), `worker ${i + 1}`).toEqual([]));
        expect((many.seen[0] as Seen).out.filter(fromBroadcast)).toEqual((one.seen[0] as Seen).out.filter(fromBroadcast));
      }), { numRuns: 40, seed: 20261208 });
    });
  }
});
