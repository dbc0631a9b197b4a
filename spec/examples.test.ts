/**
 * The README's main command runs: the demo prints results, late records, dead letters and a
 * summary whose counts add up.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe('examples', () => {
  it('the demo (npm start) runs and its conservation lines add up', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(root, 'examples/demo.ts')], { cwd: root, encoding: 'utf8' });
    expect(out).toContain('Per-page views');
    expect(out).toContain('Late records');
    expect(out).toContain('Dead letters: 2');
    for (const m of out.matchAll(/in (\d+) = accepted (\d+) \+ too late (\d+) \+ dead-lettered (\d+)/g)) {
      expect(Number(m[1])).toBe(Number(m[2]) + Number(m[3]) + Number(m[4]));
    }
    const src = /read (\d+) = emitted (\d+) \+ dead-lettered (\d+)/.exec(out);
    expect(src).not.toBeNull();
    expect(Number(src?.[1])).toBe(Number(src?.[2]) + Number(src?.[3]));
  }, 60_000);

  it('the CLI example module runs with checkpoints and writes its counts exactly once', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'tidemark-example-'));
    const run = () => execFileSync(process.execPath, [join(root, 'cli/bin.mjs'), 'run', join(root, 'examples/page-counts.ts'),
      '--checkpoints', join(dir, 'checkpoints'), '--no-progress', '--log-level', 'warn', '--', '--users', '20'],
    { cwd: dir, encoding: 'utf8', env: { ...process.env } });
    run();
    const first = readFileSync(join(dir, 'out/page-counts.jsonl'), 'utf8').trim().split('\n');
    expect(first.length).toBeGreaterThan(10);
    const total = first.map((l) => (JSON.parse(l) as { views: number }).views).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(0);
    // A second run resumes from the final checkpoint: nothing is added or repeated.
    run();
    expect(readFileSync(join(dir, 'out/page-counts.jsonl'), 'utf8').trim().split('\n')).toEqual(first);
  }, 60_000);
});
