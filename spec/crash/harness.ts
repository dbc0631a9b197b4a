/**
 * The parent side of the crash suite: builds the child once (one esbuild bundle, so a spawn costs
 * a plain `node` start instead of a tsx compile), spawns it with a fault, awaits its death, and
 * repeats until a run completes; then compares the sinks' files with a reference run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { collect } from 'tidemark';
import { type ChildConfig, FAULT_KINDS, type Fault, type FaultKind, STOPPED_EXIT } from './fixtures/faults.js';
import { type InputRecord, type Line, SINKS, type SinkName, buildPipeline, makeInput, rng, writeInputFile } from './fixtures/workload.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const childSource = join(here, 'fixtures', 'child.ts');

/** How to start a child: the command and its arguments (the configuration goes in the environment). */
export interface ChildCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly cleanup: () => void;
}

/**
 * Bundles fixtures/child.ts (with tidemark and its dependencies) into one ES module under
 * node_modules/.cache, so each spawn is a plain `node` start (~0.3 s here instead of ~2 s with
 * tsx). Falls back to `node --import tsx` when esbuild is not available.
 */
export async function buildChild(): Promise<ChildCommand> {
  try {
    const esbuild = await import('esbuild');
    const outDir = join(root, 'node_modules', '.cache', 'tidemark-crash');
    mkdirSync(outDir, { recursive: true });
    const outfile = join(outDir, `child-${process.pid}-${Date.now()}.mjs`);
    await esbuild.build({
      entryPoints: [childSource],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      logLevel: 'error',
      // CommonJS dependencies inside an ES module bundle need a `require`.
      banner: { js: "import { createRequire as __crashRequire } from 'node:module'; const require = __crashRequire(import.meta.url);" },
    });
    return { command: process.execPath, args: [outfile], cleanup: () => rmSync(outfile, { force: true }) };
  } catch {
    return { command: process.execPath, args: ['--import', 'tsx', childSource], cleanup: () => undefined };
  }
}

/** How one child ended. */
export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The `fault …` line of a self-inflicted kill, `random …` when the parent killed it, `stopping …` for a stop. */
  readonly fired: string | undefined;
  readonly start: number;
  readonly done: Record<string, unknown> | undefined;
  readonly stderr: string;
  readonly ms: number;
}

/** Spawns one child and resolves when it has exited (bounded by `timeoutMs`). */
export function runChild(cmd: ChildCommand, config: ChildConfig, options: { readonly randomDelayMs?: number; readonly timeoutMs?: number } = {}): Promise<ChildResult> {
  const started = Date.now();
  const child: ChildProcess = spawn(cmd.command, [...cmd.args], {
    cwd: root,
    env: { ...process.env, CRASH_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let fired: string | undefined;
  let start = -1;
  let done: Record<string, unknown> | undefined;
  let stderr = '';
  let killedByParent: string | undefined;
  const timers: NodeJS.Timeout[] = [];
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    if (stderr.length < 20_000) stderr += d;
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  lines.on('line', (line) => {
    if (line.startsWith('fault ')) fired = line.slice(6);
    else if (line.startsWith('stopping ')) fired = `stop ${line.slice(9)}`;
    else if (line.startsWith('start ')) start = Number(line.split(' ')[1]);
    else if (line.startsWith('done ')) done = JSON.parse(line.slice(5)) as Record<string, unknown>;
    else if (line === 'ready' && options.randomDelayMs !== undefined) {
      const delay = options.randomDelayMs;
      timers.push(setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) {
          killedByParent = `random kill ${delay} ms after ready`;
          child.kill('SIGKILL');
        }
      }, delay));
    }
  });
  const timeoutMs = options.timeoutMs ?? 90_000;
  return new Promise((resolvePromise, reject) => {
    timers.push(setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`crash child did not exit within ${timeoutMs} ms (config ${JSON.stringify(config)}); stderr: ${stderr}`));
    }, timeoutMs));
    child.on('error', reject);
    // 'close' (not 'exit'): stdout is fully read by then, so the fault line is never lost.
    child.on('close', (code, signal) => {
      for (const t of timers) clearTimeout(t);
      resolvePromise({ code, signal, fired: fired ?? killedByParent, start, done, stderr, ms: Date.now() - started });
    });
  });
}

