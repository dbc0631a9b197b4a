/**
 * Durability of the file sinks, shown with `strace` on a child process: with `fsync: 'close'`
 * the data is fsynced after the last write and before the atomic rename (and the directory after
 * it); with `fsync: 'always'` every write is followed by an fdatasync before the next one.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const tmp = tempDir('fsync');
afterAll(tmp.cleanup);

function hasStrace(): boolean {
  try {
    execFileSync('strace', ['-f', '-e', 'trace=none', 'true'], { stdio: 'pipe' });
    return true;
  } catch (e) {
    if (process.env['CI'] === 'true') throw new Error(`strace is required under CI=true: ${String(e)}`);
    console.warn('skipping fsync tests: strace is not usable here');
    return false;
  }
}

describe.skipIf(!hasStrace())('file sink durability (strace)', () => {
  it('fsyncs on close before the atomic rename, and after every write with fsync: always', () => {
    const atomic = tmp.path('atomic.jsonl');
    const always = tmp.path('always.jsonl');
    const script = tmp.path('write.mts');
    writeFileSync(script, `
      import { ManualClock, Pipeline, fromArray, toJsonLines } from ${JSON.stringify(pathToFileURL(join(root, 'index.ts')).href)};
      const p = new Pipeline({ clock: new ManualClock(), batchSize: 2 });
      const s = p.source(fromArray([1, 2, 3, 4]), { timestamp: (n) => n });
      s.sink(toJsonLines(${JSON.stringify(atomic)}, { atomic: true }));
      s.sink(toJsonLines(${JSON.stringify(always)}, { fsync: 'always' }));
      await p.run();
    `);
    const trace = tmp.path('trace.txt');
    execFileSync('strace', ['-f', '-y', '-o', trace, '-e', 'trace=openat,write,pwrite64,writev,fsync,fdatasync,rename,renameat,renameat2',
      process.execPath, '--import', 'tsx', script], { cwd: root, stdio: 'pipe' });
    expect(readFileSync(atomic, 'utf8')).toBe('1\n2\n3\n4\n');
    expect(readFileSync(always, 'utf8')).toBe('1\n2\n3\n4\n');

    // -y prints each fd with its path; a call split by another thread keeps its name and fd on the first line
    const calls = readFileSync(trace, 'utf8').split('\n').map((l) => l.replace(/^\d+\s+/, '')).filter((l) => !l.startsWith('<...'));
    const on = (file: RegExp): string[] => calls
      .filter((c) => new RegExp(`^(write|pwrite64|writev|fsync|fdatasync)\\(\\d+<${file.source}>`).test(c))
      .map((c) => (/^f(data)?sync/.test(c) ? 'sync' : 'write'));
    const dir = tmp.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // atomic: writes to the temp file, then fsync; rename over the target; then fsync of the directory
    const temp = on(new RegExp(`${dir}/\\.atomic\\.jsonl\\.[0-9a-f]+\\.tmp`));
    expect(temp.at(-1)).toBe('sync');
    expect(temp.filter((k) => k === 'write').length).toBeGreaterThanOrEqual(1);
    const tempSyncs = calls.map((c, i) => (/^f(data)?sync\(\d+<.*\.atomic\.jsonl\.[0-9a-f]+\.tmp>/.test(c) ? i : -1));
    const lastTempSync = Math.max(...tempSyncs);
    const rename = calls.findIndex((c) => /^rename(at2?)?\(.*\.atomic\.jsonl\.[0-9a-f]+\.tmp".*atomic\.jsonl"/.test(c));
    expect(lastTempSync).toBeGreaterThanOrEqual(0);
    expect(rename).toBeGreaterThan(lastTempSync);
    expect(calls.slice(rename).some((c) => new RegExp(`^fsync\\(\\d+<${dir}>\\)`).test(c))).toBe(true);
    // always: write, sync, write, sync (two batches of two records)
    expect(on(new RegExp(`${dir}/always\\.jsonl`)).slice(0, 4)).toEqual(['write', 'sync', 'write', 'sync']);
  });
});
