/**
 * Shared pieces of the cluster tests: the worker bundle (esbuild, as the crash suite does, so a
 * spawn is a plain `node` start), worker processes whose JSON event lines can be awaited by
 * bounded polling, the input generator and publisher, and the output table reader.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Pipeline, partitionFor } from 'tidemark';
import { afterAll, beforeAll } from 'vitest';
import { JsAdmin as JsAdminClass, type JsAdmin } from '../connectors/jetstream/fixture.js';
import { uniqueName } from '../connectors/services.js';
import clusterModule, { type ClusterArgs, type ClusterEvent } from './fixtures/module.js';
import type { WorkerConfig } from './fixtures/worker.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');

export const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const NATS = '127.0.0.1:4222';

/** The worker command: a bundled ES module run by `node` (or `node --import tsx` without esbuild). */
export interface WorkerCommand {
  readonly args: readonly string[];
  readonly cleanup: () => void;
}

/** Bundles fixtures/worker.ts once. */
export async function buildWorker(): Promise<WorkerCommand> {
  const entry = join(here, 'fixtures', 'worker.ts');
  try {
    const esbuild = await import('esbuild');
    const outDir = join(root, 'node_modules', '.cache', 'tidemark-cluster');
    mkdirSync(outDir, { recursive: true });
    const outfile = join(outDir, `worker-${process.pid}-${Date.now()}.mjs`);
    await esbuild.build({
      entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, logLevel: 'error',
      banner: { js: "import { createRequire as __clusterRequire } from 'node:module'; const require = __clusterRequire(import.meta.url);" },
    });
    return { args: [outfile], cleanup: () => rmSync(outfile, { force: true }) };
  } catch {
    return { args: ['--import', 'tsx', entry], cleanup: () => undefined };
  }
}

/** An event line a worker printed. */
export type WorkerEvent = { readonly type: string; readonly partition?: number; readonly token?: number; readonly error?: string; readonly reason?: string } & Record<string, unknown>;

/** Polls `check` every 25 ms until it returns a value other than undefined, or fails after `timeoutMs` saying `what`. */
export async function poll<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A worker process. */
export class Worker {
  readonly events: WorkerEvent[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(cmd: WorkerCommand, readonly config: WorkerConfig) {
    this.child = spawn(process.execPath, [...cmd.args], { cwd: root, env: { ...process.env, CLUSTER_CONFIG: JSON.stringify(config) }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (d: string) => {
      if (this.stderr.length < 20_000) this.stderr += d;
    });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as WorkerEvent);
      } catch {
        this.events.push({ type: 'output', line });
      }
    });
    this.exited = new Promise((res) => this.child.on('close', (code, signal) => res({ code, signal })));
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** Partitions this worker currently holds (claimed and not released, lost or fenced since). */
  owned(): Set<number> {
    const out = new Set<number>();
    for (const e of this.events) {
      if (e.partition === undefined) continue;
      if (e.type === 'claimed') out.add(e.partition);
      if (e.type === 'released' || e.type === 'lost' || e.type === 'fenced' || e.type === 'failed') out.delete(e.partition);
    }
    return out;
  }

  finished(): Set<number> {
    return new Set(this.events.filter((e) => e.type === 'finished').map((e) => e.partition as number));
  }

  failures(): WorkerEvent[] {
    return this.events.filter((e) => e.type === 'failed' || e.type === 'closed' || e.type === 'stop-failed');
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  /** SIGTERM and wait for a clean exit. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const res = await Promise.race([this.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), timeoutMs).unref())]);
    if (res === undefined) {
      this.child.kill('SIGKILL');
      throw new Error(`worker ${this.config.instanceId} did not stop within ${timeoutMs} ms; stderr: ${this.stderr}`);
    }
  }

  describe(): string {
    return `${this.config.instanceId}: ${this.events.map((e) => JSON.stringify(e)).join('\n  ')}\n  stderr: ${this.stderr}`;
  }
}

/** `n` events over `users` users, timestamps increasing (no event is late in any partition). */
export function makeEvents(n: number, users = 40, pages = 7): ClusterEvent[] {
  const t0 = 1_700_000_000_000;
  return Array.from({ length: n }, (_, i) => ({ user: `u${(i * 7919) % users}`, page: `page-${(i * 31) % pages}`, ts: t0 + i * 7, i }));
}

/** Publishes `events` to `<stream>.<partitionFor(user)>`. */
export async function publishByUser(admin: JsAdmin, stream: string, partitions: number, events: readonly ClusterEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    const part = events.slice(i, i + 500);
    await admin.publishJson((k) => `${stream}.${partitionFor((part[k] as ClusterEvent).user, partitions)}`, part);
  }
}

