/**
 * `npm run bench` — Tidemark vs a hand-written plain-JS loop on keyed window counts.
 *
 * For each workload (tumbling, sliding, session) this script spawns fresh Node processes
 * (`node --expose-gc --import tsx benchmarks/run.ts --child …`):
 *   1. a *time* process: generates the seeded input, checks that Tidemark and the hand loop
 *      produce the same results, then times both with tinybench — warm-up first, then the
 *      contenders alternate (Tidemark, loop, Tidemark, loop, …), one full job per sample;
 *   2. a *heap* process: measures the heap retained while windows are open (forced GC at a few
 *      points of the input) and the bytes allocated by a whole run (from V8's GC statistics).
 * The parent prints a table of records/s, the ratio Tidemark/loop and heap figures.
 *
 *   npm run bench -- [--records N] [--keys K] [--seed S] [--only tumbling,sliding,session]
 *                    [--rounds R] [--rate EVENTS_PER_S] [--disorder MS] [--json FILE]
 *                    [--in-process] [--no-heap]
 *
 * See benchmarks/README.md for the methodology.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { handSessionCount, handSlidingCount, handTumblingCount, type HandRun } from './baselines/handwritten.js';
import { generateClicks, measuredDisorder, type Click } from './generator.js';
import { DEFAULT_PARAMS, WORKLOADS, describeJob, type JobParams, type Workload } from './jobs.js';
import { Checksum, diffWindowCounts, type Emit, type WindowCount } from './results.js';

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
  readonly rounds: number;
  readonly rate: number;
  readonly disorder: number;
  readonly json: string | undefined;
  readonly inProcess: boolean;
  readonly heap: boolean;
  readonly child: Workload | undefined;
  readonly phase: 'time' | 'heap';
  readonly out: string | undefined;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      records: { type: 'string', default: '1000000' },
      keys: { type: 'string', default: '10000' },
      seed: { type: 'string', default: '20240601' },
      only: { type: 'string' },
      rounds: { type: 'string', default: '5' },
      rate: { type: 'string', default: '1000' },
      disorder: { type: 'string' },
      json: { type: 'string' },
      'in-process': { type: 'boolean', default: false },
      'no-heap': { type: 'boolean', default: false },
      child: { type: 'string' },
      phase: { type: 'string', default: 'time' },
      out: { type: 'string' },
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
  const only = values.only === undefined ? WORKLOADS : values.only.split(',').map((w) => asWorkload(w.trim()));
  const phase = values.phase;
  if (phase !== 'time' && phase !== 'heap') throw new Error(`--phase: expected time or heap`);
  const options: Options = {
    records: int('records', values.records),
    keys: int('keys', values.keys),
    seed: int('seed', values.seed),
    only,
    rounds: Math.max(1, int('rounds', values.rounds)),
    rate: int('rate', values.rate),
    disorder: values.disorder === undefined ? DEFAULT_PARAMS.bound : int('disorder', values.disorder),
    json: values.json,
    inProcess: values['in-process'] ?? false,
    heap: !(values['no-heap'] ?? false),
    child: values.child === undefined ? undefined : asWorkload(values.child),
    phase,
    out: values.out,
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

async function loadTidemark(): Promise<{ pipelines: Pipelines | undefined; reason: string | undefined }> {
  try {
    return { pipelines: await import('./pipelines.js'), reason: undefined };
  } catch (e) {
    return { pipelines: undefined, reason: (e as Error).message.split('\n')[0] ?? String(e) };
  }
}

const gc: () => void =
  typeof globalThis.gc === 'function'
    ? (globalThis.gc as () => void)
    : () => {
        /* no --expose-gc: nothing to do */
      };

function heapUsed(): number {
  return process.memoryUsage().heapUsed;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
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
  readonly ratio: number | null;
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
  readonly checksumsEqual: boolean;
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
  loopOut.length = 0;

  // --- 2. timing: warm-up, then alternate Tidemark / loop ---
  const tm = pipelines && error === null ? pipelines : undefined;
  const loopSum = new Checksum();
  const tmSum = new Checksum();
  const sums: { loop: string[]; tidemark: string[] } = { loop: [], tidemark: [] };
  const loopEmit: Emit = (r) => loopSum.add(r.key, r.start, r.end, r.count);
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
          },
          afterEach: function (mode) {
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
        },
        afterEach: function (mode) {
          if (mode === 'run') sums.loop.push(loopSum.value());
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
    const tidemarkMs = tm ? sampleOf(`tidemark #${round}`) : null;
    rounds.push({ loopMs, tidemarkMs, ratio: tidemarkMs === null ? null : loopMs / tidemarkMs });
  }
  const checksumsEqual = [...sums.loop, ...sums.tidemark].every((s) => s === reference.value());
  if (!checksumsEqual) log(`CHECKSUM MISMATCH: reference ${reference.value()}, loop ${sums.loop.join(' ')}, tidemark ${sums.tidemark.join(' ')}`);
  const tmTimes = rounds.flatMap((r) => (r.tidemarkMs === null ? [] : [r.tidemarkMs]));
  const ratios = rounds.flatMap((r) => (r.ratio === null ? [] : [r.ratio]));
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
    checksumsEqual,
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
  readonly error: string | null;
}

