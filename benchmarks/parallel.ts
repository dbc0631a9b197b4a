/**
 * Parallel workers benchmark (issue 7): tumbling 10 s and sliding 10 s / 2 s counts over 10 000
 * keys from a partitioned generated source (each worker generates its own partitions) — and the
 * tumbling count over records that arrive as JSON text (parsed by a map, where they are read) — run
 * with `runParallel` on 1 worker (the baseline: a fresh thread, cold like a fresh `tidemark run`)
 * and on 2, and in this thread for reference (warm after the first round). Reports records/s over
 * the run (the summary's duration: worker start-up excluded), the speed-up, and the CPU cost.
 *
 * Two inputs: `co-partitioned` — each partition holds only keys whose key group its worker owns,
 * as a producer partitioning by `partitionOfKeyGroup(keyGroupOf(key, G), P)` writes them (no
 * record crosses to another worker) — and `shuffled` — keys spread over all partitions (about half
 * of the records cross).
 *
 *   npx tsx benchmarks/parallel.ts [--records 20000000] [--keys 10000] [--only tumbling,sliding,tumbling-json] [--input co-partitioned,shuffled] [--rounds 3] [--workers 2]
 *
 * The file is also the pipeline module the workers import (its default export).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import { cpus, loadavg } from 'node:os';
import {
  DEFAULT_KEY_GROUPS, type Pipeline, type RunSummary, type Source, boundedOutOfOrderness, count, forEach, keyGroupOf, partitionOfKeyGroup, runParallel, sliding,
  tumbling,
} from 'tidemark';

interface Click {
  readonly user: string;
  readonly ts: number;
}

/** What the module receives. */
interface BenchArgs {
  /** `tumbling-json`: the tumbling count over records that arrive as JSON text (parsed by a map). */
  readonly job: 'tumbling' | 'sliding' | 'tumbling-json';
  /** Which partition a record's key is in: its key group's (`co-partitioned`) or any (`shuffled`). */
  readonly input: 'co-partitioned' | 'shuffled';
  readonly records: number;
  readonly keys: number;
}

const PARTITIONS = 8;
/** Event time advances 100 000 records per second: ~100 records per key per 10 s window. */
const RATE = 100_000;
const BASE = 1_700_000_000_000;

/**
 * The user of record i (global; it belongs to partition i mod P): `shuffled`, any of the `keys`
 * users; `co-partitioned`, one of the users whose key group partition i mod P owns (as a producer
 * partitioning by key group writes them; the users split over the partitions by their hash).
 */
function usersOf(keys: number, input: BenchArgs['input']): (i: number) => string {
  const users = Array.from({ length: keys }, (_, i) => `user-${i}`);
  if (input === 'shuffled') return (i) => users[(i * 7919) % keys] as string;
  const byPartition: string[][] = Array.from({ length: PARTITIONS }, () => []);
  for (const u of users) (byPartition[partitionOfKeyGroup(keyGroupOf(u, DEFAULT_KEY_GROUPS), PARTITIONS)] as string[]).push(u);
  return (i) => {
    const own = byPartition[i % PARTITIONS] as string[];
    return own[(Math.floor(i / PARTITIONS) * 7919) % own.length] as string;
  };
}

/** Record i (global) belongs to partition i mod P; each partition in timestamp order. */
function clicks(records: number, keys: number, input: BenchArgs['input']): Source<Click> {
  const user = usersOf(keys, input);
  return generator(records, (i) => ({ user: user(i), ts: BASE + Math.floor((i * 1000) / RATE) }));
}

/** The same clicks as JSON text (what a log or broker delivers). */
function jsonClicks(records: number, keys: number, input: BenchArgs['input']): Source<string> {
  const user = usersOf(keys, input);
  return generator(records, (i) => `{"user":"${user(i)}","ts":${BASE + Math.floor((i * 1000) / RATE)},"page":"/p/${i % 97}","agent":"bench"}`);
}

