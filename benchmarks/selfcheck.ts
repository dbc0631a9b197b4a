/**
 * Self-check of the benchmark's baselines: the hand-written loops must compute exactly what a
 * dead-simple O(n²) recomputation of semantics.md computes, on small inputs (including inputs
 * whose disorder exceeds the watermark bound, so that the too-late path is exercised, and
 * negative timestamps). If the 'tidemark' package resolves, its pipelines are checked against
 * the same oracle on the inputs without late records.
 *
 *   npx tsx benchmarks/selfcheck.ts
 */
import { handSessionCount, handSlidingCount, handTumblingCount } from './baselines/handwritten.js';
import { generateClicks, measuredDisorder, type Click } from './generator.js';
import { DEFAULT_PARAMS, WORKLOADS, type JobParams, type Workload } from './jobs.js';
import { diffWindowCounts, type WindowCount } from './results.js';

// ---------------------------------------------------------------------------------------------
// The oracle: no maps, no heaps, no cleverness.
// ---------------------------------------------------------------------------------------------

/** Watermark in force when record i arrives: max timestamp of records 0..i-1, minus bound, minus 1. */
function watermarkBefore(records: readonly Click[], i: number, bound: number): number {
  let maxTs = -Infinity;
  for (let j = 0; j < i; j++) maxTs = Math.max(maxTs, (records[j] as Click).ts);
  return maxTs - bound - 1;
}

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** Windows containing t: tumbling is sliding with slide = size. */
function windowsOf(t: number, size: number, slide: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  // all s ≡ 0 (mod slide) with t − size < s ≤ t, found by brute force
  for (let s = t - size + 1; s <= t; s++) if (mod(s, slide) === 0) out.push({ start: s, end: s + size });
  return out;
}

function oracleFixed(records: readonly Click[], size: number, slide: number, bound: number): { results: WindowCount[]; late: number } {
  const counts: { key: string; start: number; end: number; count: number }[] = [];
  let late = 0;
  records.forEach((r, i) => {
    const wm = watermarkBefore(records, i, bound);
    for (const w of windowsOf(r.ts, size, slide)) {
      if (w.end - 1 <= wm) {
        late++;
        continue;
      }
      const found = counts.find((c) => c.key === r.user && c.start === w.start && c.end === w.end);
      if (found) found.count++;
      else counts.push({ key: r.user, start: w.start, end: w.end, count: 1 });
    }
  });
  return { results: counts, late };
}

function oracleSession(records: readonly Click[], gap: number, bound: number): { results: WindowCount[]; late: number } {
  type S = { key: string; start: number; end: number; count: number; fired: boolean };
  const all: S[] = [];
  let late = 0;
  records.forEach((r, i) => {
    const wm = watermarkBefore(records, i, bound);
    for (const s of all) if (!s.fired && s.end - 1 <= wm) s.fired = true;
    // merge to a fixpoint with the key's live sessions
    let cover = { start: r.ts, end: r.ts + gap, count: 1 };
    let absorbed: S[] = [];
    for (let changed = true; changed; ) {
      changed = false;
      for (const s of all) {
        if (s.fired || s.key !== r.user || absorbed.includes(s)) continue;
        if (s.start < cover.end && cover.start < s.end) {
          cover = { start: Math.min(cover.start, s.start), end: Math.max(cover.end, s.end), count: cover.count + s.count };
          absorbed = [...absorbed, s];
          changed = true;
        }
      }
    }
    if (cover.end - 1 <= wm) {
      late++;
      return;
    }
    for (const s of absorbed) all.splice(all.indexOf(s), 1);
    all.push({ key: r.user, ...cover, fired: false });
  });
  return { results: all.map(({ key, start, end, count }) => ({ key, start, end, count })), late };
}

function oracle(workload: Workload, records: readonly Click[], p: JobParams): { results: WindowCount[]; late: number } {
  switch (workload) {
    case 'tumbling':
      return oracleFixed(records, p.size, p.size, p.bound);
    case 'sliding':
      return oracleFixed(records, p.size, p.slide, p.bound);
    case 'session':
      return oracleSession(records, p.gap, p.bound);
  }
}

