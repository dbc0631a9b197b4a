/**
 * `npm run bench -- nexmark --query q5 --events 1000000 [--seed S] [--rate R] [--rounds N]
 *  [--json out.json] [--no-oracle] [--latency-rate R] [--no-latency]`: one Nexmark query,
 * measured in this process.
 *
 * 1. Generate the events (seeded) once, into an array; not timed.
 * 2. Check: Tidemark's results against DuckDB running the query's SQL over the same events (skip
 *    with `--no-oracle`), and against the baselines (hand-written loop, RxJS) where they exist
 *    (q5, q7, q11).
 * 3. Time: every contender once to warm up, then `rounds` rounds in which the contenders
 *    alternate; one sample = the whole query over all events, after a forced GC. Contenders:
 *    Tidemark over the array (`fromArray`), Tidemark with the generator fused into the source
 *    (generation included, as Flink's suite measures), the hand loop, RxJS.
 *    records/s = events ÷ wall time; CPU-s per million = (user + system CPU of the process) ÷
 *    events × 1e6 (a per-core figure: on one busy core it equals wall time).
 * 4. Heap per million records: bytes allocated during one run (V8 GC profiler), per 1M events.
 * 5. Latency (Tidemark, fused source paced at a fixed rate): for each window result, the time from
 *    the source handing over the chunk whose watermark passes the window's end to the result
 *    reaching the sink; p50 and p99.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type LatencyFigures, type PacedInput, pacedLatency } from '../latency.js';
import { handQ11, handQ5, handQ7 } from '../baselines/nexmark-handwritten.js';
import { rxQ11, rxQ5, rxQ7 } from '../baselines/rxjs-nexmark.js';
import type { NexmarkEvent } from './events.js';
import { NexmarkGenerator, generateEvents, type NexmarkOptions } from './generator.js';
import { type Machine, type Sample, gc, machine, measureAllocation, median, sample } from './measure.js';
import { DuckDbOracle, type Row, compareRows, hasOracle, rowOf } from './oracle.js';
import { QUERIES, type QueryName, queryName } from './queries.js';
import { eventsSource, runQuery } from './run-query.js';
import { nexmarkSource } from './source.js';

/** Options of one Nexmark measurement. */
export interface NexmarkBenchOptions {
  readonly query: QueryName;
  readonly events: number;
  readonly seed: number;
  /** Events per second of event time (generator). */
  readonly rate: number;
  readonly rounds: number;
  readonly oracle: boolean;
  /** Events per second of real time for the latency run; 0 skips it. */
  readonly latencyRate: number;
  readonly json: string | undefined;
  /** Progress callback (done, total, label). */
  readonly progress?: (done: number, total: number, label: string) => void;
}

/** The figures of one contender. */
export interface ContenderFigures {
  readonly recordsPerSec: number;
  readonly cpuSecPerMillion: number;
  /** MB allocated per million records (garbage included). */
  readonly heapMB: number;
  readonly samples: readonly Sample[];
  readonly results: number;
}

/** The JSON document of `npm run bench -- nexmark` (the contract fields first). */
export interface NexmarkBenchResult {
  readonly query: QueryName;
  readonly events: number;
  readonly seed: number;
  readonly tidemark: ContenderFigures & { readonly fused: ContenderFigures };
  readonly baselines: { readonly handwritten?: ContenderFigures; readonly rxjs?: ContenderFigures };
  readonly oracle: { readonly engine: 'duckdb'; readonly equal: boolean | null; readonly rows?: number; readonly onlyTidemark?: string[]; readonly onlyOracle?: string[] };
  readonly ratios: { readonly tidemarkToHandwritten?: number; readonly tidemarkToRxjs?: number; readonly fusedToHandwritten?: number };
  readonly baselinesEqual: { readonly handwritten?: boolean; readonly rxjs?: boolean };
  readonly latency: { readonly rate: number; readonly windows: number; readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number } | null;
  readonly rate: number;
  readonly rounds: number;
  readonly machine: Machine;
}

type Baseline = (events: readonly NexmarkEvent[], bound: number, emit: (r: never) => void) => void | Promise<void>;

const BASELINES: Partial<Record<QueryName, { readonly handwritten: Baseline; readonly rxjs: Baseline }>> = {
  q5: { handwritten: handQ5 as Baseline, rxjs: rxQ5 as Baseline },
  q7: { handwritten: handQ7 as Baseline, rxjs: rxQ7 as Baseline },
  q11: { handwritten: handQ11 as Baseline, rxjs: rxQ11 as Baseline },
};

