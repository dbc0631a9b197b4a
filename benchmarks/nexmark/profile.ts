/**
 * Profiling entry: runs one Nexmark query with Tidemark only (no baselines, no oracle), so that
 * `node --cpu-prof` shows where Tidemark's time goes; `generator` as the query times the
 * generator alone (chunks of 1 024 events, as the fused source pulls them).
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx benchmarks/nexmark/profile.ts q7 1000000 [array|fused]
 *   node --import tsx benchmarks/nexmark/profile.ts generator 1000000
 *
 * Each round prints wall time and CPU-seconds per million events (`process.cpuUsage`, user +
 * system: the per-core figure, steadier than wall time on a shared machine).
 */
import { NexmarkGenerator, generateEvents } from './generator.js';
import { queryName } from './queries.js';
import { eventsSource, runQuery } from './run-query.js';
import { nexmarkSource } from './source.js';

const [q = 'q5', n = '1000000', mode = 'array'] = process.argv.slice(2);
const events = Number(n);
if (!Number.isSafeInteger(events) || events < 1) throw new RangeError(`profile: events must be a positive integer, got ${n}`);
if (mode !== 'array' && mode !== 'fused') throw new RangeError(`profile: mode must be 'array' or 'fused', got ${mode}`);

/** Times `fn` (wall and CPU) and prints one line. */
async function round(label: string, fn: () => unknown): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const out = await fn();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecPerM = ((cpu.user + cpu.system) / 1e6 / events) * 1e6;
  console.log(`${label}: ${ms.toFixed(0)} ms, ${((events / ms) * 1000 / 1e6).toFixed(2)} M events/s, ${cpuSecPerM.toFixed(3)} CPU-s/M events${out === undefined ? '' : `, ${String(out)}`}`);
}

if (q === 'generator') {
  for (let r = 0; r < 5; r++) {
    await round(`generator round ${r}`, () => {
      const gen = new NexmarkGenerator({ events });
      let bids = 0;
      for (let at = 0; at < events; at += 1024) {
        const { values } = gen.chunk(at, Math.min(1024, events - at));
        for (const e of values) if (e.type === 'bid') bids++;
      }
      return `${bids} bids`;
    });
  }
} else {
  const query = queryName(q, 'profile');
  const input = mode === 'array' ? generateEvents({ events }) : undefined;
  for (let r = 0; r < 3; r++) {
    let results = 0;
    await round(`${query} ${mode} round ${r}`, async () => {
      await runQuery(query, input ? eventsSource(input) : nexmarkSource({ events }), () => results++, { bound: 0 });
      return `${results} results`;
    });
  }
}
