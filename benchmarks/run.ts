/**
 * `npm run bench` — Tidemark vs a hand-written plain-JS loop vs idiomatic RxJS 7, on keyed window
 * counts and on Nexmark q5, q7 and q11 (and q4, Tidemark only); `npm run bench -- nexmark --query qN …`
 * runs one Nexmark query (see `nexmark/bench.ts`).
 *
 * For each window-count workload (tumbling, sliding, session) this script spawns fresh Node
 * processes (`node --expose-gc --import tsx benchmarks/run.ts --child …`):
 *   1. a *time* process: generates the seeded input, checks that Tidemark, the hand loop and RxJS
 *      produce the same results, then times all three with tinybench — warm-up first, then the
 *      contenders alternate (Tidemark, loop, RxJS, Tidemark, …), one full job per sample, with
 *      the CPU time (user + system) of every sample; then Tidemark's latency (watermark passing a
 *      window's end → sink) with the input paced at `--latency-rate` records/s (`latency.ts`);
 *   2. a *heap* process: measures the heap retained while windows are open (forced GC at a few
 *      points of the input) and the bytes allocated by a whole run (from V8's GC statistics).
 * Then each Nexmark query runs in its own fresh process (`run.ts nexmark --query …`), checked
 * against DuckDB. The parent prints the tables and writes `benchmarks/results/suite.json` (with
 * the machine, Node version, load and git commit) and `benchmarks/results/throughput.svg`.
 * On a terminal it shows a progress bar and sends the children's logs to
 * `benchmarks/results/last-run.log`.
 *
 *   npm run bench -- [--records N] [--events N] [--keys K] [--seed S]
 *                    [--only tumbling,sliding,session,q5,q7,q11,q4] [--rounds R] [--rate EVENTS_PER_S]
 *                    [--disorder MS] [--json FILE] [--in-process] [--no-heap] [--latency-rate R (0: skip)]
 *   npm run bench -- nexmark --query q5 --events 1000000 [--json out.json] [--no-oracle] …
 *
 * See benchmarks/README.md for the methodology.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { handSessionCount, handSlidingCount, handTumblingCount, type HandRun } from './baselines/handwritten.js';
import { generateClicks, measuredDisorder, type Click } from './generator.js';
import { DEFAULT_PARAMS, WORKLOADS, describeJob, type JobParams, type Workload } from './jobs.js';
import { Checksum, diffWindowCounts, type Emit, type WindowCount } from './results.js';
import { nexmarkResultOk, parseNexmarkArgs, runNexmarkBench, type NexmarkBenchResult } from './nexmark/bench.js';
import { type Allocation, gc, machine, measureAllocation, median } from './nexmark/measure.js';
import { rxSessionCount, rxSlidingCount, rxTumblingCount } from './baselines/rxjs.js';
import { type ChartEntry, printNexmarkTable, progressBar, throughputChart } from './nexmark/report.js';
import { type LatencyFigures, pacedLatency } from './latency.js';

type Pipelines = typeof import('./pipelines.js');

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..');

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

interface Options {
  readonly records: number;
  readonly keys: number;
  readonly seed: number;
  readonly only: readonly Workload[];
  /** Nexmark queries measured after the window counts (from `--only`; default q5, q7, q11, q4). */
  readonly nexmark: readonly string[];
  /** Events per Nexmark query (default: `--records`). */
  readonly events: number;
  readonly rounds: number;
  readonly rate: number;
  readonly disorder: number;
  readonly json: string | undefined;
  readonly inProcess: boolean;
  readonly heap: boolean;
  readonly child: Workload | undefined;
  readonly phase: 'time' | 'heap';
  readonly out: string | undefined;
  /** Records per second of real time for the latency run of the window counts; 0 skips it. */
  readonly latencyRate: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      records: { type: 'string', default: '1000000' },
      keys: { type: 'string', default: '10000' },
      seed: { type: 'string', default: '20240601' },
      only: { type: 'string' },
      events: { type: 'string' },
      rounds: { type: 'string', default: '5' },
      rate: { type: 'string', default: '1000' },
      disorder: { type: 'string' },
      json: { type: 'string' },
      'in-process': { type: 'boolean', default: false },
      'no-heap': { type: 'boolean', default: false },
      child: { type: 'string' },
      phase: { type: 'string', default: 'time' },
      out: { type: 'string' },
      'latency-rate': { type: 'string', default: '200000' },
    },
    strict: true,
  });
  const int = (name: string, v: string | undefined): number => {
    const n = Number((v ?? '').replaceAll('_', ''));
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name}: expected a non-negative integer, got ${v}`);
    return n;
  };
  const asWorkload = (w: string): Workload => {
    if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`unknown workload '${w}' (expected ${WORKLOADS.join(', ')})`);
    return w as Workload;
  };
  const picked = values.only?.split(',').map((w) => w.trim());
  const only = picked === undefined ? WORKLOADS : picked.filter((w) => !w.startsWith('q')).map(asWorkload);
  const queries = picked === undefined ? [...SUITE_QUERIES] : picked.filter((w) => w.startsWith('q'));
  for (const q of queries) {
    if (!(SUITE_QUERIES as readonly string[]).includes(q)) throw new Error(`--only: the suite measures Nexmark ${SUITE_QUERIES.join(', ')}; use \`npm run bench -- nexmark --query ${q}\` for others`);
  }
  const phase = values.phase;
  if (phase !== 'time' && phase !== 'heap') throw new Error(`--phase: expected time or heap`);
  const options: Options = {
    records: int('records', values.records),
    keys: int('keys', values.keys),
    seed: int('seed', values.seed),
    only,
    nexmark: queries,
    events: values.events === undefined ? int('records', values.records) : int('events', values.events),
    rounds: Math.max(1, int('rounds', values.rounds)),
    rate: int('rate', values.rate),
    disorder: values.disorder === undefined ? DEFAULT_PARAMS.bound : int('disorder', values.disorder),
    json: values.json,
    inProcess: values['in-process'] ?? false,
    heap: !(values['no-heap'] ?? false),
    child: values.child === undefined ? undefined : asWorkload(values.child),
    phase,
    out: values.out,
    latencyRate: int('latency-rate', values['latency-rate']),
  };
  if (options.keys < 1 || options.rate < 1) throw new Error('--keys and --rate must be ≥ 1');
  return options;
}

