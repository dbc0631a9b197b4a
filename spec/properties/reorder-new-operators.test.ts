/**
 * Reorder invariance of the final panes for the operators beyond the core windows: calendar
 * windows, triggered windows (early panes by count and in event time, late triggers), retracting
 * sessions (retractions applied), and asyncMap in front of a window.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Stream, calendar, count, mapState, session, sliding, sum, tumbling } from 'tidemark';
import { checkReorderInvariance } from 'tidemark/testing';

interface Ev {
  user: number;
  amount: number;
}

const DAY = 86_400_000;
const records = (span: number) => fc.array(
  fc.record({ user: fc.integer({ min: 0, max: 9 }), amount: fc.integer({ min: 1, max: 100 }), t: fc.integer({ min: 0, max: span }) }),
  { minLength: 10, maxLength: 150 },
).map((xs) => xs.map((x) => ({ value: { user: x.user, amount: x.amount }, timestamp: 1_711_670_400_000 + x.t }))); // from 2024-03-29 (DST in Europe)

const byUser = (s: Stream<Ev>) => s.keyBy((e) => e.user);

describe('reorder invariance of final panes (new operators)', () => {
  it.each([
    ['calendar days in Europe/Berlin across DST', (s: Stream<Ev>) => byUser(s).window(calendar('day', { timeZone: 'Europe/Berlin' })).aggregate(sum((e) => e.amount)), 4 * DAY, DAY / 2],
    ['tumbling with early panes every 3 records', (s: Stream<Ev>) => byUser(s).window(tumbling(1_000), { trigger: { early: { everyRecords: 3 } } }).aggregate(sum((e) => e.amount)), 20_000, 1_500],
    ['sliding with continuous event-time early panes, discarding → summed downstream', (s: Stream<Ev>) =>
      byUser(s).window(sliding(2_000, 500), { trigger: { early: { everyEventTime: 300 } }, accumulation: 'retracting' }).aggregate(count())
        .keyBy((r) => `${r.key}|${r.window.start}`).window(tumbling(1_000_000)).aggregate(sum((r) => r.value)), 20_000, 1_500],
    ['retracting sessions with lateness, applied downstream', (s: Stream<Ev>) =>
      byUser(s).window(session(300), { accumulation: 'retracting', allowedLateness: 2_000 }).aggregate(sum((e) => e.amount))
        .keyBy((r) => r.key).window(tumbling(1_000_000)).aggregate(sum((r) => r.value)), 20_000, 1_500],
    ['asyncMap (ordered) in front of a window', (s: Stream<Ev>) =>
      s.asyncMap(async (e) => ({ ...e, amount: e.amount * 2 })).keyBy((e) => e.user).window(tumbling(1_000)).aggregate(sum((e) => e.amount)), 20_000, 1_500],
  ])('%s', async (_name, build, span, disorder) => {
    await checkReorderInvariance(build as (s: Stream<Ev>) => Stream<unknown>, { records: records(span), maxDisorder: disorder, numRuns: 40, seed: 11 });
  });

  it('a process function counting per key and 1-second bucket with event-time timers', async () => {
    const state = { counts: mapState<number, number>() };
    const build = (s: Stream<Ev>) =>
      byUser(s).process<{ user: number; bucket: number; n: number }, typeof state>({
        state,
        onRecord(_e, ctx) {
          const bucket = Math.floor(ctx.timestamp / 1_000) * 1_000;
          ctx.state.counts.set(bucket, (ctx.state.counts.get(bucket) ?? 0) + 1);
          ctx.timers.registerEventTime(bucket + 999);
        },
        onTimer(timer, ctx) {
          const bucket = timer.timestamp - 999;
          ctx.emit({ user: ctx.key as number, bucket, n: ctx.state.counts.get(bucket) ?? 0 });
          ctx.state.counts.delete(bucket);
        },
      });
    await checkReorderInvariance(build, { records: records(20_000), maxDisorder: 1_500, numRuns: 40, seed: 5 });
  });

  it('is not hollow for asyncMap: the results arrive (the check waits for the calls)', async () => {
    const { harness } = await import('tidemark/testing');
    const h = harness((s: Stream<Ev>) => s.asyncMap(async (e) => e.amount).keyBy(() => 'all').window(tumbling(10)).aggregate(sum((n) => n)));
    h.addElement({ user: 1, amount: 5 }, 1);
    h.finish();
    await h.settle();
    expect(h.takeOutput().map((r) => r.value)).toEqual([5]);
  });
});
