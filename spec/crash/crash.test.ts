/**
 * Crash tests (issue 5): a child process runs a checkpointed pipeline over a replayable source
 * into exactly-once sinks; the parent kills it with SIGKILL — at seeded fault points (after a
 * record, inside a sink's pre-commit, between pre-commit and the checkpoint write, inside the
 * checkpoint write, between the checkpoint and the commits, inside a commit, inside the restore's
 * re-commit) and at random moments — restarts it, and repeats until a run completes. The sinks'
 * files must then equal an uninterrupted reference run exactly, and every input record must be
 * accounted for. A deliberately broken commit order must be caught.
 *
 * CI: 3 seeds × 20 kills over 20 000 records (even seeds read a JSON-lines file, odd ones an
 * array; every third seed also checkpoints every 20 ms, at cuts that depend on timing), plus
 * targeted faults, graceful stops, and the broken-order check. Soaks and debugging:
 * - TIDEMARK_CRASH_SEEDS: how many seeds (1…N), or a comma list of seeds
 * - TIDEMARK_CRASH_KILLS: kills per seed; TIDEMARK_CRASH_RECORDS: input records per seed
 * - TIDEMARK_CRASH_PARALLEL: seeds at once (default 2)
 * - TIDEMARK_CRASH_SINK=fixture: the test-only two-phase sink instead of
 *   `toJsonLines(…, { delivery: 'exactly-once' })`
 * - TIDEMARK_CRASH_VERBOSE=1: print each seed's kills; TIDEMARK_CRASH_KEEP=1: keep the work dirs
 * e.g. `TIDEMARK_CRASH_SEEDS=12 TIDEMARK_CRASH_KILLS=50 npx vitest run spec/crash`
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fault } from './fixtures/faults.js';
import type { SinkName } from './fixtures/workload.js';
import {
  type ChildCommand, type CrashLoopResult, buildChild, compareOutputs, conservation, crashLoop, leftovers, limited, makeInput,
  readOutputs, referenceRun, workDir,
} from './harness.js';

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got '${v}'`);
  return n;
}

function seedsFromEnv(): number[] {
  const v = process.env['TIDEMARK_CRASH_SEEDS'];
  if (v !== undefined && v.includes(',')) return v.split(',').map((s) => Number(s.trim()));
  return Array.from({ length: envInt('TIDEMARK_CRASH_SEEDS', 3) }, (_, i) => i + 1);
}

const SEEDS = seedsFromEnv();
const KILLS = envInt('TIDEMARK_CRASH_KILLS', 20);
const RECORDS = envInt('TIDEMARK_CRASH_RECORDS', 20_000);
const PARALLEL = envInt('TIDEMARK_CRASH_PARALLEL', 2);
/** The sinks under test: the real exactly-once `toJsonLines` (default) or the test-only two-phase sink. */
const SINK = process.env['TIDEMARK_CRASH_SINK'] === 'fixture' ? 'fixture' : 'epoch';
/** Checkpoint every this many records. */
const EVERY = 400;
const SOAK_MS = Math.max(1, (SEEDS.length * KILLS * RECORDS) / (3 * 20 * 20_000));

let cmd: ChildCommand;
const dirs: string[] = [];
const references = new Map<string, Promise<Record<SinkName, string[]>>>();

/** The reference output for a seed, size and input kind (computed once, in this process, without checkpoints). */
function reference(seed: number, n: number, jsonl = false): Promise<Record<SinkName, string[]>> {
  const k = `${seed}/${n}/${jsonl}`;
  let r = references.get(k);
  if (r === undefined) {
    const dir = workDir(`ref-${seed}`);
    dirs.push(dir);
    r = referenceRun(seed, n, dir, { jsonl });
    references.set(k, r);
  }
  return r;
}

function fresh(label: string): string {
  const dir = workDir(label);
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  cmd = await buildChild();
}, 60_000);

