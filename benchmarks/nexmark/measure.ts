/**
 * Measurement helpers shared by the runner (`benchmarks/run.ts`) and the Nexmark bench: forced
 * GC, one timed sample with wall and CPU time, allocation from V8's GC profiler, medians, the
 * machine description (Node, CPU, load, git commit) that every result file carries.
 */
import { execFileSync } from 'node:child_process';
import { cpus, hostname, loadavg, totalmem } from 'node:os';
import { GCProfiler, getHeapStatistics } from 'node:v8';

/** Forces a GC when the process runs with `--expose-gc`; otherwise does nothing. */
export const gc: () => void =
  typeof globalThis.gc === 'function'
    ? (globalThis.gc as () => void)
    : () => {
        /* no --expose-gc: nothing to do */
      };

/** Median of a list (NaN when empty). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** One timed run: wall milliseconds and CPU milliseconds (user + system, all threads of the process). */
export interface Sample {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** Runs `fn` once after a forced GC (outside the timed region) and times it. */
export async function sample(fn: () => unknown): Promise<Sample> {
  gc();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Bytes allocated while `fn` runs, garbage included, and the GCs it caused. */
export interface Allocation {
  readonly bytes: number;
  readonly gcCount: number;
  readonly gcMs: number;
}

/** Bytes allocated while `fn` runs: heap growth between GCs, summed from V8's GC profiler. */
export async function measureAllocation(fn: () => unknown): Promise<Allocation> {
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

/** Where a result was measured. */
export interface Machine {
  readonly date: string;
  readonly host: string;
  readonly node: string;
  readonly v8: string;
  readonly cpus: number;
  readonly cpuModel: string | null;
  readonly memoryGB: number;
  readonly loadavg: readonly number[];
  readonly commit: string | null;
  /** True when the working tree had uncommitted changes. */
  readonly dirty: boolean | null;
}

/** The machine, Node version, load average and git commit, for result files. */
export function machine(cwd: string): Machine {
  const git = (args: string[]): string | null => {
    try {
      return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  };
  const status = git(['status', '--porcelain']);
  return {
    date: new Date().toISOString(),
    host: hostname(),
    node: process.version,
    v8: process.versions.v8,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    memoryGB: Math.round(totalmem() / 1e8) / 10,
    loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
    commit: git(['rev-parse', 'HEAD']),
    dirty: status === null ? null : status.length > 0,
  };
}
