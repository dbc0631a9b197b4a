/**
 * The demo behind `npm start`: a generated, out-of-order clickstream processed on the embedded
 * default (in memory, no broker): per-user sessions and per-page tumbling counts, with late
 * records routed to their own output and a run summary at the end.
 */
import {
  type DeadLetter, type LateRecord, Pipeline, type WindowResult, boundedOutOfOrderness, collect, count, fromArray, session, toList, tumbling,
} from 'tidemark';
import { type Click, clickstream } from './clickstream.js';

const generated = clickstream({ users: 200, sessionsPerUser: 4, start: Date.UTC(2026, 10, 2, 8), seed: 42, disorderMs: 20_000, straggle: 0.02 });
// Two broken records, as real feeds have: they become dead letters with the reason; the run goes on.
const clicks: Click[] = [...generated.slice(0, 100), { user: 'user-x', page: '/home', ts: Number.NaN }, ...generated.slice(100),
  { user: 'user-y', page: '/home', ts: 1.5 }];

const p = new Pipeline();
const source = p.source(fromArray(clicks), {
  name: 'clicks',
  timestamp: (c) => c.ts,
  watermark: boundedOutOfOrderness('PT30S'),
});

const sessions: WindowResult<string, Click[]>[] = [];
const perUser = source
  .keyBy((c) => c.user, { name: 'byUser' })
  .window(session('PT30M'), { allowedLateness: 'PT2M' })
  .aggregate(toList(), { name: 'sessions' });
perUser.sink(collect(sessions));

const pageCounts: WindowResult<string, number>[] = [];
const late: LateRecord<Click, string>[] = [];
const dead: DeadLetter[] = [];
source.deadLetters().sink(collect(dead));
const perPage = source
  .keyBy((c) => c.page, { name: 'byPage' })
  .window(tumbling('PT15M'), { allowedLateness: 'PT5M' })
  .aggregate(count(), { name: 'pageViews' });
perPage.sink(collect(pageCounts));
perPage.late().sink(collect(late));
perUser.late().sink(collect(late));

const summary = await p.run();

const time = (t: number): string => new Date(t).toISOString().slice(11, 19);
console.log(`Tidemark demo — ${clicks.length} clicks, delivered out of order (up to 20 s; ~2% 1–60 minutes late)\n`);

console.log('Per-page views, 15-minute tumbling windows, 5 minutes allowed lateness (first 6, then 3 late panes):');
for (const r of [...pageCounts.slice(0, 6), ...pageCounts.filter((x) => x.pane.timing === 'late').slice(0, 3)]) {
  console.log(`  ${time(r.window.start)}–${time(r.window.end)}  ${r.key.padEnd(10)} ${String(r.value).padStart(4)}  [${r.pane.timing}#${r.pane.index}]`);
}

console.log('\nUser sessions, 30-minute gap, 2 minutes allowed lateness (first 6):');
for (const r of sessions.slice(0, 6)) {
  const pages = r.value.map((c) => c.page).join(' → ');
  console.log(`  ${r.key}  ${time(r.window.start)}–${time(r.window.end)}  ${r.value.length} clicks  [${r.pane.timing}#${r.pane.index}]  ${pages}`);
}
const latePanes = pageCounts.filter((s) => s.pane.timing === 'late').length;
console.log(`  … ${sessions.length} session panes; ${pageCounts.length} page-view panes, ${latePanes} of them late panes re-fired by admitted late clicks`);

console.log(`\nLate records (too late for at least one window): ${late.length} (first 5):`);
for (const l of late.slice(0, 5)) {
  const missed = l.missedWindows.map((w) => `${time(w.start)}–${time(w.end)}`).join(', ');
  console.log(`  ${l.key.padEnd(10)} at ${time(l.timestamp)} missed ${missed}`);
}

console.log(`\nDead letters: ${dead.length}`);
for (const d of dead) console.log(`  ${JSON.stringify(d.value)}: ${d.reason}`);

console.log('\nRun summary:');
for (const [name, s] of Object.entries(summary.sources)) {
  console.log(`  source ${name}: read ${s.read} = emitted ${s.emitted} + dead-lettered ${s.deadLettered}; ${s.futureSkewed} ahead of the clock`);
}
for (const [name, o] of Object.entries(summary.operators)) {
  if (o['accepted'] === undefined) continue;
  console.log(`  ${o.kind} ${name}: in ${o.in} = accepted ${o['accepted']} + too late ${o['tooLate']} + dead-lettered ${o.deadLettered}; ${o['panes']} panes, ${o.late} late records routed`);
}
console.log(`  ${summary.lateRecords} late records, ${summary.deadLetters} dead letters, ${summary.durationMs} ms`);