/** The job parameters: the watermark bound equals the generator's disorder bound, so nothing is late. */
function paramsFor(o: Options): JobParams {
  return { ...DEFAULT_PARAMS, bound: o.disorder };
}

function inputFor(o: Options): Click[] {
  return generateClicks({ records: o.records, keys: o.keys, seed: o.seed, eventsPerSecond: o.rate, maxDisorderMs: o.disorder });
}

// ---------------------------------------------------------------------------------------------
// Contenders
// ---------------------------------------------------------------------------------------------

function runHand(workload: Workload, records: readonly Click[], p: JobParams, emit: Emit, limit?: number, flush?: boolean): HandRun {
  switch (workload) {
    case 'tumbling':
      return handTumblingCount(records, { size: p.size, bound: p.bound }, emit, limit, flush);
    case 'sliding':
      return handSlidingCount(records, { size: p.size, slide: p.slide, bound: p.bound }, emit, limit, flush);
    case 'session':
      return handSessionCount(records, { gap: p.gap, bound: p.bound }, emit, limit, flush);
  }
}

function runRx(workload: Workload, records: readonly Click[], p: JobParams, emit: Emit): Promise<void> {
  const o = { size: p.size, slide: p.slide, gap: p.gap, bound: p.bound };
  switch (workload) {
    case 'tumbling':
      return rxTumblingCount(records, o, emit);
    case 'sliding':
      return rxSlidingCount(records, o, emit);
    case 'session':
      return rxSessionCount(records, o, emit);
  }
}

async function loadTidemark(): Promise<{ pipelines: Pipelines | undefined; reason: string | undefined }> {
  try {
    return { pipelines: await import('./pipelines.js'), reason: undefined };
  } catch (e) {
    return { pipelines: undefined, reason: (e as Error).message.split('\n')[0] ?? String(e) };
  }
}

function heapUsed(): number {
  return process.memoryUsage().heapUsed;
}

// ---------------------------------------------------------------------------------------------
// Child, phase "time": verify, then time with tinybench
// ---------------------------------------------------------------------------------------------

interface Verification {
  readonly equal: boolean | null;
  readonly loopResults: number;
  readonly tidemarkResults: number | null;
  readonly loopLate: number;
  readonly tidemarkLate: number | null;
  readonly panes: Record<string, number> | null;
  readonly onlyTidemark: WindowCount[];
  readonly onlyLoop: WindowCount[];
  readonly windowOperator: unknown;
  readonly checksum: string;
}

interface Round {
  readonly tidemarkMs: number | null;
  readonly loopMs: number;
  readonly rxjsMs: number;
  readonly ratio: number | null;
  /** Tidemark records/s ÷ RxJS records/s in this round. */
  readonly ratioRxjs: number | null;
  /** CPU time (user + system) of each sample, ms. */
  readonly tidemarkCpuMs: number | null;
  readonly loopCpuMs: number;
  readonly rxjsCpuMs: number;
}

