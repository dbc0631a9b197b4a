/**
 * Parallel workers benchmark (issue 7): tumbling 10 s and sliding 10 s / 2 s counts over 10 000
 * keys from a partitioned generated source (each worker generates its own partitions), run in
 * this thread (`parallelism: 1`, as `tidemark run` does) and on worker threads with
 * `runParallel({ parallelism: 2 })`. Reports records/s over the run (the summary's duration, from
 * the first record to the end: worker start-up excluded), wall-clock time including start-up, and
 * the speed-up.
 *
 *   npx tsx benchmarks/parallel.ts [--records 20000000] [--keys 10000] [--only tumbling,sliding] [--rounds 3] [--workers 2]
 *
 * The file is also the pipeline module the workers import (its default export).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import { cpus, loadavg } from 'node:os';
import { type Pipeline, type RunSummary, type Source, boundedOutOfOrderness, count, forEach, runParallel, sliding, tumbling } from 'tidemark';

interface Click {
  readonly user: string;
  readonly ts: number;
}

/** What the module receives. */
interface BenchArgs {
  readonly job: 'tumbling' | 'sliding';
  readonly records: number;
  readonly keys: number;
}

const PARTITIONS = 8;
/** Event time advances 100 000 records per second: ~100 records per key per 10 s window. */
const RATE = 100_000;
const BASE = 1_700_000_000_000;

/** Record i (global) belongs to partition i mod P; each partition in timestamp order. */
function clicks(records: number, keys: number): Source<Click> {
  const users = Array.from({ length: keys }, (_, i) => `user-${i}`);
  return {
    kind: 'bench-clicks',
    providesTimestamps: false,
    providesWatermarks: false,
    partitionCount: PARTITIONS,
    open(ctx) {
      const parts = ctx.partitions ?? Array.from({ length: PARTITIONS }, (_, p) => p);
      const next = [...parts];
      let turn = 0;
      return {
        partitions: parts,
        next() {
          for (let tries = 0; tries < parts.length; tries++) {
            const k = turn++ % parts.length;
            let i = next[k] as number;
            if (i >= records) continue;
            const values: Click[] = [];
            for (let n = 0; n < ctx.batchSize && i < records; n++, i += PARTITIONS) {
              values.push({ user: users[(i * 7919) % keys] as string, ts: BASE + Math.floor((i * 1000) / RATE) });
            }
            next[k] = i;
            return { kind: 'records', values, partition: parts[k] as number };
          }
          return null;
        },
      };
    },
  };
}

export default function bench(p: Pipeline, args: BenchArgs): void {
  const keyed = p.source(clicks(args.records, args.keys), { name: 'clicks', timestamp: (c) => c.ts, watermark: boundedOutOfOrderness(1_000) })
    .keyBy((c) => c.user);
  const windowed = args.job === 'tumbling' ? keyed.window(tumbling(10_000), { name: 'counts' }) : keyed.window(sliding(10_000, 2_000), { name: 'counts' });
  let panes = 0;
  windowed.aggregate(count()).sink(forEach(() => {
    panes++;
  }), { name: 'panes' });
}

interface Measured {
  readonly recordsPerSecond: number;
  readonly wallMs: number;
  readonly summary: RunSummary;
}

async function inThread(args: BenchArgs): Promise<Measured> {
  const { Pipeline } = await import('tidemark');
  const started = performance.now();
  const p = new Pipeline();
  bench(p, args);
  const summary = await p.run();
  return { recordsPerSecond: args.records / (summary.durationMs / 1000), wallMs: performance.now() - started, summary };
}

async function onWorkers(args: BenchArgs, workers: number): Promise<Measured> {
  const started = performance.now();
  const summary = await runParallel({ module: fileURLToPath(import.meta.url), parallelism: workers, args: { ...args } });
  return { recordsPerSecond: args.records / (summary.durationMs / 1000), wallMs: performance.now() - started, summary };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '20000000' },
      keys: { type: 'string', default: '10000' },
      only: { type: 'string', default: 'tumbling,sliding' },
      rounds: { type: 'string', default: '3' },
      workers: { type: 'string', default: '2' },
    },
  });
  const records = Number(values.records);
  const keys = Number(values.keys);
  const rounds = Number(values.rounds);
  const workers = Number(values.workers);
  console.log(`parallel benchmark: ${records} records, ${keys} keys, ${rounds} rounds, ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('| job | p=1 records/s | p=' + workers + ' records/s | speed-up (median) | p=1 wall s | p=' + workers + ' wall s | wall speed-up |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const job of values.only.split(',') as BenchArgs['job'][]) {
    const args: BenchArgs = { job, records: job === 'sliding' ? Math.floor(records / 4) : records, keys };
    const one: Measured[] = [];
    const many: Measured[] = [];
    for (let r = 0; r < rounds; r++) {
      one.push(await inThread(args));
      many.push(await onWorkers(args, workers));
      const a = one[one.length - 1] as Measured;
      const b = many[many.length - 1] as Measured;
      if (a.summary.sinks['panes']?.in !== b.summary.sinks['panes']?.in) throw new Error(`${job}: p=1 emitted ${a.summary.sinks['panes']?.in} panes, p=${workers} ${b.summary.sinks['panes']?.in}`);
    }
    const r1 = median(one.map((m) => m.recordsPerSecond));
    const rn = median(many.map((m) => m.recordsPerSecond));
    const w1 = median(one.map((m) => m.wallMs));
    const wn = median(many.map((m) => m.wallMs));
    const fmt = (x: number): string => `${(x / 1e6).toFixed(2)}M`;
    console.log(`| ${job} (${args.records / 1e6}M records) | ${fmt(r1)} | ${fmt(rn)} | ${(rn / r1).toFixed(2)}× (${many.map((m, i) => (m.recordsPerSecond / (one[i] as Measured).recordsPerSecond).toFixed(2)).join(', ')}) | ${(w1 / 1000).toFixed(1)} | ${(wn / 1000).toFixed(1)} | ${(w1 / wn).toFixed(2)}× |`);
  }
  console.log(`load after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

if (isMainThread && process.argv[1] === fileURLToPath(import.meta.url)) await main();