afterAll(() => {
  cmd?.cleanup();
  if (process.env['TIDEMARK_CRASH_KEEP'] !== '1') for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('crash recovery (SIGKILL, restart, repeat)', () => {
  it(`ends with the reference output after ${KILLS} kills per seed (seeds ${SEEDS.join(', ')}; ${RECORDS} records)`, async () => {
    const results = await limited(PARALLEL, SEEDS.map((seed) => async (): Promise<[number, CrashLoopResult, string]> => {
      const dir = fresh(`seed-${seed}`);
      const result = await crashLoop(cmd, { seed, n: RECORDS, every: EVERY, kills: KILLS, dir, rerun: true, sink: SINK,
        jsonl: seed % 2 === 0, ...(seed % 3 === 0 ? { intervalMs: 20 } : {}) });
      return [seed, result, dir];
    }));
    const fired = new Set<string>();
    for (const [seed, result, dir] of results) {
      const jsonl = seed % 2 === 0;
      const context = `seed ${seed}: kills ${result.fired.map((f, i) => `[${result.starts[i]}] ${f}`).join('; ')}`;
      if (process.env['TIDEMARK_CRASH_VERBOSE'] === '1') process.stdout.write(`${context}\n  ${result.attempts} attempts in ${result.ms} ms\n`);
      expect(result.kills, context).toBeGreaterThanOrEqual(KILLS);
      expect(result.done?.['read'], context).toBe(RECORDS);
      const out = readOutputs(dir);
      expect(compareOutputs(out, await reference(seed, RECORDS, jsonl)), context).toEqual([]);
      expect(conservation(makeInput(seed, RECORDS), out), context).toEqual([]);
      expect(result.done?.['guarantees'], context).toEqual({ records: 'exactly-once', running: 'exactly-once', windows: 'exactly-once', late: 'exactly-once', dead: 'exactly-once' });
      expect(leftovers(dir), context).toEqual([]);
      for (const f of result.fired) fired.add(f.split(' ')[0] as string);
    }
    // Every fault point was hit somewhere (a planned fault that could not fire falls back to the net).
    for (const kind of ['record', 'random', 'precommit', 'after-precommit', 'checkpoint-write', 'before-commit', 'in-commit', 'restore']) {
      if (SEEDS.length * KILLS >= 24) expect([...fired], `fault '${kind}' never fired`).toContain(kind);
    }
  }, 240_000 * SOAK_MS);
});

/** One targeted kill (or a few) then a fault-free completion, on a smaller input. */
const TARGETED_N = 3_000;
const f = (kind: Fault['kind'], u: number, v: number, w: number, killsLeft = 1): Fault => ({ kind, u, v, w, killsLeft });

describe('targeted fault points', () => {
  // w picks the event-loop turns into the operation (k = ⌊14·w⌋); the kill must land while it is pending.
  const cases: [string, Fault[], RegExp[]][] = [
    ['crash after pre-commit (epochs staged, checkpoint not written)', [f('after-precommit', 0.5, 0, 0)], [/^after-precommit/]],
    ['crash inside the checkpoint write', [f('checkpoint-write', 0.5, 0, 0.15)], [/^checkpoint-write .*\(pending\)/]],
    ['crash before commit (checkpoint durable, no sink committed)', [f('before-commit', 0.5, 0, 0)], [/^before-commit/]],
    ['crash during the sink transaction: staging an epoch', [f('precommit', 0.5, 0.5, 0.1)], [/^precommit windows .*\(pending\)/]],
    ['crash during the sink transaction: inside a commit, then inside the restore\'s re-commit', [f('in-commit', 0.5, 0.1, 0.15, 2), f('restore', 0.5, 0.1, 0.15, 1)], [/^in-commit records .*\(pending\)/, /^restore records .*\(pending\)/]],
    ['crash during restore, after a crash before commit', [f('before-commit', 0.3, 0, 0, 2), f('restore', 0.5, 0.5, 0.1, 1)], [/^before-commit/, /^restore windows .*\(pending\)/]],
  ];
  for (const [title, faults, expected] of cases) {
    it(title, async () => {
      const dir = fresh('targeted');
      const result = await crashLoop(cmd, { seed: 11, n: TARGETED_N, every: 200, kills: faults.length, dir, faults, sink: SINK });
      expect(result.fired.length).toBe(expected.length);
      // The test-only sink works synchronously: its operations are never pending when the kill comes.
      result.fired.forEach((fired, i) => expect(SINK === 'fixture' ? fired.replace('(done)', '(pending)') : fired).toMatch(expected[i] as RegExp));
      const out = readOutputs(dir);
      expect(compareOutputs(out, await reference(11, TARGETED_N))).toEqual([]);
      expect(conservation(makeInput(11, TARGETED_N), out)).toEqual([]);
      expect(leftovers(dir)).toEqual([]);
    }, 60_000);
  }
});

describe('graceful stop and restart', () => {
  it('stopping gracefully (pipeline.stop) three times, then completing, gives the reference output', async () => {
    const faults = [f('stop', 0.2, 0, 0, 3), f('stop', 0.5, 0, 0, 2), f('stop', 0.9, 0, 0, 1)];
    const dir = fresh('stop');
    const result = await crashLoop(cmd, { seed: 13, n: TARGETED_N, every: 200, kills: faults.length, dir, faults, sink: SINK, jsonl: true });
    expect(result.stops).toBe(3);
    // Each stop takes a final checkpoint: every restart begins further on.
    expect(result.starts.every((x, i) => i === 0 || x > (result.starts[i - 1] as number)), `starts ${result.starts.join(', ')}`).toBe(true);
    expect(result.fired.every((x) => x.startsWith('stop'))).toBe(true);
    const out = readOutputs(dir);
    expect(compareOutputs(out, await reference(13, TARGETED_N, true))).toEqual([]);
    expect(conservation(makeInput(13, TARGETED_N), out)).toEqual([]);
    expect(leftovers(dir)).toEqual([]);
  }, 60_000);
});

describe('the suite can fail', () => {
  it('catches a sink that commits inside preCommit (before the checkpoint is durable): duplicates', async () => {
    const faults = [f('after-precommit', 0.3, 0, 0, 2), f('after-precommit', 0.6, 0, 0, 1)];
    const dir = fresh('broken');
    const result = await crashLoop(cmd, { seed: 12, n: TARGETED_N, every: 200, kills: faults.length, dir, faults, broken: true });
    expect(result.fired.every((x) => x.startsWith('after-precommit'))).toBe(true);
    const out = readOutputs(dir);
    const problems = compareOutputs(out, await reference(12, TARGETED_N));
    expect(problems.some((p) => /duplicated lines/.test(p)), problems.join('\n')).toBe(true);
    expect(conservation(makeInput(12, TARGETED_N), out).some((p) => /more than once/.test(p))).toBe(true);
    // The same faults against the correct sink leave the reference output (the control).
    const control = fresh('control');
    await crashLoop(cmd, { seed: 12, n: TARGETED_N, every: 200, kills: faults.length, dir: control, faults });
    expect(compareOutputs(readOutputs(control), await reference(12, TARGETED_N))).toEqual([]);
  }, 60_000);

  it('catches a restore that loses the window state: counts and conservation are off', async () => {
    const faults = [f('record', 0.4, 0, 0, 2), f('record', 0.5, 0, 0, 1)];
    const dir = fresh('lost-state');
    await crashLoop(cmd, { seed: 14, n: TARGETED_N, every: 200, kills: faults.length, dir, faults, sink: SINK, loseWindowState: true });
    const out = readOutputs(dir);
    const problems = compareOutputs(out, await reference(14, TARGETED_N));
    expect(problems.some((p) => p.startsWith('windows:')), problems.join('\n')).toBe(true);
    expect(conservation(makeInput(14, TARGETED_N), out).some((p) => /^windowed/.test(p))).toBe(true);
  }, 60_000);

  it('the comparison reports lost, duplicated, foreign and reordered lines', () => {
    const w = (key: string, start: number): string => JSON.stringify({ key, start, count: 1 });
    const e: Record<SinkName, string[]> = { records: ['"a"', '"b"', '"c"'], running: ['{"key":"x","n":1}'], windows: [w('k', 1), w('j', 1), w('k', 2)], late: [], dead: ['"d1"', '"d2"'] };
    const a: Record<SinkName, string[]> = { records: ['"a"', '"b"', '"b"', '"c"'], running: [], windows: [w('k', 2), w('j', 1), w('k', 1)], late: ['"z"'], dead: ['"d2"', '"d1"'] };
    const problems = compareOutputs(a, e).join('\n');
    expect(problems).toMatch(/records: 1 duplicated lines/);
    expect(problems).toMatch(/running: 1 lines missing/);
    expect(problems).toMatch(/windows: same lines, different order for key k/);
    expect(problems).toMatch(/late: 1 lines not in the reference/);
    expect(problems).not.toMatch(/dead/); // dead letters promise no order
    expect(compareOutputs({ ...e, records: ['"b"', '"a"', '"c"'] }, e)).toEqual([expect.stringMatching(/records: same lines, different order from line 1/)]);
    // Windows of different keys may interleave differently.
    expect(compareOutputs({ ...e, windows: [w('j', 1), w('k', 1), w('k', 2)] }, e)).toEqual([]);
    expect(compareOutputs(e, e)).toEqual([]);
  });
});