/** A seed's crash loop: options. */
export interface CrashLoopOptions {
  readonly seed: number;
  readonly n: number;
  readonly every: number;
  /** Also checkpoint every this many ms (timing-dependent cuts). */
  readonly intervalMs?: number;
  /** SIGKILLs before the final, fault-free attempt. */
  readonly kills: number;
  readonly dir: string;
  readonly sink?: 'epoch' | 'fixture';
  readonly broken?: boolean;
  /** Lose the window state on every restore (see `ChildConfig.loseWindowState`). */
  readonly loseWindowState?: boolean;
  readonly stateful?: boolean;
  /** Read the input from a JSON-lines file (written into `dir`) instead of an array. */
  readonly jsonl?: boolean;
  /** A fixed fault sequence (targeted tests); default: seeded, every kind in turn. */
  readonly faults?: readonly Fault[];
  /** Spawn once more after completion: a restore from the final checkpoint must add nothing. */
  readonly rerun?: boolean;
}

/** What a crash loop did. */
export interface CrashLoopResult {
  readonly kills: number;
  /** Graceful stops (`stop` faults). */
  readonly stops: number;
  readonly attempts: number;
  /** What each kill (or stop) hit, in order. */
  readonly fired: readonly string[];
  /** Where each attempt started (input index). */
  readonly starts: readonly number[];
  readonly done: Record<string, unknown> | undefined;
  readonly ms: number;
}

/** The seeded fault sequence: every kind in turn (shuffled per round); a commit fault is often followed by a restore fault. */
export function faultSequence(seed: number, kills: number): Fault[] {
  const r = rng(seed * 31 + 5);
  const kinds: FaultKind[] = [];
  while (kinds.length < kills) {
    const round = [...FAULT_KINDS].sort(() => r() - 0.5);
    for (const k of round) {
      kinds.push(k);
      if ((k === 'before-commit' || k === 'in-commit') && r() < 0.5) kinds.push('restore');
    }
  }
  return kinds.slice(0, kills).map((kind, i) => ({ kind, u: r(), v: r(), w: r(), killsLeft: kills - i }));
}

/**
 * Runs the child with a fault per attempt until the faults are used up (each a SIGKILL, or a
 * graceful stop) and then a fault-free attempt completes. Throws when a child fails (an exit
 * code ≠ 0 that is not a planned stop).
 */
export async function crashLoop(cmd: ChildCommand, options: CrashLoopOptions): Promise<CrashLoopResult> {
  const started = Date.now();
  const faults = [...(options.faults ?? faultSequence(options.seed, options.kills))];
  const delays = rng(options.seed * 131 + 7);
  let input: string | undefined;
  if (options.jsonl === true) {
    input = join(options.dir, 'input.jsonl');
    writeInputFile(input, makeInput(options.seed, options.n));
  }
  const base: ChildConfig = {
    seed: options.seed, n: options.n, dir: options.dir, every: options.every, sink: options.sink ?? 'epoch', broken: options.broken === true,
    stateful: options.stateful !== false, ...(input === undefined ? {} : { input }),
    ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
    ...(options.loseWindowState === true ? { loseWindowState: true } : {}),
  };
  const fired: string[] = [];
  const starts: number[] = [];
  let kills = 0;
  let stops = 0;
  let next = 0; // the fault of the next attempt
  let attempts = 0;
  let done: Record<string, unknown> | undefined;
  const maxAttempts = faults.length * 3 + 5;
  for (;;) {
    if (++attempts > maxAttempts) throw new Error(`seed ${options.seed}: no completed run after ${maxAttempts} attempts (kills: ${fired.join('; ')})`);
    const fault = faults[next++];
    const config: ChildConfig = fault === undefined ? base : { ...base, fault };
    const res = await runChild(cmd, config, fault?.kind === 'random' ? { randomDelayMs: Math.floor(delays() * 8) } : {});
    starts.push(res.start);
    if (res.signal === 'SIGKILL') {
      kills++;
      fired.push(res.fired ?? `${fault?.kind ?? 'unplanned'} (no fault line)`);
      continue;
    }
    if (res.code === STOPPED_EXIT && fault?.kind === 'stop') {
      stops++;
      fired.push(res.fired ?? 'stop');
      continue;
    }
    if (res.code !== 0) {
      throw new Error(`seed ${options.seed}: child failed (code ${String(res.code)}, signal ${String(res.signal)}) after kills [${fired.join('; ')}] with fault ${JSON.stringify(fault)}:\n${res.stderr}`);
    }
    done = res.done;
    if (fault === undefined) break;
    // A run can complete despite its fault only when nothing reachable was left to read (a kill
    // landed after the final checkpoint); the kill is still owed: at that final checkpoint.
    fired.push(`completed despite fault ${fault.kind}`);
    if (fault.kind !== 'stop') faults.push({ ...fault, kind: 'before-commit', u: 0 });
  }
  if (options.rerun === true) {
    const res = await runChild(cmd, base);
    if (res.code !== 0) throw new Error(`seed ${options.seed}: the run after completion failed (code ${String(res.code)}):\n${res.stderr}`);
    attempts++;
  }
  return { kills, stops, attempts, fired, starts, done, ms: Date.now() - started };
}

