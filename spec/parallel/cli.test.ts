/**
 * `tidemark run --parallelism N`: the module runs on N worker threads with the output of an
 * in-thread run; the flag is validated, and what a parallel run does not offer is refused.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { lines, scratchDirs } from './support.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const module = join(here, 'fixtures/counts.ts');
const scratch = scratchDirs('tidemark-parallel-cli-');

function cli(args: readonly string[]): Promise<{ code: number; stderr: string }> {
  const child = spawn(process.execPath, [join(root, 'cli/bin.mjs'), ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  return new Promise((res) => child.on('close', (code) => res({ code: code ?? -1, stderr })));
}

describe('tidemark run --parallelism', () => {
  it('runs the module on worker threads with the output of an in-thread run', async () => {
    const one = scratch();
    const two = scratch();
    const [a, b] = await Promise.all([
      cli(['run', module, '--no-progress', '--', '--out', one]),
      cli(['run', module, '--no-progress', '--parallelism', '2', '--', '--out', two]),
    ]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    for (const f of ['counts.jsonl', 'sliding.jsonl', 'dead.jsonl']) expect(lines(join(two, f))).toEqual(lines(join(one, f)));
    const logs = b.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logs.some((l) => l['parallelism'] === 2 && String(l['msg']).includes('started'))).toBe(true);
    const done = logs.find((l) => String(l['msg']).includes('completed')) as { sources: Record<string, { read: number }> } | undefined;
    expect(done?.sources['clicks']?.read).toBe(4_000);
  }, 60_000);

  it('validates the flag and refuses what a parallel run does not offer', async () => {
    const bad = await cli(['run', module, '--parallelism', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--parallelism/);
    const metrics = await cli(['run', module, '--parallelism', '2', '--metrics-port', '0']);
    expect(metrics.code).toBe(2);
    expect(metrics.stderr).toMatch(/--metrics-port is not available with --parallelism 2/);
  }, 60_000);
});
