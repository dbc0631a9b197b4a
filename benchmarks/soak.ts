/**
 * Soak: ≥ 20M records through keyed windows with checkpoints every second, sampling the heap
 * (after a forced GC) every million records. A flat heap shows that state is bounded by the
 * watermark (windows are freed once fired) and that checkpoints, sinks and sources leak nothing.
 *
 *   node --expose-gc --import tsx benchmarks/soak.ts [--records 20000000] [--keys 10000] [--window tumbling|session]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pipeline, boundedOutOfOrderness, count, fileCheckpoints, forEach, session, tumbling } from 'tidemark';
import { generated } from './generated-source.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '20000000' },
    keys: { type: 'string', default: '10000' },
    window: { type: 'string', default: 'tumbling' },
  },
});
const records = Number(values.records);
const keys = Number(values.keys);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc --import tsx benchmarks/soak.ts');
const dir = mkdtempSync(join(tmpdir(), 'tidemark-soak-'));
const samples: { records: number; heapMB: number }[] = [];
let seen = 0;
let nextSample = 1_000_000;
let counted = 0;
const p = new Pipeline({ checkpoints: { store: fileCheckpoints(dir, { keep: 2 }), interval: 1_000, restore: 'none' } });
const windowed = p.source(generated(records, keys), { timestamp: (r) => r.ts, watermark: boundedOutOfOrderness(1_000), name: 'rows' })
  .map((r) => {
    if (++seen >= nextSample) {
      nextSample += 1_000_000;
      gc();
      samples.push({ records: seen, heapMB: process.memoryUsage().heapUsed / 1024 / 1024 });
    }
    return r;
  })
  .keyBy((r) => r.user);
const assigned = values.window === 'session' ? windowed.window(session(5)) : windowed.window(tumbling(10_000));
assigned.aggregate(count()).sink(forEach((r) => {
  counted += r.value;
}));
const t0 = performance.now();
const summary = await p.run();
const secs = (performance.now() - t0) / 1_000;
rmSync(dir, { recursive: true, force: true });
if (counted !== records) throw new Error(`counted ${counted} of ${records}`);
const heaps = samples.map((s) => s.heapMB);
const later = heaps.slice(Math.floor(heaps.length / 4));
console.log(`soak: ${records} records, ${keys} keys, ${values.window} windows, ${secs.toFixed(1)} s (${(records / secs / 1e6).toFixed(2)}M rec/s), ${summary.checkpoints?.completed ?? 0} checkpoints (last ${summary.checkpoints?.lastDurationMs ?? 0} ms, ${((summary.checkpoints?.lastBytes ?? 0) / 1024).toFixed(0)} KiB)`);
console.log(`heap after GC per million records (MB): ${heaps.map((h) => h.toFixed(1)).join(' ')}`);
console.log(`after the first quarter: min ${Math.min(...later).toFixed(1)} MB, max ${Math.max(...later).toFixed(1)} MB, last − first ${((later.at(-1) ?? 0) - (later[0] ?? 0)).toFixed(1)} MB`);