interface Rate {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

interface TimeResult {
  readonly workload: Workload;
  readonly description: string;
  readonly records: number;
  readonly keys: number;
  readonly seed: number;
  readonly rate: number;
  readonly disorder: number;
  readonly measuredDisorder: number;
  readonly params: JobParams;
  readonly tidemarkAvailable: boolean;
  readonly tidemarkUnavailableReason: string | null;
  readonly verification: Verification;
  readonly rounds: Round[];
  readonly loop: Rate;
  readonly tidemark: Rate | null;
  readonly ratio: Rate | null;
  readonly rxjs: Rate;
  readonly ratioRxjs: Rate | null;
  /** RxJS results equal to the loop's (verification run). */
  readonly rxjsEqual: boolean;
  /** CPU seconds per million records (median of the rounds): a per-core figure. */
  readonly cpuSecPerMillion: { readonly loop: number; readonly tidemark: number | null; readonly rxjs: number };
  readonly checksumsEqual: boolean;
  /** Tidemark's watermark-passes-end → sink latency at `rate` records/s of real time (null: skipped). */
  readonly latency: (LatencyFigures & { readonly rate: number; readonly records: number }) | null;
  readonly error: string | null;
}

function rate(records: number, ms: readonly number[]): Rate {
  const rps = ms.map((t) => (records / t) * 1000);
  return { median: median(rps), min: Math.min(...rps), max: Math.max(...rps) };
}

async function timePhase(workload: Workload, o: Options): Promise<TimeResult> {
  const log = (s: string): void => console.log(`[${workload}] ${s}`);
  const params = paramsFor(o);
  const t0 = performance.now();
  const records = inputFor(o);
  const disorder = measuredDisorder(records);
  log(`${records.length.toLocaleString('en')} records, ${o.keys.toLocaleString('en')} keys, seed ${o.seed}, ${o.rate}/s event time, disorder ≤ ${disorder} ms (generated in ${(performance.now() - t0).toFixed(0)} ms)`);
  const { pipelines, reason } = await loadTidemark();
  if (!pipelines) log(`tidemark unavailable (${reason}); timing the hand loop only`);

  // --- 1. verification: same results from both ---
  const loopOut: WindowCount[] = [];
  const loopRun = runHand(workload, records, params, (r) => {
    loopOut.push(r);
  });
  const reference = new Checksum();
  for (const r of loopOut) reference.add(r.key, r.start, r.end, r.count);
  let verification: Verification = {
    equal: null,
    loopResults: loopOut.length,
    tidemarkResults: null,
    loopLate: loopRun.late,
    tidemarkLate: null,
    panes: null,
    onlyTidemark: [],
    onlyLoop: [],
    windowOperator: null,
    checksum: reference.value(),
  };
  let error: string | null = null;
  if (pipelines) {
    const tmOut: WindowCount[] = [];
    const panes: Record<string, number> = {};
    try {
      const summary = await pipelines.runTidemark(workload, records, params, (r) => {
        const tag = `${r.pane.timing}${r.pane.final ? '/final' : ''}${r.retraction ? '/retraction' : ''}`;
        panes[tag] = (panes[tag] ?? 0) + 1;
        if (r.retraction !== true) tmOut.push({ key: r.key, start: r.window.start, end: r.window.end, count: r.value });
      });
      const d = diffWindowCounts(tmOut, loopOut, 5);
      const op = (summary.operators as Record<string, unknown>)[pipelines.WINDOW_NAME] ?? null;
      verification = {
        ...verification,
        equal: d.equal,
        tidemarkResults: tmOut.length,
        tidemarkLate: summary.lateRecords,
        panes,
        onlyTidemark: d.onlyLeft,
        onlyLoop: d.onlyRight,
        windowOperator: op,
      };
    } catch (e) {
      error = `tidemark failed during verification: ${(e as Error).stack ?? String(e)}`;
    }
  }
  log(
    `verify: loop ${verification.loopResults.toLocaleString('en')} results (late ${verification.loopLate})` +
      (verification.tidemarkResults === null
        ? ''
        : `, tidemark ${verification.tidemarkResults.toLocaleString('en')} results (late ${verification.tidemarkLate}, panes ${JSON.stringify(verification.panes)}) → ${verification.equal ? 'EQUAL' : 'DIFFERENT'}`),
  );
  if (verification.equal === false) {
    log(`  only in tidemark: ${JSON.stringify(verification.onlyTidemark)}`);
    log(`  only in loop:     ${JSON.stringify(verification.onlyLoop)}`);
  }
  if (error) log(error);
  const rxOut: WindowCount[] = [];
  await runRx(workload, records, params, (r) => {
    rxOut.push(r);
  });
  const rxDiff = diffWindowCounts(rxOut, loopOut, 5);
  log(`verify: rxjs ${rxOut.length.toLocaleString('en')} results → ${rxDiff.equal ? 'EQUAL' : 'DIFFERENT'} to the loop`);
  if (!rxDiff.equal) log(`  only in rxjs: ${JSON.stringify(rxDiff.onlyLeft)}; only in loop: ${JSON.stringify(rxDiff.onlyRight)}`);
  rxOut.length = 0;
  loopOut.length = 0;

  // --- 2. timing: warm-up, then alternate Tidemark / loop ---
  const tm = pipelines && error === null ? pipelines : undefined;
  const loopSum = new Checksum();
  const tmSum = new Checksum();
  const rxSum = new Checksum();
  const sums: { loop: string[]; tidemark: string[]; rxjs: string[] } = { loop: [], tidemark: [], rxjs: [] };
  const loopEmit: Emit = (r) => loopSum.add(r.key, r.start, r.end, r.count);
  const rxEmit: Emit = (r) => rxSum.add(r.key, r.start, r.end, r.count);
  // CPU time per task (user + system), taken in the hooks around each sample
  const cpuMs = new Map<string, number>();
  let cpuStart = process.cpuUsage();
  const cpuFrom = (name: string): void => {
    const d = process.cpuUsage(cpuStart);
    cpuMs.set(name, (d.user + d.system) / 1000);
  };
  const bench = new Bench({
    name: describeJob(workload, params),
    iterations: 1,
    time: 0,
    warmup: true,
    warmupIterations: 1,
    warmupTime: 0,
    timestampProvider: 'hrtimeNow',
    retainSamples: true,
    throws: true,
  });
  for (let round = 1; round <= o.rounds; round++) {
    if (tm) {
      bench.add(
        `tidemark #${round}`,
        async () => {
          await tm.runTidemark(workload, records, params, (r) => tmSum.add(r.key, r.window.start, r.window.end, r.value));
        },
        {
          async: true,
          beforeEach: () => {
            tmSum.reset();
            gc();
            cpuStart = process.cpuUsage();
          },
          afterEach: function (mode) {
            cpuFrom(`tidemark #${round}`);
            if (mode === 'run') sums.tidemark.push(tmSum.value());
          },
        },
      );
    }
    bench.add(
      `loop #${round}`,
      () => {
        runHand(workload, records, params, loopEmit);
      },
      {
        async: false,
        beforeEach: () => {
          loopSum.reset();
          gc();
          cpuStart = process.cpuUsage();
        },
        afterEach: function (mode) {
          cpuFrom(`loop #${round}`);
          if (mode === 'run') sums.loop.push(loopSum.value());
        },
      },
    );
    bench.add(
      `rxjs #${round}`,
      async () => {
        await runRx(workload, records, params, rxEmit);
      },
      {
        async: true,
        beforeEach: () => {
          rxSum.reset();
          gc();
          cpuStart = process.cpuUsage();
        },
        afterEach: function (mode) {
          cpuFrom(`rxjs #${round}`);
          if (mode === 'run') sums.rxjs.push(rxSum.value());
        },
      },
    );
  }
  bench.addEventListener('cycle', (evt) => {
    const task = evt.task;
    if (!task) return;
    const res = task.result;
    if (res.state === 'completed') log(`  ${task.name.padEnd(12)} ${res.latency.mean.toFixed(1).padStart(9)} ms  ${((o.records / res.latency.mean) * 1000 / 1e6).toFixed(2).padStart(6)} M records/s`);
  });
  log(`timing: warm-up (each task once), then ${o.rounds} alternating round(s)…`);
  await bench.run();

  const sampleOf = (name: string): number | null => {
    const res = bench.getTask(name)?.result;
    if (!res || res.state !== 'completed') return null;
    return res.latency.mean;
  };
  const rounds: Round[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const loopMs = sampleOf(`loop #${round}`);
    if (loopMs === null) throw new Error(`loop #${round} did not complete`);
    const rxjsMs = sampleOf(`rxjs #${round}`);
    if (rxjsMs === null) throw new Error(`rxjs #${round} did not complete`);
    const tidemarkMs = tm ? sampleOf(`tidemark #${round}`) : null;
    rounds.push({
      loopMs,
      tidemarkMs,
      rxjsMs,
      ratio: tidemarkMs === null ? null : loopMs / tidemarkMs,
      ratioRxjs: tidemarkMs === null ? null : rxjsMs / tidemarkMs,
      tidemarkCpuMs: tm ? cpuMs.get(`tidemark #${round}`) ?? null : null,
      loopCpuMs: cpuMs.get(`loop #${round}`) ?? NaN,
      rxjsCpuMs: cpuMs.get(`rxjs #${round}`) ?? NaN,
    });
  }
  const checksumsEqual = [...sums.loop, ...sums.tidemark, ...sums.rxjs].every((s) => s === reference.value());
  if (!checksumsEqual) log(`CHECKSUM MISMATCH: reference ${reference.value()}, loop ${sums.loop.join(' ')}, tidemark ${sums.tidemark.join(' ')}, rxjs ${sums.rxjs.join(' ')}`);

  // --- 3. latency at a fixed input rate (Tidemark only) ---
  let latency: TimeResult['latency'] = null;
  if (pipelines && o.latencyRate > 0) {
    const n = Math.min(records.length, o.latencyRate * 5);
    const input = {
      total: n,
      chunk: (at: number, k: number) => {
        const values = records.slice(at, at + k);
        return { values, timestamps: values.map((r) => r.ts) };
      },
    };
    const l = await pacedLatency(input, { rate: o.latencyRate, bound: params.bound }, (s) => pipelines.windowCounts(workload, s, params), (r) => r.window.end);
    latency = { rate: o.latencyRate, records: n, ...l };
    log(`latency at ${o.latencyRate.toLocaleString('en')} records/s over ${n.toLocaleString('en')} records: ${l.windows} windows, p50 ${l.p50Ms.toFixed(1)} ms, p99 ${l.p99Ms.toFixed(1)} ms, max ${l.maxMs.toFixed(1)} ms`);
  }
  const tmTimes = rounds.flatMap((r) => (r.tidemarkMs === null ? [] : [r.tidemarkMs]));
  const ratios = rounds.flatMap((r) => (r.ratio === null ? [] : [r.ratio]));
  const ratiosRxjs = rounds.flatMap((r) => (r.ratioRxjs === null ? [] : [r.ratioRxjs]));
  const perMillion = (ms: readonly number[]): number => (median(ms) / 1000 / o.records) * 1e6;
  const tmCpu = rounds.flatMap((r) => (r.tidemarkCpuMs === null ? [] : [r.tidemarkCpuMs]));
  return {
    workload,
    description: describeJob(workload, params),
    records: o.records,
    keys: o.keys,
    seed: o.seed,
    rate: o.rate,
    disorder: o.disorder,
    measuredDisorder: disorder,
    params,
    tidemarkAvailable: pipelines !== undefined,
    tidemarkUnavailableReason: reason ?? null,
    verification,
    rounds,
    loop: rate(o.records, rounds.map((r) => r.loopMs)),
    tidemark: tmTimes.length === 0 ? null : rate(o.records, tmTimes),
    ratio: ratios.length === 0 ? null : { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) },
    rxjs: rate(o.records, rounds.map((r) => r.rxjsMs)),
    ratioRxjs: ratiosRxjs.length === 0 ? null : { median: median(ratiosRxjs), min: Math.min(...ratiosRxjs), max: Math.max(...ratiosRxjs) },
    rxjsEqual: rxDiff.equal,
    cpuSecPerMillion: { loop: perMillion(rounds.map((r) => r.loopCpuMs)), tidemark: tmCpu.length === 0 ? null : perMillion(tmCpu), rxjs: perMillion(rounds.map((r) => r.rxjsCpuMs)) },
    checksumsEqual,
    latency,
    error,
  };
}

