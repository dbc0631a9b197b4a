/**
 * Exactly-once with real kills: a child process runs the counts pipeline from one event log to
 * another (`counts-child.ts`) and SIGKILLs itself at fault points — mid-run at a record, and right
 * after a commit's append became durable but before the sink recorded it (the case idempotent
 * re-commit exists for). Each restart restores the latest checkpoint; after the last, complete
 * run the output log equals an uninterrupted run's exactly.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EventLog } from 'tidemark';
import { type Click, type Count, countsPipeline, logContents, writeClicks } from './counts-pipeline.js';
import { removeTempDirs, tempDir } from './helpers.js';

const child = join(dirname(fileURLToPath(import.meta.url)), 'counts-child.ts');
afterAll(removeTempDirs);

/** Runs the child with `fault` until it exits (bounded); resolves with its signal and what it printed. */
function runChild(args: string[], fault: string): Promise<{ signal: NodeJS.Signals | null; code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, ...args, fault], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`child (${fault}) did not finish within 60 s: ${err}`));
    }, 60_000);
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0 && signal === null) reject(new Error(`child (${fault}) failed with code ${String(code)}: ${err}`));
      else resolve({ signal, code, out });
    });
  });
}

describe('exactly-once event log sink under SIGKILL', () => {
  it('kills at a record and right after durable appends leave the output of an uninterrupted run, exactly', { timeout: 120_000 }, async () => {
    const inputDir = await tempDir();
    const input = await EventLog.open<Click>(inputDir, { partitions: 3, fsync: 'always' });
    await writeClicks(input);
    const reference = await EventLog.open<Count>(await tempDir(), { partitions: 2 });
    await countsPipeline(input, reference, await tempDir()).run();
    const expected = await logContents(reference);
    await Promise.all([input.close(), reference.close()]);

    const outputDir = await tempDir();
    const args = [inputDir, outputDir, await tempDir()];
    const state = async (): Promise<{ pending: unknown }> => JSON.parse(await readFile(join(outputDir, 'sinks', 'counts', 'state.json'), 'utf8')) as { pending: unknown };

    const first = await runChild(args, 'record:1200');
    expect(first).toMatchObject({ signal: 'SIGKILL', out: 'fault at record 1200\n' });
    const second = await runChild(args, 'synced:3');
    expect(second).toMatchObject({ signal: 'SIGKILL', out: 'fault after the append of commit 3\n' });
    expect((await state()).pending).not.toBeNull(); // appended and durable, not yet recorded
    const third = await runChild(args, 'synced:1');
    expect(third).toMatchObject({ signal: 'SIGKILL', out: 'fault after the append of commit 1\n' });
    expect((await state()).pending).not.toBeNull();
    const last = await runChild(args, 'none');
    expect(last).toMatchObject({ code: 0, out: 'done\n' });

    const output = await EventLog.open<Count>(outputDir);
    try {
      expect(await logContents(output)).toEqual(expected);
    } finally {
      await output.close();
    }
  });
});
