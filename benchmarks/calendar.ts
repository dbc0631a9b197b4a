/**
 * Calendar windows cost what tumbling windows cost: boundaries are computed once per window (via
 * Temporal) and cached, so a record inside the current window costs a numeric comparison.
 * Compares `calendar('day', UTC)` with `tumbling(1 day)` over the same records (same results),
 * both on the per-(key, window) state path that calendar windows use, and with tumbling's
 * shared-pane fast path for reference.
 *
 *   npx tsx benchmarks/calendar.ts [--records N]
 */
import { Pipeline, boundedOutOfOrderness, calendar, count, forEach, fromArray, tumbling } from 'tidemark';
import { seededRandom } from 'tidemark/testing';

const arg = process.argv.indexOf('--records');
const N = arg >= 0 ? Number(process.argv[arg + 1]) : 1_000_000;
const DAY = 86_400_000;
const rnd = seededRandom(7);
const keys = Array.from({ length: 1_000 }, (_, i) => `k${i}`);
const start = Date.UTC(2024, 0, 1);
// a year of event time, slightly out of order
const records = Array.from({ length: N }, (_, i) => ({ k: keys[Math.floor(rnd() * keys.length)] as string, ts: start + Math.floor((i / N) * 365 * DAY) - Math.floor(rnd() * 60_000) }));

type Kind = 'calendar' | 'tumbling (same path)' | 'tumbling (fast path)';

async function run(kind: Kind): Promise<{ ms: number; results: number }> {
  const p = new Pipeline({ maxFutureSkew: false });
  let results = 0;
  const t0 = performance.now();
  p.source(fromArray(records), { timestamp: (r) => r.ts, watermark: boundedOutOfOrderness(60_000) })
    .keyBy((r) => r.k)
    .window(
      kind === 'calendar' ? calendar('day', { timeZone: 'UTC' }) : tumbling(DAY),
      // 'if-non-empty' changes no result here, but selects the per-window state path
      kind === 'tumbling (same path)' ? { trigger: { onTime: 'if-non-empty' } } : {},
    )
    .aggregate(count())
    .sink(forEach(() => {
      results++;
    }));
  await p.run();
  return { ms: performance.now() - t0, results };
}

const rows: Record<string, string | number>[] = [];
for (let round = 0; round < 4; round++) {
  for (const kind of ['tumbling (fast path)', 'tumbling (same path)', 'calendar'] as const) {
    const r = await run(kind);
    if (round > 0) rows.push({ round, kind, 'M records/s': (N / r.ms / 1000).toFixed(2), results: r.results });
  }
}
console.table(rows);
