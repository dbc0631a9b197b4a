/**
 * Reorder invariance with many keys, through the user-facing `checkReorderInvariance`: any arrival
 * order within the disorder bound (watermarks at random points) gives the final results of the
 * timestamp-ordered run — for tumbling, sliding, session and global windows and a chain of two
 * window operators. And the check itself can fail: an order-dependent pipeline is caught.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Stream, count, globalWindow, reduce, session, sliding, sum, toList, tumbling } from 'tidemark';
import { checkReorderInvariance } from 'tidemark/testing';

interface Ev {
  user: number;
  amount: number;
}

const records = fc.array(
  fc.record({ user: fc.integer({ min: 0, max: 49 }), amount: fc.integer({ min: 1, max: 100 }), t: fc.integer({ min: -2_000, max: 20_000 }) }),
  { minLength: 20, maxLength: 300 },
).map((xs) => xs.map((x) => ({ value: { user: x.user, amount: x.amount }, timestamp: x.t })));

const byUser = (s: Stream<Ev>) => s.keyBy((e) => e.user);

describe('reorder invariance within the disorder bound (50 keys)', () => {
  it.each([
    ['tumbling sum', (s: Stream<Ev>) => byUser(s).window(tumbling(1_000, { offset: 250 })).aggregate(sum((e) => e.amount))],
    ['sliding count, slide not dividing size', (s: Stream<Ev>) => byUser(s).window(sliding(3_000, 700)).aggregate(count())],
    ['session count', (s: Stream<Ev>) => byUser(s).window(session(400)).aggregate(count())],
    ['dynamic-gap session', (s: Stream<Ev>) => byUser(s).window(session<Ev>((e) => 100 + e.amount * 5)).aggregate(sum((e) => e.amount))],
    ['global count', (s: Stream<Ev>) => byUser(s).window(globalWindow()).aggregate(count())],
    ['windows of windows', (s: Stream<Ev>) =>
      byUser(s).window(tumbling(500)).aggregate(count())
        .keyBy((r) => r.key % 5).window(tumbling(2_000)).aggregate(sum((r) => r.value))],
  ])('%s', async (_name, build) => {
    await checkReorderInvariance(build, { records, maxDisorder: 1_500, numRuns: 60, seed: 42 });
  });
});

const dense = fc.array(
  fc.record({ user: fc.integer({ min: 0, max: 2 }), amount: fc.integer({ min: 1, max: 100 }), t: fc.integer({ min: 0, max: 3_000 }) }),
  { minLength: 5, maxLength: 60 },
).map((xs) => xs.map((x) => ({ value: { user: x.user, amount: x.amount }, timestamp: x.t })));

describe('checkReorderInvariance can fail', () => {
  it('rejects a pipeline whose result depends on arrival order, with a counter-example', async () => {
    const firstArrived = (s: Stream<Ev>) => byUser(s).window(tumbling(1_000)).aggregate(reduce((a) => a));
    await expect(checkReorderInvariance(firstArrived, { records: dense, maxDisorder: 1_500, numRuns: 200, seed: 7 })).rejects.toThrow(/final results differ/);
  });

  it('rejects arrival-order lists', async () => {
    const lists = (s: Stream<Ev>) => byUser(s).window(tumbling(1_000)).aggregate(toList());
    await expect(checkReorderInvariance(lists, { records: dense, maxDisorder: 1_500, numRuns: 200, seed: 7 })).rejects.toThrow(/Counterexample/);
  });
});