/** The rows of an output table as sorted lines `key|start|end|pane|value`. */
export async function tableLines(table: string): Promise<string[]> {
  const client = new pg.Client(PG_URL);
  await client.connect();
  try {
    const r = await client.query<{ key: string; window_start: string; window_end: string; pane_index: number; value: unknown }>(
      `SELECT key, window_start, window_end, pane_index, value FROM "${table}"`,
    );
    return r.rows.map((row) => `${row.key}|${row.window_start}|${row.window_end}|${row.pane_index}|${JSON.stringify(row.value)}`).sort();
  } finally {
    await client.end();
  }
}

/**
 * Every physical row version of `table` (`ctid:xmin`, sorted): any write to it — even an upsert
 * rewriting a row with the same values — changes this, so it shows whether a writer was refused.
 */
export async function rowVersions(table: string): Promise<string[]> {
  const client = new pg.Client(PG_URL);
  await client.connect();
  try {
    const r = await client.query<{ v: string }>(`SELECT ctid::text || ':' || xmin::text AS v FROM "${table}"`);
    return r.rows.map((row) => row.v).sort();
  } finally {
    await client.end();
  }
}

/** Runs the module once, single-process, over the whole stream (the reference output). */
export async function referenceRun(args: ClusterArgs): Promise<string[]> {
  const p = new Pipeline({ batchSize: 256 });
  clusterModule(p, args);
  await p.run();
  return tableLines(args.table);
}

/** Drops the test's tables (best effort). */
export async function dropTables(tables: readonly string[]): Promise<void> {
  const client = new pg.Client(PG_URL);
  await client.connect();
  try {
    for (const t of tables) await client.query(`DROP TABLE IF EXISTS "${t}"`);
  } finally {
    await client.end();
  }
}

/** Runs `body`; a failure carries every worker's events and stderr (what each process did). */
export async function explained(workers: readonly Worker[], body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    const detail = workers.map((w) => w.describe()).join('\n');
    if (e instanceof Error) e.message = `${e.message}\n--- workers ---\n${detail}`;
    throw e;
  }
}

/** The newest checkpoint id of each partition of `app` in the shared store. */
export async function checkpointed(app: string, table: string): Promise<Map<number, number>> {
  const client = new pg.Client(PG_URL);
  await client.connect();
  try {
    const r = await client.query<{ application: string; id: string }>(`SELECT application, max(id) AS id FROM "${table}" WHERE application LIKE $1 GROUP BY application`, [`${app}/p%`]);
    return new Map(r.rows.map((row) => [Number(row.application.slice(app.length + 2)), Number(row.id)]));
  } catch {
    return new Map();
  } finally {
    await client.end();
  }
}

/** What a process test shares: the admin connection, the worker bundle, and cleanup of what it made. */
export interface ClusterFixture {
  readonly admin: JsAdmin;
  /** Starts a worker (killed after the file's tests). */
  worker(config: WorkerConfig): Worker;
  /** A table name unique to the run, dropped afterwards. */
  table(prefix: string): string;
  /** An application id unique to the run; its lease bucket, repartition streams and fence rows are removed afterwards. */
  app(): string;
  /** Runs `body`; a failure carries every worker's events. */
  explained(body: () => Promise<void>): Promise<void>;
}

/** Registers the hooks of a process test (call inside `describe`). */
export function clusterFixture(): ClusterFixture {
  let admin: JsAdmin | undefined;
  let cmd: WorkerCommand | undefined;
  const workers: Worker[] = [];
  const tables: string[] = [];
  const apps: string[] = [];
  beforeAll(async () => {
    admin = await JsAdminClass.connect(NATS);
    cmd = await buildWorker();
  });
  afterAll(async () => {
    for (const w of workers) {
      w.signal('SIGCONT');
      w.signal('SIGKILL');
    }
    cmd?.cleanup();
    for (const app of apps) {
      for (const s of [`KV_tidemark_${app}`, `${app}-repartition-byPage`]) await admin?.jsm.streams.delete(s).catch(() => undefined);
    }
    await admin?.close();
    await dropTables(tables).catch(() => undefined);
    await forgetFences(apps).catch(() => undefined);
  });
  return {
    get admin(): JsAdmin {
      if (admin === undefined) throw new Error('the cluster fixture is not ready (use it inside a test)');
      return admin;
    },
    worker(config) {
      const w = new Worker(cmd as WorkerCommand, config);
      workers.push(w);
      return w;
    },
    table(prefix) {
      const t = uniqueName(prefix);
      tables.push(t);
      return t;
    },
    app() {
      const app = uniqueName('tmapp');
      apps.push(app);
      return app;
    },
    explained: (body) => explained(workers, body),
  };
}

/** Deletes the fence rows of the applications `apps`. */
async function forgetFences(apps: readonly string[]): Promise<void> {
  const client = new pg.Client(PG_URL);
  await client.connect();
  try {
    for (const app of apps) await client.query('DELETE FROM tidemark_fences WHERE scope LIKE $1', [`${app}/%`]);
  } finally {
    await client.end();
  }
}
