/**
 * Helpers for the file-connector tests: a temporary directory per test file (removed after), and
 * running one source to the end, collecting its records, dead letters and summary.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DeadLetter, ManualClock, Pipeline, type RunSummary, type Sink, type Source, collect } from 'tidemark';

/** A fresh temporary directory and a cleanup function. */
export function tempDir(prefix: string): { dir: string; path: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `tidemark-${prefix}-`));
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** What one run of a source produced. */
export interface Drained<T> {
  readonly records: T[];
  readonly dead: DeadLetter[];
  readonly summary: RunSummary;
  readonly stats: Record<string, number>;
}

/** Runs `source` (every record at timestamp 0 unless `timestamp` is given) to the end. */
export async function drain<T>(
  source: Source<T>,
  options: { batchSize?: number; timestamp?: (r: T) => number; sink?: Sink<T> } = {},
): Promise<Drained<T>> {
  const p = new Pipeline({ clock: new ManualClock(), ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}) });
  const records: T[] = [];
  const dead: DeadLetter[] = [];
  const s = p.source(source, { timestamp: options.timestamp ?? (() => 0), name: 'src' });
  s.deadLetters().sink(collect(dead));
  s.sink(collect(records));
  if (options.sink !== undefined) s.sink(options.sink);
  const summary = await p.run();
  const stats = summary.sources['src'] as unknown as Record<string, number>;
  return { records, dead, summary, stats };
}

/** True when Object.prototype has none of the keys hostile input tries to plant. */
export function prototypeClean(): boolean {
  const probe = {} as Record<string, unknown>;
  return probe['polluted'] === undefined && Object.getOwnPropertyNames(Object.prototype).every((k) => k !== 'polluted')
    && Object.getPrototypeOf(probe) === Object.prototype;
}

/** `bytes` cut at the given points (taken modulo its length + 1) into chunks. */
export function chunked(bytes: Uint8Array, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    if (p > at) out.push(Buffer.from(bytes.subarray(at, p)));
    at = p;
  }
  return out;
}
