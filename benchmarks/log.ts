/**
 * `npx tsx benchmarks/log.ts` — the embedded event log's throughput: batched `append` and
 * sequential replay of ~100-byte records under `fsync: 'interval'` (targets: append ≥ 1M
 * records/s, replay ≥ 3M records/s). Replay is measured two ways: the pipeline path
 * (`log.source()`, chunks of records) and the per-record async iterable `log.read()`.
 *
 *   npx tsx benchmarks/log.ts [--records N] [--batch B] [--partitions P] [--rounds R] [--fsync interval|always|never] [--json FILE]
 *
 * Each round writes a fresh log in a temporary directory (removed afterwards); the figure
 * reported is the median over rounds. See benchmarks/README.md ("Event log").
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ManualClock } from '../engine/clock.js';
import { EventLog, type LogInput } from '../connectors/log/index.js';

interface Click {
  readonly user: string;
  readonly page: string;
  readonly action: string;
  readonly amount: number;
  readonly session: string;
  readonly n: number;
}

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '2000000' },
    batch: { type: 'string', default: '10000' },
    partitions: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    fsync: { type: 'string', default: 'interval' },
    json: { type: 'string' },
  },
});
const N = Number(args.records);
const BATCH = Number(args.batch);
const P = Number(args.partitions);
const ROUNDS = Number(args.rounds);
const FSYNC = args.fsync as 'interval' | 'always' | 'never';

/** ~100 bytes encoded (key + value), distinct per record so that nothing is cached. */
function makeBatch(start: number, size: number): LogInput<Click>[] {
  const out: LogInput<Click>[] = [];
  for (let i = start; i < start + size; i++) {
    out.push({
      key: `u${i % 10_000}`,
      timestamp: 1_700_000_000_000 + i,
      value: { user: `u${i % 10_000}`, page: `/products/${(i * 7919) % 100_000}`, action: 'click', amount: (i % 1000) / 10, session: `s-${(i * 31).toString(36).padStart(10, '0')}`, n: i },
    });
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function round(batches: LogInput<Click>[][]): Promise<{ append: number; source: number; iterate: number; bytes: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'tidemark-bench-log-'));
  try {
    const log = await EventLog.open<Click>(dir, { partitions: P, fsync: FSYNC });
    let t = process.hrtime.bigint();
    const inflight: Promise<unknown>[] = [];
    for (const b of batches) {
      inflight.push(log.append(b));
      if (inflight.length >= 4) await inflight.shift();
    }
    await Promise.all(inflight);
    const append = N / (Number(process.hrtime.bigint() - t) / 1e9);
    let bytes = 0;
    for (let p = 0; p < P; p++) bytes += log.partitionAt(p).bytes;

    // Replay through the source (what a pipeline reads): chunks of 1024 records.
    t = process.hrtime.bigint();
    const reader = log.source({ from: 'earliest' }).open({ name: 'bench', batchSize: 1024, clock: new ManualClock() });
    let seen = 0;
    let check = 0;
    for (;;) {
      const c = await reader.next();
      if (c === null) break;
      if (c.kind === 'records') {
        seen += c.values.length;
        check += (c.values[c.values.length - 1] as { value: Click }).value.n;
      }
    }
    await reader.close?.();
    const source = N / (Number(process.hrtime.bigint() - t) / 1e9);
    if (seen !== N) throw new Error(`source replay saw ${seen} of ${N} records (${check})`);

    // Replay through the per-record async iterable.
    t = process.hrtime.bigint();
    seen = 0;
    for await (const r of log.read({ from: 'earliest' })) {
      seen++;
      check += r.value.n & 1;
    }
    const iterate = N / (Number(process.hrtime.bigint() - t) / 1e9);
    if (seen !== N) throw new Error(`read() replay saw ${seen} of ${N} records`);
    await log.close();
    return { append, source, iterate, bytes };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const batches: LogInput<Click>[][] = [];
for (let i = 0; i < N; i += BATCH) batches.push(makeBatch(i, Math.min(BATCH, N - i)));
const results: { append: number; source: number; iterate: number; bytes: number }[] = [];
await round(batches.slice(0, Math.max(1, Math.floor(batches.length / 10)))).catch(() => undefined); // warm-up (partial: errors on the count are expected)
for (let r = 0; r < ROUNDS; r++) results.push(await round(batches));

const fmt = (x: number): string => `${(x / 1e6).toFixed(2)}M records/s`;
const a = median(results.map((r) => r.append));
const s = median(results.map((r) => r.source));
const it = median(results.map((r) => r.iterate));
const perRecord = (results[0]?.bytes ?? 0) / N;
console.log(`event log — ${N.toLocaleString('en')} records, ${perRecord.toFixed(0)} bytes per record on disk (frame header 28 bytes), batches of ${BATCH}, ${P} partition(s), fsync '${FSYNC}', ${ROUNDS} rounds (median), ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
console.log(`  append (batched)          ${fmt(a)}   target ≥ 1M   ${a >= 1e6 ? 'met' : 'MISSED'}`);
console.log(`  replay, log.source()      ${fmt(s)}   target ≥ 3M   ${s >= 3e6 ? 'met' : 'MISSED'}`);
console.log(`  replay, log.read() (per-record async iterable)   ${fmt(it)}`);
if (args.json !== undefined) await writeFile(args.json, JSON.stringify({ records: N, batch: BATCH, partitions: P, fsync: FSYNC, bytesPerRecord: perRecord, rounds: results }, null, 2));