// ---------------------------------------------------------------------------------------------
// Child, phase "heap"
// ---------------------------------------------------------------------------------------------

interface Probe {
  /** Records read when the probe fired. */
  readonly index: number;
  /** (key, window) pairs open in the hand loop after `index` records (the denominator for both). */
  readonly openWindows: number;
  readonly loopBytes: number;
  readonly tidemarkBytes: number | null;
  /** Results emitted by then: how far each contender had got (Tidemark may lag by a batch). */
  readonly loopResults: number;
  readonly tidemarkResults: number | null;
}

interface HeapFigures {
  /** Mean retained heap over the probes, with windows open (bytes). */
  readonly retainedBytes: number;
  /** Σ retained / Σ open windows (bytes per open (key, window) pair). */
  readonly bytesPerOpenWindow: number;
  /** Bytes allocated during one whole run (from V8's GC statistics), per record. */
  readonly allocatedBytesPerRecord: number;
  /** Garbage collections during that run, and their total pause (ms). */
  readonly gcCount: number;
  readonly gcMs: number;
}

interface HeapResult {
  readonly workload: Workload;
  readonly gcAvailable: boolean;
  readonly inputBytes: number;
  readonly probes: Probe[];
  readonly meanOpenWindows: number;
  readonly loop: HeapFigures;
  readonly tidemark: HeapFigures | null;
  /** RxJS allocation during one whole run (retained heap is not probed for RxJS). */
  readonly rxjs: { readonly allocatedBytesPerRecord: number; readonly gcCount: number; readonly gcMs: number };
  readonly error: string | null;
}