/** The sinks' committed lines in `dir/out`, by sink. */
export function readOutputs(dir: string): Record<SinkName, string[]> {
  const out = {} as Record<SinkName, string[]>;
  for (const name of SINKS) out[name] = committedLines(join(dir, 'out', `${name}.jsonl`));
  return out;
}

/** Reads the lines of a sink's file (none if missing); a torn last line is an error. */
export function committedLines(path: string): string[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  if (text.length > 0 && !text.endsWith('\n')) throw new Error(`${path}: torn last line`);
  return text.length === 0 ? [] : text.slice(0, -1).split('\n');
}

/** What is left in `dir/out` besides the sinks' files: staged epochs (none after a completed run). */
export function leftovers(dir: string): string[] {
  const files = new Set(SINKS.map((s) => `${s}.jsonl`));
  return readdirSync(join(dir, 'out')).filter((f) => !files.has(f));
}

/**
 * The uninterrupted reference run: same input and pipeline, no checkpoints, into `collect`
 * sinks (in memory, `JSON.stringify` per line — independent of the sinks under test), in this
 * process.
 */
export async function referenceRun(seed: number, n: number, dir: string, options: { readonly jsonl?: boolean; readonly stateful?: boolean } = {}): Promise<Record<SinkName, string[]>> {
  mkdirSync(join(dir, 'out'), { recursive: true });
  const input = makeInput(seed, n);
  let from: { kind: 'array' } | { kind: 'jsonl'; path: string } = { kind: 'array' };
  if (options.jsonl === true) {
    from = { kind: 'jsonl', path: join(dir, 'input.jsonl') };
    writeInputFile(from.path, input);
  }
  const out = Object.fromEntries(SINKS.map((s) => [s, [] as Line[]])) as Record<SinkName, Line[]>;
  const p = buildPipeline(input, (name) => collect(out[name]), { from, stateful: options.stateful !== false });
  await p.run();
  return Object.fromEntries(SINKS.map((s) => [s, out[s].map((l) => JSON.stringify(l))])) as Record<SinkName, string[]>;
}

/**
 * The order each sink's lines are promised in: `records` follows the source's total order;
 * the running counts and the window results keep each key's order (a key's windows fire in
 * window order); late records and dead letters promise none (the dead-letter stream merges the
 * source's and the operators' letters as chunks are cut, and a restored file source cuts them
 * elsewhere).
 */
export const ORDER: Readonly<Record<SinkName, 'total' | 'per-key' | 'none'>> = { records: 'total', running: 'per-key', windows: 'per-key', late: 'none', dead: 'none' };

/** Lines grouped by their `key` field, in order. */
function byKey(lines: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const l of lines) {
    const k = String((JSON.parse(l) as { key?: unknown }).key);
    let g = out.get(k);
    if (g === undefined) out.set(k, (g = []));
    g.push(l);
  }
  return out;
}

/**
 * Differences between `actual` and `expected` lines of each sink: as multisets (duplicates,
 * missing, extra lines) and in the order the sink promises (`ORDER`: the first position where
 * they differ). Empty: identical.
 */
