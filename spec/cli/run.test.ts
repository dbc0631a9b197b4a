/**
 * `tidemark run`: runs a pipeline module, stops cleanly on SIGTERM with a final checkpoint that a
 * rerun continues from (to the same output as an uninterrupted run), serves per-operator metrics,
 * refuses a corrupt checkpoint, restarts failed runs, and exits 130 on a second signal.
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { CHECKPOINT_FORMAT, Pipeline, fileCheckpoints } from 'tidemark';
import { afterAll, describe, expect, it } from 'vitest';
import buildCounts from './fixtures/counts.js';
import { readParts } from './fixtures/epoch-files.js';
import { fixture, logLines, removeTempDirs, runCli, startCli, tempDir, waitFor, waitForFile } from './helpers.js';

const counts = fixture('counts.ts');

afterAll(removeTempDirs);

describe.concurrent('tidemark run', () => {
  it('a SIGTERM mid-run leaves a final checkpoint; the rerun ends with the output of an uninterrupted run; metrics are served meanwhile', async () => {
    const dir = tempDir();
    const gate = join(dir, 'gate');
    const moduleArgs = ['--records', '100', '--out'];
    // The uninterrupted reference: the same module, run in this process.
    const reference = new Pipeline();
    buildCounts(reference, { argv: [...moduleArgs, join(dir, 'ref-out')], command: 'run', replay: false, signal: new AbortController().signal, log: pino({ level: 'silent' }) });
    await reference.run();

    const cp = join(dir, 'cp');
    const common = ['run', counts, '--checkpoints', cp, '--checkpoint-every-records', '10', '--no-progress'];
    const first = startCli([...common, '--metrics-port', '0', '--', ...moduleArgs, join(dir, 'out'), '--pause-at', '45', '--gate', gate]);
    await waitForFile(`${gate}.waiting`, first);
    const url = await waitFor('the metrics URL in a log line', () => logLines(first.stderr()).find((l) => typeof l['url'] === 'string')?.['url'] as string | undefined);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const metrics = await (await fetch(url)).text();
    expect(metrics).toContain('tidemark_records_in_total{operator="counts",kind="window:tumbling"} 45');
    expect(metrics).toContain('tidemark_records_out_total{operator="counts"');
    expect(metrics).toContain('tidemark_records_in_total{operator="parts",kind="sink"}');
    expect(metrics).toMatch(/tidemark_watermark_lag_seconds\{operator="counts"/);
    expect(metrics).toMatch(/tidemark_open_windows\{operator="counts",kind="window:tumbling"\} [1-9]/);
    expect(metrics).toContain('tidemark_late_records_total{operator="counts"');
    expect(metrics).toContain('tidemark_dead_letters_total{operator="counts"');
    expect(metrics).toMatch(/tidemark_checkpoint_duration_seconds_count \d/);
    expect(metrics).toMatch(/tidemark_checkpoint_size_bytes_sum \d/);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const stopLog = logLines(first.stderr());
    expect(stopLog.some((l) => l['event'] === 'stopping' && l['reason'] === 'SIGTERM')).toBe(true);
    const last = stopLog.filter((l) => l['event'] === 'checkpoint-completed').at(-1);
    expect(last?.['id']).toBeGreaterThanOrEqual(5); // 4 by record count + the final one
    for (const f of readdirSync(cp)) expect(statSync(join(cp, f)).mode & 0o777).toBe(0o600);
    expect(statSync(cp).mode & 0o777).toBe(0o700);

    const rerun = await runCli([...common, '--', ...moduleArgs, join(dir, 'out')]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(logLines(rerun.stderr).some((l) => l['event'] === 'restored' && l['id'] === last?.['id'])).toBe(true);

    const expected = readParts(join(dir, 'ref-out'));
    expect(expected.length).toBe(30); // 10 windows × 3 keys
    expect(readParts(join(dir, 'out'))).toEqual(expected);
  });

  it('a checkpoint that fails its integrity check is refused with a clear error and exit code 1', async () => {
    const dir = tempDir();
    const cp = join(dir, 'cp');
    // A valid checkpoint, written through the public store, then one byte flipped.
    const store = fileCheckpoints(cp);
    const info = await store.write({ format: CHECKPOINT_FORMAT, id: 1, type: 'checkpoint', takenAt: 0 }, store.encodeState({ sources: {}, operators: {} }), {});
    const bytes = readFileSync(info.location);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
    writeFileSync(info.location, bytes);
    const r = await runCli(['run', counts, '--checkpoints', cp, '--no-progress', '--', '--records', '30', '--out', join(dir, 'out')]);
    expect(r.code).toBe(1);
    const failure = logLines(r.stderr).find((l) => l['level'] === 50);
    expect(failure?.['msg']).toMatch(/run failed: CheckpointError: checkpoint .*tmck is refused: its checksum does not match/);
    expect(logLines(r.stderr).some((l) => l['event'] === 'restored')).toBe(false);
    expect(readParts(join(dir, 'out'))).toEqual([]); // nothing ran on a half-restored state
  });

  it('a failing run is restarted as configured, logged, then fails with the error named (exit 1)', async () => {
    const dir = tempDir();
    const r = await runCli(['run', counts, '--restart-attempts', '2', '--restart-delay', '10ms', '--restart-strategy', 'fixed', '--no-progress', '--', '--records', '20', '--fail-at', '7', '--out', join(dir, 'out')]);
    expect(r.code).toBe(1);
    const lines = logLines(r.stderr);
    expect(lines.filter((l) => l['event'] === 'restart').map((l) => l['attempt'])).toEqual([1, 2]);
    const failure = lines.find((l) => l['level'] === 50);
    expect(failure?.['msg']).toMatch(/run failed: UserFunctionError: .*planted failure at record 7/);
  });

  it('a second signal while stopping exits at once with code 130', async () => {
    const dir = tempDir();
    const gate = join(dir, 'gate');
    const cli = startCli(['run', counts, '--no-progress', '--', '--records', '50', '--pause-at', '5', '--gate', gate, '--hang-on-close', '--out', join(dir, 'out')]);
    await waitForFile(`${gate}.waiting`, cli);
    cli.child.kill('SIGTERM');
    await waitFor('the stopping log line', () => (logLines(cli.stderr()).some((l) => l['event'] === 'stopping') ? true : undefined));
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(130);
  });
});