const PROBE_FRACTIONS = [0.2, 0.4, 0.6, 0.8];
const HEAP_REPEATS = 3;

/**
 * Whatever a heap probe must keep alive until it has been measured. A module-level slot, so that
 * nothing from a previous probe lingers in an interpreter register and skews the next baseline.
 */
let held: unknown = null;

/**
 * Hand loop: process records[0, index) without flushing, GC, measure; then release the state,
 * GC and measure again. The difference is exactly what the open windows hold.
 */
function loopProbe(workload: Workload, records: readonly Click[], params: JobParams, index: number): { openWindows: number; bytes: number; results: number } {
  const counts = openLoopWindows(workload, records, params, index); // leaves the state in `held` only
  gc();
  const withState = heapUsed();
  held = null;
  gc();
  return { ...counts, bytes: withState - heapUsed() };
}

function openLoopWindows(workload: Workload, records: readonly Click[], params: JobParams, index: number): { openWindows: number; results: number } {
  let results = 0;
  const run = runHand(
    workload,
    records,
    params,
    () => {
      results++;
    },
    index,
    false,
  );
  held = run.state;
  return { openWindows: run.openWindows, results };
}

async function heapPhase(workload: Workload, o: Options): Promise<HeapResult> {
  const log = (s: string): void => console.log(`[${workload}] ${s}`);
  const params = paramsFor(o);
  gc();
  const empty = heapUsed();
  const records = inputFor(o);
  gc();
  const inputBytes = heapUsed() - empty;
  const { pipelines } = await loadTidemark();
  const indices = PROBE_FRACTIONS.map((f) => Math.floor(f * records.length)).filter((i) => i > 0);
  log(`heap: probes at ${indices.map((i) => i.toLocaleString('en')).join(', ')} records${pipelines ? '' : ' (hand loop only)'}`);

  // --- hand loop ---
  let emitted = 0;
  const countEmit: Emit = () => {
    emitted++;
  };
  runHand(workload, records, params, countEmit); // warm up
  // each probe is repeated and the median taken: a forced GC still leaves ±50 KB of jitter
  const loopProbes = indices.map((index) => {
    const reps = Array.from({ length: HEAP_REPEATS }, () => loopProbe(workload, records, params, index));
    const first = reps[0] as { openWindows: number; bytes: number; results: number };
    return { ...first, bytes: median(reps.map((r) => r.bytes)) };
  });
  const loopAlloc = await measureAllocation(() => runHand(workload, records, params, countEmit));
  await runRx(workload, records, params, countEmit); // warm up
  const rxAlloc = await measureAllocation(() => runRx(workload, records, params, countEmit));

  // --- Tidemark: a probe in the timestamp extractor GCs and measures when the source reads record i ---
  let tmBytes: number[] | null = null;
  let tmResults: number[] | null = null;
  let tmAlloc: Allocation | null = null;
  let error: string | null = null;
  if (pipelines) {
    try {
      let armed = false;
      let next = 0;
      let target: Click | undefined;
      let results = 0;
      const bytes: number[] = [];
      const seen: number[] = [];
      const probe = (r: Click): number => {
        if (r === target) {
          if (armed) {
            gc();
            bytes.push(heapUsed());
            seen.push(results);
          }
          target = records[indices[++next] ?? -1];
        }
        return r.ts;
      };
      const onResult = (): void => {
        results++;
      };
      const arm = (on: boolean): void => {
        armed = on;
        next = 0;
        target = records[indices[0] ?? -1];
        results = 0;
      };
      arm(false); // warm-up run
      await pipelines.runTidemark(workload, records, params, onResult, { timestamp: probe });
      const perRun: number[][] = [];
      for (let rep = 0; rep < HEAP_REPEATS; rep++) {
        bytes.length = 0;
        seen.length = 0;
        arm(true);
        await pipelines.runTidemark(workload, records, params, onResult, { timestamp: probe });
        arm(false);
        // the baseline: the same process once the run is over and its pipeline is garbage
        gc();
        const after = heapUsed();
        if (bytes.length !== indices.length) throw new Error(`heap probe fired ${bytes.length} of ${indices.length} times (timestamp extractor not called once per record?)`);
        perRun.push(bytes.map((b) => b - after));
      }
      tmBytes = indices.map((_, i) => median(perRun.map((run) => run[i] as number)));
      tmResults = [...seen];
      tmAlloc = await measureAllocation(() => pipelines.runTidemark(workload, records, params, onResult, { timestamp: probe }));
    } catch (e) {
      error = `tidemark failed during heap measurement: ${(e as Error).stack ?? String(e)}`;
      log(error);
      tmBytes = null;
    }
  }

  const probes: Probe[] = loopProbes.map((p, i) => ({
    index: indices[i] as number,
    openWindows: p.openWindows,
    loopBytes: p.bytes,
    tidemarkBytes: tmBytes?.[i] ?? null,
    loopResults: p.results,
    tidemarkResults: tmResults?.[i] ?? null,
  }));
  const sumOpen = probes.reduce((s, p) => s + p.openWindows, 0);
  const figures = (bytes: number[], alloc: Allocation): HeapFigures => {
    const total = bytes.reduce((s, b) => s + b, 0);
    return {
      retainedBytes: total / bytes.length,
      bytesPerOpenWindow: sumOpen === 0 ? NaN : total / sumOpen,
      allocatedBytesPerRecord: alloc.bytes / records.length,
      gcCount: alloc.gcCount,
      gcMs: alloc.gcMs,
    };
  };
  for (const p of probes) {
    log(
      `  at ${p.index.toLocaleString('en').padStart(9)}: ${p.openWindows.toLocaleString('en').padStart(7)} open windows; loop ${(p.loopBytes / 1e6).toFixed(2)} MB` +
        (p.tidemarkBytes === null ? '' : `, tidemark ${(p.tidemarkBytes / 1e6).toFixed(2)} MB (results so far: loop ${p.loopResults}, tidemark ${p.tidemarkResults})`),
    );
  }
  const loop = figures(loopProbes.map((p) => p.bytes), loopAlloc);
  const tidemark = tmBytes === null || tmAlloc === null ? null : figures(tmBytes, tmAlloc);
  const alloc = (name: string, f: HeapFigures): string =>
    `${name} allocates ${f.allocatedBytesPerRecord.toFixed(0)} B/record (${f.gcCount} GCs, ${f.gcMs.toFixed(0)} ms)`;
  log(`  ${alloc('loop', loop)}${tidemark ? `; ${alloc('tidemark', tidemark)}` : ''}`);
  return {
    workload,
    gcAvailable: typeof globalThis.gc === 'function',
    inputBytes,
    probes,
    meanOpenWindows: sumOpen / Math.max(1, probes.length),
    loop,
    tidemark,
    rxjs: { allocatedBytesPerRecord: rxAlloc.bytes / records.length, gcCount: rxAlloc.gcCount, gcMs: rxAlloc.gcMs },
    error,
  };
}