export function compareOutputs(actual: Record<SinkName, string[]>, expected: Record<SinkName, string[]>): string[] {
  const problems: string[] = [];
  for (const name of SINKS) {
    const a = actual[name];
    const e = expected[name];
    const counts = new Map<string, number>();
    for (const l of e) counts.set(l, (counts.get(l) ?? 0) + 1);
    const extra: string[] = [];
    for (const l of a) {
      const c = counts.get(l) ?? 0;
      if (c === 0) extra.push(l);
      else counts.set(l, c - 1);
    }
    const missing = [...counts.entries()].filter(([, c]) => c > 0).flatMap(([l, c]) => Array<string>(c).fill(l));
    const known = new Set(e);
    const duplicated = extra.filter((l) => known.has(l));
    const foreign = extra.filter((l) => !known.has(l));
    if (a.length !== e.length) problems.push(`${name}: ${a.length} lines, the reference has ${e.length}`);
    if (duplicated.length > 0) problems.push(`${name}: ${duplicated.length} duplicated lines, e.g. ${duplicated.slice(0, 3).join(' | ')}`);
    if (foreign.length > 0) problems.push(`${name}: ${foreign.length} lines not in the reference, e.g. ${foreign.slice(0, 3).join(' | ')}`);
    if (missing.length > 0) problems.push(`${name}: ${missing.length} lines missing, e.g. ${missing.slice(0, 3).join(' | ')}`);
    if (duplicated.length > 0 || foreign.length > 0 || missing.length > 0) continue;
    if (ORDER[name] === 'total') {
      const at = a.findIndex((l, i) => l !== e[i]);
      if (at >= 0) problems.push(`${name}: same lines, different order from line ${at + 1}: ${a[at]} vs ${e[at]}`);
    } else if (ORDER[name] === 'per-key') {
      const ea = byKey(e);
      for (const [key, lines] of byKey(a)) {
        const other = ea.get(key) ?? [];
        const at = lines.findIndex((l, i) => l !== other[i]);
        if (at >= 0) {
          problems.push(`${name}: same lines, different order for key ${key} from its line ${at + 1}: ${lines[at]} vs ${other[at]}`);
          break;
        }
      }
    }
  }
  return problems;
}

/**
 * Conservation over the output: every input record is accounted for exactly once —
 * accepted (in `records`) or dead-lettered (in `dead`); among the accepted, counted in a window
 * or late: Σ window counts + late + dead = input; the running counts end at each key's total.
 */
export function conservation(input: readonly InputRecord[], out: Record<SinkName, string[]>, stateful = true): string[] {
  const problems: string[] = [];
  const parse = (lines: readonly string[]): Record<string, unknown>[] => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const records = parse(out.records);
  const dead = parse(out.dead);
  const ids = new Map<number, number>();
  for (const r of [...records, ...dead]) ids.set(r['id'] as number, (ids.get(r['id'] as number) ?? 0) + 1);
  const twice = [...ids.entries()].filter(([, c]) => c > 1).map(([id]) => id);
  const lost = input.filter((r) => !ids.has(r.id)).map((r) => r.id);
  if (twice.length > 0) problems.push(`${twice.length} input records accounted for more than once, e.g. ids ${twice.slice(0, 5).join(', ')}`);
  if (lost.length > 0) problems.push(`${lost.length} input records not accounted for, e.g. ids ${lost.slice(0, 5).join(', ')}`);
  if (records.length + dead.length !== input.length) problems.push(`accepted ${records.length} + dead-lettered ${dead.length} ≠ input ${input.length}`);
  if (stateful) {
    const windowed = parse(out.windows).reduce((s, w) => s + (w['count'] as number), 0);
    const late = out.late.length;
    if (windowed + late + dead.length !== input.length) problems.push(`windowed ${windowed} + late ${late} + dead-lettered ${dead.length} ≠ input ${input.length}`);
    const perKey = new Map<string, number>();
    for (const r of records) perKey.set(r['key'] as string, (perKey.get(r['key'] as string) ?? 0) + 1);
    const final = new Map<string, number>();
    for (const s of parse(out.running)) final.set(s['key'] as string, s['n'] as number);
    for (const [key, n] of perKey) if (final.get(key) !== n) problems.push(`running count of ${key} ends at ${String(final.get(key))}, expected ${n}`);
  }
  return problems;
}

/** A fresh temporary directory for one run. */
export function workDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `tidemark-crash-${label}-`));
}

/** Runs `tasks` with at most `limit` at a time. */
export async function limited<T>(limit: number, tasks: readonly (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await (tasks[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

export { makeInput };