/**
 * Runs the hand loop, and checks *when* each window fired: a result emitted while the loop was
 * processing record i must be due (end − 1 ≤ W after record i) and must not be overdue (it was
 * not yet due after record i − 1); results emitted by the final flush must not have been due.
 */
function hand(workload: Workload, records: readonly Click[], p: JobParams): { results: WindowCount[]; late: number; mistimed: string[] } {
  let current = -1;
  const watched = new Proxy(records as Click[], {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && /^\d+$/.test(prop)) current = Number(prop);
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  const after: number[] = []; // watermark after record i
  let maxTs = -Infinity;
  for (const r of records) {
    maxTs = Math.max(maxTs, r.ts);
    after.push(maxTs - p.bound - 1);
  }
  const results: WindowCount[] = [];
  const mistimed: string[] = [];
  let flushing = false;
  const emit = (r: WindowCount): void => {
    results.push(r);
    const due = r.end - 1;
    const last = after[records.length - 1] ?? -Infinity;
    if (flushing) {
      if (due <= last) mistimed.push(`${JSON.stringify(r)} was due before the flush`);
    } else {
      const now = after[current] ?? -Infinity;
      const before = current > 0 ? (after[current - 1] ?? -Infinity) : -Infinity;
      if (due > now) mistimed.push(`${JSON.stringify(r)} fired early, at record ${current} (W = ${now})`);
      if (due <= before) mistimed.push(`${JSON.stringify(r)} fired late, at record ${current} (was due at W = ${before})`);
    }
  };
  // the flush starts once the loop has read the last record and its watermark has been handled;
  // detect it as "no record read since the last one"
  const guard = (r: WindowCount): void => {
    if (!flushing && current === records.length - 1 && r.end - 1 > (after[current] ?? -Infinity)) flushing = true;
    emit(r);
  };
  const run =
    workload === 'tumbling'
      ? handTumblingCount(watched, { size: p.size, bound: p.bound }, guard)
      : workload === 'sliding'
        ? handSlidingCount(watched, { size: p.size, slide: p.slide, bound: p.bound }, guard)
        : handSessionCount(watched, { gap: p.gap, bound: p.bound }, guard);
  if (run.openWindows !== 0) throw new Error(`${workload}: windows left open after flush`);
  return { results, late: run.late, mistimed };
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

interface Case {
  readonly name: string;
  readonly records: Click[];
  readonly params: JobParams;
  readonly expectLate: boolean;
}

function cases(): Case[] {
  const out: Case[] = [];
  const shapes: { keys: number; eventsPerSecond: number; disorder: number; startTime: number }[] = [
    { keys: 1, eventsPerSecond: 50, disorder: 300, startTime: 1_700_000_000_000 },
    { keys: 3, eventsPerSecond: 20, disorder: 1_000, startTime: 1_700_000_000_123 },
    { keys: 20, eventsPerSecond: 100, disorder: 1_000, startTime: 1_700_000_000_000 },
    { keys: 7, eventsPerSecond: 5, disorder: 700, startTime: -25_000 }, // negative timestamps
  ];
  const paramSets: JobParams[] = [
    { size: 1_000, slide: 250, gap: 400, bound: 1_000 },
    { size: 2_000, slide: 700, gap: 1_000, bound: 1_000 }, // slide does not divide size
    { size: 500, slide: 500, gap: 150, bound: 1_000 }, // slide = size: sliding is tumbling
    { size: 10_000, slide: 2_000, gap: 5_000, bound: 1_000 }, // the benchmark's own parameters
  ];
  let seed = 1;
  for (const shape of shapes) {
    for (const params of paramSets) {
      const s = seed++;
      const records = generateClicks({ records: 1_500, keys: shape.keys, seed: s, eventsPerSecond: shape.eventsPerSecond, maxDisorderMs: shape.disorder, startTime: shape.startTime });
      out.push({ name: `seed ${s}, ${shape.keys} keys, ${shape.eventsPerSecond}/s, disorder ${shape.disorder}, ${JSON.stringify(params)}`, records, params, expectLate: false });
      // the same input with a bound smaller than its disorder: late records
      const tight = { ...params, bound: Math.floor(shape.disorder / 3) };
      out.push({ name: `seed ${s}, ${shape.keys} keys, ${shape.eventsPerSecond}/s, disorder ${shape.disorder} > bound ${tight.bound}, ${JSON.stringify(tight)}`, records, params: tight, expectLate: true });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

let failures = 0;
function check(ok: boolean, message: string): void {
  if (!ok) {
    failures++;
    console.error(`FAIL ${message}`);
  }
}

function checkGenerator(): void {
  const opts = { records: 20_000, keys: 100, seed: 42, eventsPerSecond: 1_000, maxDisorderMs: 1_000 };
  const a = generateClicks(opts);
  const b = generateClicks(opts);
  check(JSON.stringify(a) === JSON.stringify(b), 'generator: same seed gives the same records');
  check(JSON.stringify(a) !== JSON.stringify(generateClicks({ ...opts, seed: 43 })), 'generator: another seed gives other records');
  const disorder = measuredDisorder(a);
  check(disorder <= opts.maxDisorderMs && disorder > 0, `generator: disorder ${disorder} within (0, ${opts.maxDisorderMs}]`);
  check(a.every((r) => Number.isInteger(r.ts)), 'generator: integer timestamps');
  check(new Set(a.map((r) => r.user)).size === opts.keys, 'generator: every key used');
}

async function main(): Promise<void> {
  checkGenerator();

  let checked = 0;
  const all = cases();
  for (const c of all) {
    for (const workload of WORKLOADS) {
      const want = oracle(workload, c.records, c.params);
      const got = hand(workload, c.records, c.params);
      const d = diffWindowCounts(got.results, want.results, 3);
      check(d.equal, `${workload} [${c.name}]: hand loop ≠ oracle (${d.leftCount} vs ${d.rightCount}; only hand ${JSON.stringify(d.onlyLeft)}; only oracle ${JSON.stringify(d.onlyRight)})`);
      check(got.late === want.late, `${workload} [${c.name}]: late ${got.late} ≠ oracle ${want.late}`);
      check(got.mistimed.length === 0, `${workload} [${c.name}]: mistimed firings: ${got.mistimed.slice(0, 3).join('; ')}`);
      if (!c.expectLate) check(want.late === 0, `${workload} [${c.name}]: expected no late records, oracle has ${want.late}`);
      checked++;
    }
  }
  const lateCases = all.filter((c) => c.expectLate);
  const exercised = WORKLOADS.map((w) => lateCases.reduce((n, c) => n + oracle(w, c.records, c.params).late, 0));
  check(exercised.every((n) => n > 0), `late path exercised for every workload (${exercised.join(', ')})`);

  // the benchmark's own configuration on a small prefix: no late records
  const bench = generateClicks({ records: 3_000, keys: 50, seed: 7, eventsPerSecond: 1_000, maxDisorderMs: DEFAULT_PARAMS.bound });
  for (const workload of WORKLOADS) check(hand(workload, bench, DEFAULT_PARAMS).late === 0, `${workload}: benchmark input has no late records`);

  console.log(`hand loops vs oracle: ${checked} comparisons, ${failures === 0 ? 'all equal' : `${failures} failure(s)`}`);

  // Tidemark, if the engine is there
  let tidemark: typeof import('./pipelines.js') | undefined;
  try {
    tidemark = await import('./pipelines.js');
  } catch (e) {
    console.log(`tidemark: not checked (${(e as Error).message.split('\n')[0]})`);
  }
  if (tidemark) {
    let tchecked = 0;
    const before = failures;
    for (const c of all.filter((x) => !x.expectLate)) {
      for (const workload of WORKLOADS) {
        const want = oracle(workload, c.records, c.params);
        const got = await tidemark.collectTidemark(workload, c.records, c.params);
        const d = diffWindowCounts(got.results, want.results, 3);
        check(d.equal, `tidemark ${workload} [${c.name}]: ≠ oracle (${d.leftCount} vs ${d.rightCount}; only tidemark ${JSON.stringify(d.onlyLeft)}; only oracle ${JSON.stringify(d.onlyRight)})`);
        tchecked++;
      }
    }
    console.log(`tidemark vs oracle: ${tchecked} comparisons, ${failures === before ? 'all equal' : `${failures - before} failure(s)`}`);
  }

  if (failures > 0) {
    console.error(`selfcheck: ${failures} failure(s)`);
    process.exitCode = 1;
  } else {
    console.log('selfcheck: ok');
  }
}

await main();
