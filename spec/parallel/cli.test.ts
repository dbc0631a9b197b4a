/**
 * `tidemark run --parallelism N`: the module runs on N worker threads with the output of an
 * in-thread run; the flag is validated; metrics (summed over the workers), record-count
 * checkpoints, restarts and SIGTERM with a savepoint work as with one worker.
 */
import { existsSync } from 'node:fs';
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

  it('validates the flag', async () => {
    const bad = await cli(['run', module, '--parallelism', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--parallelism/);
  }, 60_000);

  it('serves the summed metrics, checkpoints every N records, and stops on SIGTERM after a savepoint', async () => {
    const into = scratch();
    const cps = scratch();
    const child = spawn(process.execPath, [
      join(root, 'cli/bin.mjs'), 'run', join(here, 'fixtures/resumable.ts'), '--parallelism', '2', '--no-progress',
      '--checkpoints', cps, '--checkpoint-every-records', '250', '--savepoint-on-stop', '--metrics-port', '0', '--restart-attempts', '1',
      '--', '--out', into, '--stop-at', '300',
    ], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const closed = new Promise<number>((res) => child.on('close', (code) => res(code ?? -1)));
    const logs = (): Record<string, unknown>[] => stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const deadline = Date.now() + 60_000;
    const poll = async (ready: () => boolean | Promise<boolean>, what: string): Promise<void> => {
      while (!(await ready())) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`timed out waiting for ${what}: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await poll(() => existsSync(join(into, 'held-300-0')) && existsSync(join(into, 'held-300-1')), 'the readers to hold');
      await poll(() => logs().some((l) => typeof l['url'] === 'string'), 'the metrics URL');
      const url = logs().find((l) => typeof l['url'] === 'string')?.['url'] as string;
      // The workers report every 500 ms: poll until the totals arrived (4 partitions × 300 records).
      let text = '';
      await poll(async () => {
        text = await (await fetch(url)).text();
        return /tidemark_source_records_read_total\{source="clicks"\} 1200\b/.test(text);
      }, 'the summed counters in the metrics');
      expect(text).toMatch(/tidemark_records_in_total\{operator="perUser",kind="window:tumbling"\} \d+/);
      // 600 records per worker, a checkpoint every 250 per worker.
      await poll(() => logs().filter((l) => l['event'] === 'checkpoint-completed').length >= 2, 'record-count checkpoints');
      child.kill('SIGTERM');
      expect(await closed).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    const all = logs();
    expect(all.some((l) => l['event'] === 'savepoint')).toBe(true);
    expect(all.some((l) => String(l['msg']).includes('stopped (SIGTERM)'))).toBe(true);
    expect(all.find((l) => String(l['msg']).includes('stopped'))?.['sources']).toMatchObject({ clicks: { read: 1_200 } });
  }, 90_000);
});