function generator<T>(records: number, make: (i: number) => T): Source<T> {
  return {
    kind: 'bench-generator',
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
            const values: T[] = [];
            for (let n = 0; n < ctx.batchSize && i < records; n++, i += PARTITIONS) values.push(make(i));
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
  const parsed = args.job === 'tumbling-json'
    ? p.source(jsonClicks(args.records, args.keys, args.input), { name: 'clicks', timestamp: (line) => Number(line.slice(line.indexOf('"ts":') + 5, line.indexOf(',"page"'))), watermark: boundedOutOfOrderness(1_000) })
      .map((line) => JSON.parse(line) as Click, { name: 'parse' })
    : p.source(clicks(args.records, args.keys, args.input), { name: 'clicks', timestamp: (c) => c.ts, watermark: boundedOutOfOrderness(1_000) });
  const keyed = parsed.keyBy((c) => c.user);
  const windowed = args.job === 'tumbling' ? keyed.window(tumbling(10_000), { name: 'counts' }) : keyed.window(sliding(10_000, 2_000), { name: 'counts' });
  let panes = 0;
  windowed.aggregate(count()).sink(forEach(() => {
    panes++;
  }), { name: 'panes' });
}

interface Measured {
  readonly recordsPerSecond: number;
  readonly wallMs: number;
  /** CPU time of the whole process (every thread) during the run, in seconds. */
  readonly cpuSeconds: number;
  readonly summary: RunSummary;
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

async function inThread(args: BenchArgs): Promise<Measured> {
  const { Pipeline } = await import('tidemark');
  const started = performance.now();
  const cpu = process.cpuUsage();
  const p = new Pipeline();
  bench(p, args);
  const summary = await p.run();
  return { recordsPerSecond: args.records / (summary.durationMs / 1000), wallMs: performance.now() - started, cpuSeconds: cpuSeconds(cpu), summary };
}

async function onWorkers(args: BenchArgs, workers: number): Promise<Measured> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const summary = await runParallel({ module: fileURLToPath(import.meta.url), parallelism: workers, args: { ...args } });
  // Includes the workers' start-up (module loading), a constant per run.
  return { recordsPerSecond: args.records / (summary.durationMs / 1000), wallMs: performance.now() - started, cpuSeconds: cpuSeconds(cpu), summary };
}

/** How much more CPU two busy threads get than one right now (2.0 on an idle 2-core machine). */
async function capacity(): Promise<number> {
  const { Worker } = await import('node:worker_threads');
  const code = 'const { parentPort } = require("node:worker_threads"); parentPort.on("message", (n) => { let x = 0; for (let i = 0; i < n; i++) x = (x * 31 + i) % 1000003; parentPort.postMessage(x); });';
  const spin = (n: number): Promise<void> => new Promise((resolve) => {
    const w = new Worker(code, { eval: true });
    w.once('message', () => {
      void w.terminate();
      resolve();
    });
    w.postMessage(n);
  });
  const n = 1e8;
  let t = performance.now();
  await spin(n);
  const one = performance.now() - t;
  t = performance.now();
  await Promise.all([spin(n), spin(n)]);
  return (2 * one) / (performance.now() - t);
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
      only: { type: 'string', default: 'tumbling,sliding,tumbling-json' },
      input: { type: 'string', default: 'co-partitioned,shuffled' },
      rounds: { type: 'string', default: '3' },
      workers: { type: 'string', default: '2' },
    },
  });
  const records = Number(values.records);
  const keys = Number(values.keys);
  const rounds = Number(values.rounds);
  const workers = Number(values.workers);
  console.log(`parallel benchmark: ${records} records, ${keys} keys, ${rounds} rounds, ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`CPU capacity now: two busy threads get ${(await capacity()).toFixed(2)}× the CPU of one (2.00 on an idle 2-core machine)`);
  console.log(`| job | in-thread p=1 records/s (warm) | worker p=1 records/s | worker p=${workers} records/s | speed-up p=${workers} / p=1 (median; per round) | CPU s per M records p=1 / p=${workers} (start-up excluded) | speed-up the CPU cost allows on ${workers} idle cores |`);
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  const inputs = values.input.split(',') as BenchArgs['input'][];
  for (const input of inputs) if (input !== 'co-partitioned' && input !== 'shuffled') throw new Error(`benchmarks/parallel: --input takes co-partitioned and/or shuffled, got ${input}`);
  for (const job of values.only.split(',') as BenchArgs['job'][]) for (const input of inputs) {
    const args: BenchArgs = { job, input, records: job === 'tumbling' ? records : Math.floor(records / 4), keys };
    const warm: Measured[] = [];
    const one: Measured[] = [];
    const many: Measured[] = [];
    for (let r = 0; r < rounds; r++) {
      warm.push(await inThread(args));
      // The baseline is a fresh worker (cold JIT, like a fresh `tidemark run`), as are the p=n workers.
      one.push(await onWorkers(args, 1));
      many.push(await onWorkers(args, workers));
      const a = one[one.length - 1] as Measured;
      const b = many[many.length - 1] as Measured;
      if (a.summary.sinks['panes']?.in !== b.summary.sinks['panes']?.in) throw new Error(`${job}: p=1 emitted ${a.summary.sinks['panes']?.in} panes, p=${workers} ${b.summary.sinks['panes']?.in}`);
    }
    const rw = median(warm.map((m) => m.recordsPerSecond));
    const r1 = median(one.map((m) => m.recordsPerSecond));
    const rn = median(many.map((m) => m.recordsPerSecond));
    // The workers' start-up (loading the module and the library, compiled by tsx) is a constant
    // per run: measured with a tiny run and left out of the CPU cost per record.
    const startup1 = (await onWorkers({ ...args, records: PARTITIONS }, 1)).cpuSeconds;
    const startupN = (await onWorkers({ ...args, records: PARTITIONS }, workers)).cpuSeconds;
    const c1 = (median(one.map((m) => m.cpuSeconds)) - startup1) / (args.records / 1e6);
    const cn = (median(many.map((m) => m.cpuSeconds)) - startupN) / (args.records / 1e6);
    const fmt = (x: number): string => `${(x / 1e6).toFixed(2)}M`;
    const perRound = many.map((m, i) => (m.recordsPerSecond / (one[i] as Measured).recordsPerSecond).toFixed(2)).join(', ');
    console.log(`| ${job}, ${input} (${args.records / 1e6}M records) | ${fmt(rw)} | ${fmt(r1)} | ${fmt(rn)} | ${(rn / r1).toFixed(2)}× (${perRound}) | ${c1.toFixed(2)} / ${cn.toFixed(2)} | ${((workers * c1) / cn).toFixed(2)}× |`);
  }
  console.log(`load after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

if (isMainThread && process.argv[1] === fileURLToPath(import.meta.url)) await main();
