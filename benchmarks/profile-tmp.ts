import { generateClicks } from './generator.js';
import { runTidemark } from './pipelines.js';
import { handTumblingCount } from './baselines/handwritten.js';
import { DEFAULT_PARAMS } from './jobs.js';
const recs = generateClicks({ records: 1_000_000, keys: 10_000, seed: 20240601, eventsPerSecond: 1000, maxDisorderMs: 999 } as any);
const wl = (process.argv[2] ?? 'tumbling') as any;
for (let i = 0; i < 6; i++) {
  let n = 0; const t0 = performance.now();
  await runTidemark(wl, recs, DEFAULT_PARAMS, () => { n++; });
  const t1 = performance.now();
  let m = 0; (handTumblingCount as any)(recs, DEFAULT_PARAMS, () => { m++; });
  const t2 = performance.now();
  console.log(wl, 'tidemark', (t1 - t0).toFixed(0), 'ms', n, 'hand', (t2 - t1).toFixed(0), 'ms', m);
}
