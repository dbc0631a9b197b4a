/**
 * `replay --verify`: compares what a replay wrote with what is already there, output by output
 * (a file name, or a name the module's `outputs` export gives), as multisets of records — order
 * is not compared, counts are. JSON lines are compared by value (key order does not matter);
 * other lines as text.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** Records of each output, by name, as canonical strings. */
export type Outputs = Map<string, string[]>;

/** JSON with object keys sorted, so equal values give equal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

/** A line of a file as compared: canonical JSON when it parses, else the text. */
function canonicalLine(line: string): string {
  try {
    return canonicalJson(JSON.parse(line));
  } catch {
    return line;
  }
}

/** Every file under `dir` (recursively, names relative to it), each as its non-blank lines. */
export async function readDirectoryOutputs(dir: string): Promise<Outputs> {
  const out: Outputs = new Map();
  const walk = async (d: string): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(d, { withFileTypes: true })).filter((e) => !e.name.startsWith('.')).map((e) => (e.isDirectory() ? `${e.name}/` : e.name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const name of names.sort()) {
      if (name.endsWith('/')) await walk(join(d, name));
      else {
        const text = await readFile(join(d, name), 'utf8');
        out.set(relative(dir, join(d, name)), text.split('\n').filter((l) => l.trim().length > 0).map(canonicalLine));
      }
    }
  };
  await walk(dir);
  return out;
}

/** Outputs a module's `outputs` export returned (records as canonical JSON). */
export function recordOutputs(records: Readonly<Record<string, readonly unknown[]>>): Outputs {
  const out: Outputs = new Map();
  for (const [name, values] of Object.entries(records)) out.set(name, values.map(canonicalJson));
  return out;
}

/** The difference of one output. */
export interface OutputDifference {
  readonly name: string;
  /** Records present before but not produced by the replay (with multiplicity). */
  readonly missing: string[];
  /** Records the replay produced that were not there. */
  readonly unexpected: string[];
  readonly existingCount: number;
  readonly replayedCount: number;
  /** `existing-only` / `replayed-only`: the output exists on one side only. */
  readonly side?: 'existing-only' | 'replayed-only';
}

/** What differs between the replay's outputs and the existing ones (empty: equal). */
export function compareOutputs(replayed: Outputs, existing: Outputs): OutputDifference[] {
  const diffs: OutputDifference[] = [];
  for (const name of [...new Set([...existing.keys(), ...replayed.keys()])].sort()) {
    const a = existing.get(name);
    const b = replayed.get(name);
    const counts = new Map<string, number>();
    for (const r of a ?? []) counts.set(r, (counts.get(r) ?? 0) + 1);
    const unexpected: string[] = [];
    for (const r of b ?? []) {
      const n = counts.get(r) ?? 0;
      if (n > 0) counts.set(r, n - 1);
      else unexpected.push(r);
    }
    const missing: string[] = [];
    for (const [r, n] of counts) for (let i = 0; i < n; i++) missing.push(r);
    if (missing.length === 0 && unexpected.length === 0 && a !== undefined && b !== undefined) continue;
    diffs.push({
      name,
      missing,
      unexpected,
      existingCount: a?.length ?? 0,
      replayedCount: b?.length ?? 0,
      ...(a === undefined ? { side: 'replayed-only' as const } : b === undefined ? { side: 'existing-only' as const } : {}),
    });
  }
  return diffs;
}

/**
 * The differences as text: per output a header, then `- record` (there before, not replayed) and
 * `+ record` (replayed, not there before), at most `limit` lines per output.
 */
export function formatDifferences(diffs: readonly OutputDifference[], against: string, outputs: number, limit = 20): string {
  if (diffs.length === 0) return `verify: the replay's ${outputs} output(s) equal those in ${against}\n`;
  const lines = [`verify: ${diffs.length} output(s) differ from ${against} (- only there before, + only in the replay)`];
  for (const d of diffs) {
    const where = d.side === 'existing-only' ? ', not written by the replay' : d.side === 'replayed-only' ? ', not there before' : '';
    lines.push(`${d.name}: ${d.missing.length} missing, ${d.unexpected.length} unexpected (${d.existingCount} records before, ${d.replayedCount} replayed${where})`);
    const all = [...d.missing.map((r) => `  - ${r}`), ...d.unexpected.map((r) => `  + ${r}`)];
    lines.push(...all.slice(0, limit));
    if (all.length > limit) lines.push(`  … and ${all.length - limit} more`);
  }
  return `${lines.join('\n')}\n`;
}