// ---------------------------------------------------------------------------------------------
// Parent
// ---------------------------------------------------------------------------------------------

interface SuiteResult {
  readonly time: TimeResult | null;
  readonly heap: HeapResult | null;
  readonly failure: string | null;
}

function childArgs(o: Options, workload: Workload, phase: 'time' | 'heap', out: string): string[] {
  return [
    '--records', String(o.records),
    '--keys', String(o.keys),
    '--seed', String(o.seed),
    '--rounds', String(o.rounds),
    '--rate', String(o.rate),
    '--disorder', String(o.disorder),
    '--child', workload,
    '--phase', phase,
    '--out', out,
    '--latency-rate', String(o.latencyRate),
  ];
}

async function runSuite(o: Options, workload: Workload, dir: string, output: 'inherit' | number): Promise<SuiteResult> {
  const phases: ('time' | 'heap')[] = o.heap ? ['time', 'heap'] : ['time'];
  let time: TimeResult | null = null;
  let heap: HeapResult | null = null;
  const failures: string[] = [];
  for (const phase of phases) {
    const out = join(dir, `${workload}-${phase}.json`);
    if (o.inProcess) {
      const r = phase === 'time' ? await timePhase(workload, o) : await heapPhase(workload, o);
      writeFileSync(out, JSON.stringify(r));
    } else {
      const args = ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), ...childArgs(o, workload, phase, out)];
      const child = spawnSync(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', output, output] });
      if (child.status !== 0) {
        failures.push(`${phase} process exited with ${child.status ?? child.signal}`);
        continue;
      }
    }
    const parsed = JSON.parse(readFileSync(out, 'utf8')) as TimeResult | HeapResult;
    if (phase === 'time') time = parsed as TimeResult;
    else heap = parsed as HeapResult;
  }
  return { time, heap, failure: failures.length === 0 ? null : failures.join('; ') };
}

