/**
 * Helpers of the command-line tests: spawn `node cli/bin.mjs …` as a child process, collect its
 * output, and wait (polling, with a bound) for files and log lines — never a fixed sleep; or call
 * `main` in process (`callMain`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from 'tidemark/cli';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const fixture = (name: string): string => join(root, 'spec/cli/fixtures', name);

/** A running CLI process. */
export interface Cli {
  readonly child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or 128 + signal number when killed by a signal). */
  readonly exited: Promise<number>;
}

/** Starts `tidemark <args>` (the package's bin) with the repository as working directory. */
export function startCli(args: readonly string[]): Cli {
  const child = spawn(process.execPath, [join(root, 'cli/bin.mjs'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const exited = new Promise<number>((res) => {
    child.on('close', (code, signal) => res(code ?? (signal === null ? -1 : 128)));
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Runs the CLI to its end. */
export async function runCli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const cli = startCli(args);
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** Polls `check` every 20 ms until it returns a value other than undefined; fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits for a file to exist. */
export function waitForFile(path: string, cli?: Cli): Promise<true> {
  return waitFor(`${path}${cli === undefined ? '' : ` (stderr so far: ${cli.stderr().slice(-500)})`}`, () => (existsSync(path) ? true : undefined));
}

/** The JSON log lines of a stderr text (non-JSON lines skipped). */
export function logLines(stderr: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial line while the process still writes
    }
  }
  return out;
}

const made: string[] = [];

/** A fresh temporary directory (removed by `removeTempDirs`). */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-cli-'));
  made.push(dir);
  return dir;
}

/** Removes the directories `tempDir` made (call from `afterAll`). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Runs `main` in process, capturing what it prints (an exit call is an error). */
export async function callMain(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, {
    print: async (t) => { out += t; },
    error: async (t) => { err += t; },
    exit: (c) => { throw new Error(`unexpected exit ${c}`); },
    stdoutIsTty: false,
  });
  return { code, out, err };
}
