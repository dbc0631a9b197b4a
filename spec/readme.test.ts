/**
 * The README's quick start compiles and runs as written (with a few clicks filled in).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock, Pipeline, type Stream, boundedOutOfOrderness, collect, count, forEach, fromArray, session, tumbling } from 'tidemark';
import { checkReorderInvariance, harness } from 'tidemark/testing';

type Click = { user: string; page: string; ts: number };
const clicks: Click[] = [
  { user: 'u1', page: '/home', ts: 1_000 },
  { user: 'u1', page: '/cart', ts: 61_000 },
  { user: 'u2', page: '/home', ts: 3_000 },
];

describe('README quick start', () => {
  it('runs', async () => {
    const p = new Pipeline({ clock: new ManualClock() });
    const source = p.source(fromArray(clicks), {
      name: 'clicks',
      timestamp: (c) => c.ts,
      watermark: boundedOutOfOrderness('PT5S'),
    });
    const sessions = source
      .keyBy((c) => c.user)
      .window(session('PT30M'), { allowedLateness: 'PT1M' })
      .aggregate(count(), { name: 'sessions' });
    const out: unknown[] = [];
    sessions.sink(collect(out));
    sessions.late().sink(forEach(() => undefined));
    source.deadLetters().sink(forEach(() => undefined));
    const summary = await p.run();
    expect(out).toHaveLength(2);
    expect(summary.operators['sessions']).toMatchObject({ in: 3, accepted: 3 });
  });

  it('the testing-kit example holds', async () => {
    const perPage = (input: Stream<Click>) => input.keyBy((c) => c.page).window(tumbling(60_000)).aggregate(count());
    const h = harness(perPage);
    h.addElement({ user: 'u1', page: '/home', ts: 1_000 }, 1_000);
    h.advanceWatermarkTo(59_999);
    expect(h.takeOutput()).toEqual([{ key: '/home', window: { start: 0, end: 60_000 }, value: 1, pane: { timing: 'on-time', index: 0, final: true } }]);
    await checkReorderInvariance(perPage, { records: clicks.map((c) => ({ value: c, timestamp: c.ts })), maxDisorder: 5_000 });
  });

  it('the checkpoint example runs and reports exactly-once', async () => {
    const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { fileCheckpoints, fromJsonLines, toJsonLines } = await import('tidemark');
    const dir = mkdtempSync(join(tmpdir(), 'tidemark-readme-'));
    writeFileSync(join(dir, 'clicks.jsonl'), clicks.map((c) => JSON.stringify(c)).join('\n') + '\n');
    const p = new Pipeline({
      clock: new ManualClock(),
      checkpoints: { store: fileCheckpoints(join(dir, 'checkpoints')), interval: '1s' },
      restart: { strategy: 'exponential', attempts: 5, delay: 500 },
    });
    p.source(fromJsonLines<Click>(join(dir, 'clicks.jsonl')), { timestamp: (c) => c.ts, watermark: boundedOutOfOrderness('PT5S') })
      .keyBy((c) => c.page).window(tumbling('PT1M'), { name: 'perPage' }).aggregate(count())
      .sink(toJsonLines(join(dir, 'counts.jsonl'), { delivery: 'exactly-once' }), { name: 'counts' });
    const summary = await p.run();
    expect(summary.guarantees).toEqual({ counts: 'exactly-once' });
    expect(readFileSync(join(dir, 'counts.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  });
});
