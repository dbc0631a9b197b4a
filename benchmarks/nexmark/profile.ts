/**
 * Profiling entry: runs one Nexmark query with Tidemark only (no baselines, no oracle), so that
 * `node --cpu-prof` shows where Tidemark's time goes.
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx benchmarks/nexmark/profile.ts q7 1000000 [array|fused]
 */
import { generateEvents } from './generator.js';
import { queryName } from './queries.js';
import { eventsSource, runQuery } from './run-query.js';
import { nexmarkSource } from './source.js';

const [q = 'q5', n = '1000000', mode = 'array'] = process.argv.slice(2);
const query = queryName(q, 'profile');
const events = Number(n);
if (!Number.isSafeInteger(events) || events < 1) throw new RangeError(`profile: events must be a positive integer, got ${n}`);
if (mode !== 'array' && mode !== 'fused') throw new RangeError(`profile: mode must be 'array' or 'fused', got ${mode}`);
const input = mode === 'array' ? generateEvents({ events }) : undefined;
for (let round = 0; round < 3; round++) {
  let results = 0;
  const t0 = performance.now();
  await runQuery(query, input ? eventsSource(input) : nexmarkSource({ events }), () => results++, { bound: 0 });
  const ms = performance.now() - t0;
  console.log(`${query} ${mode} round ${round}: ${ms.toFixed(0)} ms, ${((events / ms) * 1000 / 1e6).toFixed(2)} M events/s, ${results} results`);
}
