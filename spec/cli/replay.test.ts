/**
 * `tidemark replay`: reprocesses history into a directory (`--from`, `--to`, `--into`), and
 * `--verify` compares the outputs with existing ones, printing the differences (exit 1) or
 * confirming they are equal (exit 0).
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, removeTempDirs, runCli, tempDir } from './helpers.js';

const replay = fixture('replay.ts');
let dir = '';
let input = '';
let built = '';

// 60 events of three users over 60 s; the replay keeps [10 s, 50 s).
beforeAll(async () => {
  dir = tempDir();
  input = join(dir, 'events.jsonl');
  writeFileSync(input, Array.from({ length: 60 }, (_, i) => `${JSON.stringify({ user: `u${i % 3}`, ts: i * 1000 })}\n`).join(''));
  built = join(dir, 'built');
  const r = await runCli(['replay', replay, '--from', '@10000', '--to', '@50000', '--into', built, '--no-progress', '--', '--input', input]);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(removeTempDirs);

describe.concurrent('tidemark replay', () => {
  it('--from/--to/--into: the module rebuilds its output from the given range into the directory', () => {
    const rows = readFileSync(join(built, 'counts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { start: number; count: number });
    expect(rows.map((r) => r.start).sort((a, b) => a - b)).toEqual([10_000, 10_000, 10_000, 20_000, 20_000, 20_000, 30_000, 30_000, 30_000, 40_000, 40_000, 40_000]);
    expect(rows.reduce((n, r) => n + r.count, 0)).toBe(40);
  });

  it('--verify exits 0 and says so when the replay reproduces the existing outputs (order aside)', async () => {
    const same = join(dir, 'same');
    cpSync(built, same, { recursive: true });
    const lines = readFileSync(join(same, 'counts.jsonl'), 'utf8').trim().split('\n').reverse();
    writeFileSync(join(same, 'counts.jsonl'), `${lines.join('\n')}\n`);
    const r = await runCli(['replay', replay, '--from', '@10000', '--to', '@50000', '--into', same, '--verify', '--no-progress', '--', '--input', input]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`verify: the replay's 1 output(s) equal those in ${same}`);
    expect(readFileSync(join(same, 'counts.jsonl'), 'utf8')).toBe(`${lines.join('\n')}\n`); // untouched
  });

  it('--verify DIR prints the differences and exits 1 when the outputs differ', async () => {
    const other = join(dir, 'other');
    cpSync(built, other, { recursive: true });
    const rows = readFileSync(join(other, 'counts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { user: string; start: number; count: number });
    const changed = rows.slice(1).map((r, i) => (i === 0 ? { ...r, count: r.count + 1 } : r));
    writeFileSync(join(other, 'counts.jsonl'), changed.map((r) => `${JSON.stringify(r)}\n`).join(''));
    writeFileSync(join(other, 'stale.jsonl'), '{"old":true}\n');
    const r = await runCli(['replay', replay, '--from', '@10000', '--to', '@50000', '--verify', other, '--no-progress', '--', '--input', input]);
    expect(r.code, r.stderr).toBe(1);
    const [first, second] = rows;
    const key = (x: typeof first) => JSON.stringify({ count: x?.count, start: x?.start, user: x?.user });
    expect(r.stdout).toContain(`verify: 2 output(s) differ from ${other}`);
    expect(r.stdout).toContain('counts.jsonl: 1 missing, 2 unexpected (11 records before, 12 replayed)');
    expect(r.stdout).toContain(`  - ${JSON.stringify({ count: (second?.count ?? 0) + 1, start: second?.start, user: second?.user })}`);
    expect(r.stdout).toContain(`  + ${key(first)}`);
    expect(r.stdout).toContain(`  + ${key(second)}`);
    expect(r.stdout).toContain('stale.jsonl: 1 missing, 0 unexpected (1 records before, 0 replayed, not written by the replay)');
  });
});