/** Parses the subcommand's arguments (after `nexmark`). */
export function parseNexmarkArgs(argv: readonly string[], repoRoot: string): NexmarkBenchOptions {
  const where = 'bench nexmark';
  const { values } = parseArgs({
    args: [...argv],
    options: {
      query: { type: 'string', default: 'q5' },
      events: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      rate: { type: 'string', default: '10000' },
      rounds: { type: 'string', default: '3' },
      json: { type: 'string' },
      'no-oracle': { type: 'boolean', default: false },
      'latency-rate': { type: 'string', default: '200000' },
      'no-latency': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number((v ?? '').replaceAll('_', ''));
    if (!Number.isSafeInteger(n) || n < min) throw new RangeError(`${where}: --${name} must be an integer ≥ ${min}, got ${String(v)}`);
    return n;
  };
  const query = queryName(values.query ?? 'q5', where);
  if (query === 'q12') throw new RangeError(`${where}: q12 runs on a simulated processing-time clock; it is checked in spec/nexmark, not timed here`);
  return {
    query,
    events: int('events', values.events, 1),
    seed: int('seed', values.seed, 0),
    rate: int('rate', values.rate, 1),
    rounds: int('rounds', values.rounds, 1),
    oracle: !(values['no-oracle'] ?? false),
    latencyRate: values['no-latency'] ? 0 : int('latency-rate', values['latency-rate'], 1),
    json: values.json ?? `${repoRoot}/benchmarks/results/nexmark-${query}.json`,
  };
}

/** The window end of a result, for latency (undefined for queries without windows). */
function windowEndOf(query: QueryName, r: unknown): number | undefined {
  switch (query) {
    case 'q4':
    case 'q5':
    case 'q7':
    case 'q11':
      return (r as { end: number }).end;
    case 'q8':
      return (r as { start: number }).start + 10_000;
    default:
      return undefined;
  }
}

/**
 * Latency at a fixed input rate (`pacedLatency`): the generator hands over chunks of 1 000
 * events on a real-time schedule (`rate` events/s); watermark passing a window's end → sink.
 */
export async function measureLatency(query: QueryName, gen: NexmarkOptions, rate: number, bound: number): Promise<LatencyFigures> {
  const generator = new NexmarkGenerator(gen);
  const input: PacedInput<NexmarkEvent> = { total: generator.config.events, chunk: (at, n) => generator.chunk(at, n) };
  return pacedLatency(input, { rate, bound }, (events) => QUERIES[query](events), (r) => windowEndOf(query, r));
}

/** Runs the measurement and writes the JSON document. */
export async function runNexmarkBench(o: NexmarkBenchOptions, repoRoot: string): Promise<NexmarkBenchResult> {
  const log = (s: string): void => console.log(`[nexmark ${o.query}] ${s}`);
  const progress = o.progress ?? (() => undefined);
  const gen: NexmarkOptions = { events: o.events, seed: o.seed, rate: o.rate };
  const bound = 0; // the generator emits in order
  const baselines = BASELINES[o.query];
  const totalSteps = 3 + (o.rounds + 1) * (baselines ? 4 : 2) + (o.latencyRate > 0 ? 1 : 0);
  let step = 0;
  const tick = (label: string): void => progress(++step, totalSteps, label);

  const t0 = performance.now();
  const events = generateEvents(gen);
  log(`${o.events.toLocaleString('en')} events (seed ${o.seed}, ${o.rate}/s of event time) generated in ${(performance.now() - t0).toFixed(0)} ms`);
  tick('generated');

  // --- 1. correctness: Tidemark vs DuckDB and vs the baselines ---
  const tmRows: Row[] = [];
  await runQuery(o.query, eventsSource(events), (r) => tmRows.push(rowOf(o.query, r)), { bound });
  let oracle: NexmarkBenchResult['oracle'] = { engine: 'duckdb', equal: null };
  if (o.oracle && hasOracle(o.query)) {
    const t1 = performance.now();
    const db = await DuckDbOracle.load(events);
    try {
      const cmp = compareRows(tmRows, await db.rows(o.query));
      oracle = { engine: 'duckdb', equal: cmp.equal, rows: cmp.oracleRows, ...(cmp.equal ? {} : { onlyTidemark: cmp.onlyTidemark, onlyOracle: cmp.onlyOracle }) };
    } finally {
      db.close();
    }
    log(`oracle: DuckDB ${oracle.rows} rows, Tidemark ${tmRows.length} → ${oracle.equal ? 'EQUAL' : 'DIFFERENT'} (${(performance.now() - t1).toFixed(0)} ms)`);
  }
  tick('checked against DuckDB');
  const baselinesEqual: { handwritten?: boolean; rxjs?: boolean } = {};
  if (baselines) {
    for (const name of ['handwritten', 'rxjs'] as const) {
      const rows: Row[] = [];
      await baselines[name](events, bound, ((r: unknown) => rows.push(rowOf(o.query, r))) as (r: never) => void);
      baselinesEqual[name] = compareRows(tmRows, rows).equal;
      log(`${name}: ${rows.length} rows → ${baselinesEqual[name] ? 'same as Tidemark' : 'DIFFERENT'}`);
    }
  }
  tick('checked baselines');

  // --- 2. timing: warm-up round, then alternating rounds ---
  let results = 0;
  const count = (): void => {
    results++;
  };
  type Run = () => unknown;
  const contenders: [string, Run][] = [
    ['tidemark', () => runQuery(o.query, eventsSource(events), count, { bound })],
    ['fused', () => runQuery(o.query, nexmarkSource(gen), count, { bound })],
  ];
  if (baselines) {
    contenders.push(['handwritten', () => baselines.handwritten(events, bound, count)]);
    contenders.push(['rxjs', () => baselines.rxjs(events, bound, count)]);
  }
  const samples = new Map<string, Sample[]>(contenders.map(([n]) => [n, []]));
  const resultCounts = new Map<string, number>();
  for (let round = 0; round <= o.rounds; round++) {
    for (const [name, run] of contenders) {
      results = 0;
      const s = await sample(run);
      if (round > 0) samples.get(name)?.push(s);
      resultCounts.set(name, results);
      log(`${round === 0 ? 'warm-up' : `round ${round}`} ${name.padEnd(11)} ${s.wallMs.toFixed(0).padStart(6)} ms  ${((o.events / s.wallMs) * 1000 / 1e6).toFixed(2)} M events/s  cpu ${s.cpuMs.toFixed(0)} ms`);
      tick(`${name} ${round === 0 ? 'warm-up' : `round ${round}`}`);
    }
  }

  // --- 3. allocation per million events ---
  const heap = new Map<string, number>();
  for (const [name, run] of contenders) heap.set(name, ((await measureAllocation(run)).bytes / o.events) * 1e6 / 1e6);
  tick('heap');
  gc();

  const figures = (name: string): ContenderFigures => {
    const s = samples.get(name) ?? [];
    return {
      recordsPerSec: (o.events / median(s.map((x) => x.wallMs))) * 1000,
      cpuSecPerMillion: (median(s.map((x) => x.cpuMs)) / 1000 / o.events) * 1e6,
      heapMB: heap.get(name) ?? NaN,
      samples: s,
      results: resultCounts.get(name) ?? 0,
    };
  };

  // --- 4. latency ---
  let latency: NexmarkBenchResult['latency'] = null;
  if (o.latencyRate > 0 && windowEndOf(o.query, { end: 0, start: 0 }) !== undefined) {
    const latencyEvents = Math.min(o.events, o.latencyRate * 5);
    const l = await measureLatency(o.query, { ...gen, events: latencyEvents }, o.latencyRate, bound);
    latency = { rate: o.latencyRate, ...l };
    log(`latency at ${o.latencyRate.toLocaleString('en')} events/s: ${l.windows} results, p50 ${l.p50Ms.toFixed(1)} ms, p99 ${l.p99Ms.toFixed(1)} ms`);
    tick('latency');
  }

  const tidemark = figures('tidemark');
  const fused = figures('fused');
  const hand = baselines ? figures('handwritten') : undefined;
  const rx = baselines ? figures('rxjs') : undefined;
  const result: NexmarkBenchResult = {
    query: o.query,
    events: o.events,
    seed: o.seed,
    tidemark: { ...tidemark, fused },
    baselines: { ...(hand ? { handwritten: hand } : {}), ...(rx ? { rxjs: rx } : {}) },
    oracle,
    ratios: {
      ...(hand ? { tidemarkToHandwritten: tidemark.recordsPerSec / hand.recordsPerSec, fusedToHandwritten: fused.recordsPerSec / hand.recordsPerSec } : {}),
      ...(rx ? { tidemarkToRxjs: tidemark.recordsPerSec / rx.recordsPerSec } : {}),
    },
    baselinesEqual,
    latency,
    rate: o.rate,
    rounds: o.rounds,
    machine: machine(repoRoot),
  };
  if (o.json) {
    writeFileSync(o.json, JSON.stringify(result, null, 2) + '\n');
    log(`wrote ${o.json}`);
  }
  return result;
}

/** True when every check of the result passed (DuckDB, baselines). */
export function nexmarkResultOk(r: NexmarkBenchResult): boolean {
  return r.oracle.equal !== false && r.baselinesEqual.handwritten !== false && r.baselinesEqual.rxjs !== false;
}