const PROBE_FRACTIONS = [0.2, 0.4, 0.6, 0.8];
const HEAP_REPEATS = 3;

/**
 * Whatever a heap probe must keep alive until it has been measured. A module-level slot, so that
 * nothing from a previous probe lingers in an interpreter register and skews the next baseline.
 */
let held: unknown = null;

interface Allocation {
  readonly bytes: number;
  readonly gcCount: number;
  readonly gcMs: number;
}

/** Bytes allocated while `fn` runs: heap growth between GCs, summed from V8's GC profiler. */
async function measureAllocation(fn: () => unknown): Promise<Allocation> {
  gc();
  const profiler = new GCProfiler();
  const start = getHeapStatistics().used_heap_size;
  profiler.start();
  await fn();
  const end = getHeapStatistics().used_heap_size;
  const profile = profiler.stop();
  let bytes = 0;
  let previous = start;
  let gcMs = 0;
  for (const entry of profile?.statistics ?? []) {
    bytes += entry.beforeGC.heapStatistics.usedHeapSize - previous;
    previous = entry.afterGC.heapStatistics.usedHeapSize;
    gcMs += entry.cost / 1000;
  }
  bytes += end - previous;
  return { bytes, gcCount: profile?.statistics.length ?? 0, gcMs };
}

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
  ];
}

async function runSuite(o: Options, workload: Workload, dir: string): Promise<SuiteResult> {
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
      const child = spawnSync(process.execPath, args, { cwd: repoRoot, stdio: 'inherit' });
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

function printTable(results: Map<Workload, SuiteResult>): void {
  const speed: Record<string, string>[] = [];
  const memory: Record<string, string>[] = [];
  for (const [workload, s] of results) {
    const t = s.time;
    const h = s.heap;
    const job = t?.description ?? workload;
    const verdict =
      t === null || t.ratio === null ? '—' : t.verification.equal !== true || !t.checksumsEqual ? 'RESULTS DIFFER' : t.ratio.median >= 0.5 ? 'met (≥ 0.50)' : 'MISSED (< 0.50)';
    speed.push({
      job,
      'loop records/s': fmtM(t?.loop.median),
      'tidemark records/s': fmtM(t?.tidemark?.median),
      'ratio tidemark/loop (min–max)': fmtRatio(t?.ratio ?? null),
      'target ≥ 0.50': verdict,
      'same results': t === null ? '—' : t.verification.equal === null ? 'loop only' : t.verification.equal && t.checksumsEqual ? 'yes' : 'NO',
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
    });
  }
  console.log('\nThroughput (records/s: median of the rounds)');
  console.table(speed);
  if ([...results.values()].some((r) => r.heap !== null)) {
    console.log('Heap');
    console.table(memory);
  }
}

async function parent(o: Options): Promise<void> {
  const started = Date.now();
  console.log(
    `Tidemark vs hand-written loop — ${o.records.toLocaleString('en')} records, ${o.keys.toLocaleString('en')} keys, seed ${o.seed}, ` +
      `${o.rate} records/s of event time, disorder ≤ ${o.disorder} ms; ${o.rounds} alternating rounds; ` +
      `${o.inProcess ? 'in this process' : 'each suite in fresh processes'}`,
  );
  console.log(`Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-bench-'));
  const results = new Map<Workload, SuiteResult>();
  try {
    for (const workload of o.only) {
      console.log(`\n=== ${workload} ===`);
      const r = await runSuite(o, workload, dir);
      if (r.failure) console.log(`[${workload}] FAILED: ${r.failure}`);
      results.set(workload, r);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(results);
  const elapsed = (Date.now() - started) / 1000;
  console.log(
    `ratio = Tidemark records/s ÷ loop records/s, median of the ${o.rounds} paired rounds (min–max); target ≥ 0.50.\n` +
      `retained = heap held with windows open (forced GC at ${PROBE_FRACTIONS.map((f) => `${f * 100}%`).join(', ')} of the input, mean); ` +
      `per open window = retained ÷ open (key, window) pairs of the same moment.\n` +
      `alloc/1M records = heap allocated (garbage included) during one whole run, per million records.  Total ${elapsed.toFixed(0)} s.`,
  );
  if (o.json) {
    const doc = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? null,
      loadavg: loadavg(),
      options: { records: o.records, keys: o.keys, seed: o.seed, rounds: o.rounds, rate: o.rate, disorder: o.disorder, only: o.only },
      elapsedSeconds: elapsed,
      suites: Object.fromEntries(results),
    };
    writeFileSync(o.json, JSON.stringify(doc, null, 2) + '\n');
    console.log(`wrote ${o.json}`);
  }
  const bad = [...results.values()].some((r) => r.failure !== null || r.time?.verification.equal === false || r.time?.checksumsEqual === false || r.time?.error);
  if (bad) process.exitCode = 1;
}

async function main(): Promise<void> {
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