const fmtM = (n: number | undefined | null): string => (n === undefined || n === null || !Number.isFinite(n) ? '—' : `${(n / 1e6).toFixed(2)}M`);
const fmtRatio = (r: Rate | null): string => (r === null ? '—' : `${r.median.toFixed(2)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})`);
const fmtBytes = (n: number | undefined | null): string => (n === undefined || n === null || !Number.isFinite(n) ? '—' : `${Math.round(n)} B`);
const fmtMB = (n: number | undefined | null): string => (n === undefined || n === null || !Number.isFinite(n) ? '—' : `${(n / 1e6).toFixed(2)} MB`);

/** The issue's targets: Tidemark ÷ hand loop records/s per workload (and ≥ 3× RxJS everywhere). */
const TARGETS: Partial<Record<string, number>> = { tumbling: 0.5, sliding: 1.0, session: 0.5, q5: 1.0, q7: 0.5, q11: 0.5 };

/** The Nexmark queries the suite measures side by side with the baselines. */
const SUITE_QUERIES = ['q5', 'q7', 'q11', 'q4'] as const;

function printTable(results: Map<Workload, SuiteResult>): void {
  const speed: Record<string, string>[] = [];
  const memory: Record<string, string>[] = [];
  for (const [workload, s] of results) {
    const t = s.time;
    const h = s.heap;
    const job = t?.description ?? workload;
    const verdict =
      t === null || t.ratio === null ? '—' : t.verification.equal !== true || !t.checksumsEqual ? 'RESULTS DIFFER' : t.ratio.median >= (TARGETS[workload] ?? 0.5) ? 'met' : 'MISSED';
    speed.push({
      job,
      'loop records/s': fmtM(t?.loop.median),
      'tidemark records/s': fmtM(t?.tidemark?.median),
      'rxjs records/s': fmtM(t?.rxjs?.median),
      'ratio tidemark/loop (min–max)': fmtRatio(t?.ratio ?? null),
      'ratio tidemark/rxjs (min–max)': fmtRatio(t?.ratioRxjs ?? null),
      'target (hand; 3× rxjs)': `≥ ${(TARGETS[workload] ?? 0.5).toFixed(2)}: ${verdict} / ${t?.ratioRxjs ? (t.ratioRxjs.median >= 3 ? 'met' : 'MISSED') : '—'}`,
      'CPU-s/M tm · loop · rxjs': t?.cpuSecPerMillion ? [t.cpuSecPerMillion.tidemark, t.cpuSecPerMillion.loop, t.cpuSecPerMillion.rxjs].map((x) => (x === null ? '—' : x.toFixed(2))).join(' · ') : '—',
      'latency p50 / p99': t?.latency ? `${t.latency.p50Ms.toFixed(1)} / ${t.latency.p99Ms.toFixed(1)} ms` : '—',
      'same results': t === null ? '—' : t.verification.equal === null ? 'loop only' : t.verification.equal && t.checksumsEqual && t.rxjsEqual ? 'yes' : 'NO',
    });
    memory.push({
      job,
      'open windows': h ? Math.round(h.meanOpenWindows).toLocaleString('en') : '—',
      'retained loop': fmtMB(h?.loop.retainedBytes),
      'retained tidemark': fmtMB(h?.tidemark?.retainedBytes),
      'per open window loop': fmtBytes(h?.loop.bytesPerOpenWindow),
      'per open window tidemark': fmtBytes(h?.tidemark?.bytesPerOpenWindow),
      'alloc/1M records loop': fmtMB(h ? h.loop.allocatedBytesPerRecord * 1e6 : null),
      'alloc/1M records tidemark': fmtMB(h?.tidemark ? h.tidemark.allocatedBytesPerRecord * 1e6 : null),
      'alloc/1M records rxjs': fmtMB(h?.rxjs ? h.rxjs.allocatedBytesPerRecord * 1e6 : null),
    });
  }
  console.log('\nThroughput (records/s: median of the rounds)');
  console.table(speed);
  if ([...results.values()].some((r) => r.heap !== null)) {
    console.log('Heap');
    console.table(memory);
  }
}

