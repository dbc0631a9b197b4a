/**
 * A private `nats-server -js` for tests that stop, restart or configure a server: a free port, a
 * temporary store directory, bounded waits (never a fixed sleep). The shared server on 4222 is
 * never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tcpProbe } from '../services.js';

export const NATS_BINARY = '/usr/sbin/nats-server';

/** True when the nats-server binary is installed. */
export function natsBinaryAvailable(): boolean {
  return existsSync(NATS_BINARY);
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns true, or fails after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** A private NATS server with JetStream. */
export class OwnNatsServer {
  private proc: ChildProcess | undefined;

  private constructor(readonly port: number, readonly dir: string, private readonly extraArgs: readonly string[]) {}

  /** Starts a server on a free port with a fresh store (extra args, e.g. `['--user', 'u', '--pass', 'p']`). */
  static async start(extraArgs: readonly string[] = []): Promise<OwnNatsServer> {
    const s = new OwnNatsServer(await freePort(), mkdtempSync(join(tmpdir(), 'tidemark-nats-')), extraArgs);
    await s.up();
    return s;
  }

  get url(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts the process and waits (bounded) until it accepts connections. */
  async up(): Promise<void> {
    const proc = spawn(NATS_BINARY, ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.dir, ...this.extraArgs], { stdio: 'ignore' });
    this.proc = proc;
    let exited = false;
    proc.once('exit', () => (exited = true));
    await waitFor(async () => {
      if (exited) throw new Error(`nats-server on port ${this.port} exited at start`);
      return tcpProbe(this.port, 500).then(() => true, () => false);
    }, 10_000, `nats-server on port ${this.port}`);
  }

  /** Stops the process (SIGTERM, then SIGKILL if it lingers) and waits for it to exit. */
  async down(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  /** Stops the server and removes its store. */
  async dispose(): Promise<void> {
    await this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