/** Runs one Nexmark query in a fresh process (`run.ts nexmark …`) and reads its JSON. */
function runNexmarkChild(o: Options, query: string, dir: string, output: 'inherit' | number): NexmarkBenchResult | string {
  const out = join(dir, `nexmark-${query}.json`);
  const args = [
    '--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), 'nexmark',
    '--query', query, '--events', String(o.events), '--seed', String(o.seed), '--rounds', String(Math.min(o.rounds, 3)), '--json', out,
  ];
  const child = spawnSync(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', output, output] });
  if (child.status !== 0 && !existsSync(out)) return `nexmark ${query} exited with ${child.status ?? child.signal}`;
  return JSON.parse(readFileSync(out, 'utf8')) as NexmarkBenchResult;
}

async function parent(o: Options): Promise<void> {
  const started = Date.now();
  console.log(
    `Tidemark vs hand-written loop vs RxJS — ${o.records.toLocaleString('en')} records, ${o.keys.toLocaleString('en')} keys, seed ${o.seed}, ` +
      `${o.rate} records/s of event time, disorder ≤ ${o.disorder} ms; ${o.rounds} alternating rounds; ` +
      `${o.inProcess ? 'in this process' : 'each suite in fresh processes'}; Nexmark ${o.nexmark.join(', ') || 'none'} over ${o.events.toLocaleString('en')} events`,
  );
  console.log(`Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-bench-'));
  const results = new Map<Workload, SuiteResult>();
  const nexmark: NexmarkBenchResult[] = [];
  const failures: string[] = [];
  // on a terminal: progress bars, the children's logs go to a file; otherwise logs inline
  const bar = progressBar('bench');
  const logFile = join(repoRoot, 'benchmarks', 'results', 'last-run.log');
  const output: 'inherit' | number = process.stdout.isTTY ? openSync(logFile, 'w') : 'inherit';
  if (output !== 'inherit') console.log(`(the children's logs go to ${logFile})`);
  const total = o.only.length * (o.heap ? 2 : 1) + o.nexmark.length;
  let done = 0;
  try {
    for (const workload of o.only) {
      if (output === 'inherit') console.log(`\n=== ${workload} ===`);
      bar.update(done, total, workload);
      const r = await runSuite(o, workload, dir, output);
      done += o.heap ? 2 : 1;
      if (r.failure) {
        console.log(`[${workload}] FAILED: ${r.failure}`);
        failures.push(`${workload}: ${r.failure}`);
      }
      results.set(workload, r);
    }
    for (const query of o.nexmark) {
      if (output === 'inherit') console.log(`\n=== nexmark ${query} ===`);
      bar.update(done, total, `nexmark ${query}`);
      const r = runNexmarkChild(o, query, dir, output);
      done++;
      if (typeof r === 'string') failures.push(r);
      else nexmark.push(r);
    }
    bar.update(done, total, 'done');
  } finally {
    bar.stop();
    if (output !== 'inherit') closeSync(output);
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(results);
  if (nexmark.length > 0) printNexmarkTable(nexmark);
  const elapsed = (Date.now() - started) / 1000;
  console.log(
    `ratio = Tidemark records/s ÷ baseline records/s, median of the ${o.rounds} paired rounds (min–max).\n` +
      `CPU-s/M = CPU seconds (user + system) per million records: a per-core figure.\n` +
      `retained = heap held with windows open (forced GC at ${PROBE_FRACTIONS.map((f) => `${f * 100}%`).join(', ')} of the input, mean); ` +
      `per open window = retained ÷ open (key, window) pairs of the same moment.\n` +
      `alloc/1M records = heap allocated (garbage included) during one whole run, per million records.  Total ${elapsed.toFixed(0)} s.`,
  );
  const doc = {
    machine: machine(repoRoot),
    options: { records: o.records, keys: o.keys, seed: o.seed, rounds: o.rounds, rate: o.rate, disorder: o.disorder, only: o.only, nexmark: o.nexmark, events: o.events },
    elapsedSeconds: elapsed,
    suites: Object.fromEntries(results),
    nexmark,
    failures,
  };
  const resultsDir = join(repoRoot, 'benchmarks', 'results');
  const json = o.json ?? join(resultsDir, 'suite.json');
  writeFileSync(json, JSON.stringify(doc, null, 2) + '\n');
  const chart: ChartEntry[] = [
    ...[...results].flatMap(([w, r]) => (r.time?.tidemark ? [{ label: w, tidemark: r.time.tidemark.median, handwritten: r.time.loop.median, rxjs: r.time.rxjs.median }] : [])),
    ...nexmark.map((r) => ({
      label: r.query,
      tidemark: r.tidemark.recordsPerSec,
      fused: r.tidemark.fused.recordsPerSec,
      ...(r.baselines.handwritten ? { handwritten: r.baselines.handwritten.recordsPerSec } : {}),
      ...(r.baselines.rxjs ? { rxjs: r.baselines.rxjs.recordsPerSec } : {}),
    })),
  ];
  const svg = join(resultsDir, 'throughput.svg');
  writeFileSync(svg, throughputChart(chart, `Throughput per workload — Node ${process.version}, ${cpus().length} cores, commit ${doc.machine.commit?.slice(0, 8) ?? '?'}`));
  console.log(`wrote ${json} and ${svg}`);
  const bad =
    failures.length > 0 ||
    [...results.values()].some((r) => r.time?.verification.equal === false || r.time?.checksumsEqual === false || r.time?.rxjsEqual === false || r.time?.error) ||
    nexmark.some((r) => !nexmarkResultOk(r));
  if (bad) process.exitCode = 1;
}

/** `npm run bench -- nexmark --query q5 …`: one Nexmark query, all contenders in this process. */
async function nexmarkCommand(argv: string[]): Promise<void> {
  const o = parseNexmarkArgs(argv, repoRoot);
  const bar = progressBar(`nexmark ${o.query}`);
  const r = await runNexmarkBench({ ...o, progress: bar.update }, repoRoot);
  bar.stop();
  printNexmarkTable([r]);
  if (!nexmarkResultOk(r)) process.exitCode = 1;
}

async function main(): Promise<void> {
  if (process.argv[2] === 'nexmark') {
    await nexmarkCommand(process.argv.slice(3));
    return;
  }
  const o = parseOptions(process.argv.slice(2));
  if (o.child === undefined) {
    await parent(o);
    return;
  }
  if (typeof globalThis.gc !== 'function') console.log(`[${o.child}] warning: no --expose-gc; heap figures include garbage`);
  const r = o.phase === 'time' ? await timePhase(o.child, o) : await heapPhase(o.child, o);
  if (o.out) writeFileSync(o.out, JSON.stringify(r));
  else console.log(JSON.stringify(r, null, 2));
}

await main();
