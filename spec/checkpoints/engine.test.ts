/**
 * Checkpoints in the engine: consistent cuts between chunks, restore of source positions and
 * operator state, the two-phase commit of exactly-once sinks in step with checkpoints, refusal of
 * corrupt and incompatible checkpoints (and migrations), savepoints, stop, restarts.
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CheckpointError, ManualClock, Pipeline, type PipelineEvent, SinkError, boundedOutOfOrderness, collect, count, fileCheckpoints, fromArray,
  fromAsyncIterable, sliding,
} from 'tidemark';
import { inputs, memoryDb, runningSum, tempDir, twoPhaseSink } from './support.js';

type In = { key: string; n: number; ts: number };
type Out = { key: string; sum: number };

/** Builds the test pipeline: input → map (may fail once at `failAt`) → running sum → 2PC sink. */
function build(records: readonly In[], dir: string, db: ReturnType<typeof memoryDb<Out>>, opts: {
  failAt?: number; everyRecords?: number; events?: PipelineEvent[]; restore?: 'latest' | 'none' | number; signature?: string;
  migrations?: Record<string, (s: unknown) => unknown>; restart?: boolean; keep?: number;
} = {}): Pipeline {
  let seen = 0;
  const p = new Pipeline({
    clock: new ManualClock(0),
    batchSize: 16,
    checkpoints: {
      store: fileCheckpoints(dir, { keep: opts.keep ?? 3 }),
      everyRecords: opts.everyRecords ?? 100,
      ...(opts.restore === undefined ? {} : { restore: opts.restore }),
      ...(opts.migrations === undefined ? {} : { migrations: opts.migrations }),
    },
    ...(opts.restart === true ? { restart: { attempts: 3, delay: 0 } } : {}),
    ...(opts.events === undefined ? {} : { onEvent: (e: PipelineEvent) => opts.events?.push(e) }),
  });
  p.source(fromArray(records, { batchSize: 16 }), { timestamp: (r) => r.ts, name: 'numbers' })
    .map((r) => {
      seen++;
      if (opts.failAt !== undefined && seen === opts.failAt) throw new Error(`injected failure at record ${seen}`);
      return r;
    }, { name: 'maybeFail' })
    .transform<Out>(runningSum(opts.signature === undefined ? {} : { signature: opts.signature }), { name: 'sums' })
    .sink(twoPhaseSink(db), { name: 'db' });
  return p;
}

async function reference(records: readonly In[]): Promise<Out[]> {
  const db = memoryDb<Out>();
  await build(records, tempDir('ref'), db).run();
  return db.committed;
}

describe('checkpoints', () => {
  const records = inputs(1_000);

  it('a run that fails resumes from its last checkpoint: the exactly-once sink holds an uninterrupted run exactly', async () => {
    const expected = await reference(records);
    expect(expected).toHaveLength(1_000);
    const dir = tempDir('resume');
    const db = memoryDb<Out>();
    await expect(build(records, dir, db, { failAt: 537 }).run()).rejects.toThrow(/injected failure at record 537/);
    // Only whole checkpointed epochs are visible; nothing after the last checkpoint.
    expect(db.committed.length).toBeGreaterThan(0);
    expect(db.committed.length).toBeLessThan(537);
    expect(db.committed).toEqual(expected.slice(0, db.committed.length));
    const summary = await build(records, dir, db).run();
    expect(db.committed).toEqual(expected);
    expect(summary.checkpoints?.restoredFrom).toBeGreaterThan(0);
    expect(summary.guarantees).toEqual({ db: 'exactly-once' });
    expect(summary.sources.numbers?.read).toBe(1_000);
  });

  it('commits a sink epoch only after its checkpoint is durable, in id order', async () => {
    const dir = tempDir('order');
    const db = memoryDb<Out>();
    const events: PipelineEvent[] = [];
    await build(records, dir, db, { events }).run();
    const completed = events.filter((e) => e.type === 'checkpoint-completed').map((e) => (e.type === 'checkpoint-completed' ? e.checkpoint.id : 0));
    expect(completed.length).toBeGreaterThanOrEqual(10);
    const commits = db.calls.filter((c) => c.startsWith('commit')).map((c) => Number(c.split(' ')[1]));
    expect(commits).toEqual(completed);
    // preCommit k always precedes commit k.
    for (const id of commits) expect(db.calls.indexOf(`preCommit ${id}`)).toBeLessThan(db.calls.indexOf(`commit ${id}`));
  });

  it('writes checkpoint files owner-only, keeps the last N', async () => {
    const dir = tempDir('files');
    await build(records, dir, memoryDb<Out>(), { keep: 2 }).run();
    const files = readdirSync(dir);
    expect(files.filter((f) => f.startsWith('checkpoint-'))).toHaveLength(2);
    for (const f of files) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('refuses a corrupt checkpoint with a clear error before anything runs', async () => {
    const dir = tempDir('corrupt');
    const db = memoryDb<Out>();
    await expect(build(records, dir, db, { failAt: 300 }).run()).rejects.toThrow(/injected/);
    const latest = readdirSync(dir).filter((f) => f.endsWith('.tmck')).sort().at(-1) as string;
    const bytes = readFileSync(join(dir, latest));
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 0xff;
    writeFileSync(join(dir, latest), bytes);
    const before = db.committed.length;
    const err = await build(records, dir, db).run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect(String((err as Error).message)).toMatch(/refused: its checksum does not match/);
    expect(db.committed.length).toBe(before);
  });

  it('refuses state written with another signature, naming the operator, unless a migration converts it', async () => {
    const dir = tempDir('compat');
    const db = memoryDb<Out>();
    await expect(build(records, dir, db, { failAt: 400 }).run()).rejects.toThrow(/injected/);
    const err = await build(records, dir, memoryDb<Out>(), { signature: 'running-sum v2' }).run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toMatch(/operator 'sums' cannot read its saved state: it was written by running-sum v1 \(state version 1\), this pipeline has running-sum v2/);
    expect((err as Error).message).toMatch(/migrations\['sums'\]/);
    let migrated = 0;
    await build(records, dir, db, { signature: 'running-sum v2', migrations: { sums: (s) => (migrated++, s) } }).run();
    expect(migrated).toBe(1);
    expect(db.committed).toEqual(await reference(records));
  });

  it('refuses state of an operator the pipeline no longer has', async () => {
    const dir = tempDir('missing');
    await expect(build(records, dir, memoryDb<Out>(), { failAt: 400 }).run()).rejects.toThrow(/injected/);
    const p = new Pipeline({ clock: new ManualClock(0), checkpoints: { store: fileCheckpoints(dir) } });
    p.source(fromArray(records), { timestamp: (r) => r.ts, name: 'numbers' }).sink(collect([]));
    await expect(p.run()).rejects.toThrow(/state for operator 'sums' .*which this pipeline does not have/);
    const q = new Pipeline({ clock: new ManualClock(0), checkpoints: { store: fileCheckpoints(dir), allowNonRestoredState: true } });
    const out: In[] = [];
    q.source(fromArray(records), { timestamp: (r) => r.ts, name: 'numbers' }).sink(collect(out));
    await q.run();
    expect(out.length).toBeLessThan(records.length); // resumed from the saved position
    expect(out.at(-1)).toEqual(records.at(-1));
  });

  it('restarts a failed run from its last checkpoint (restart strategy)', async () => {
    const db = memoryDb<Out>();
    const events: PipelineEvent[] = [];
    const summary = await build(records, tempDir('restart'), db, { failAt: 700, restart: true, events }).run();
    expect(summary.restarts).toBe(1);
    expect(events.filter((e) => e.type === 'restart')).toHaveLength(1);
    expect(db.committed).toEqual(await reference(records));
  });

  it('stop() ends the run with a final checkpoint; the next run continues exactly', async () => {
    const dir = tempDir('stop');
    const db = memoryDb<Out>();
    const p = build(records, dir, db);
    const run = p.run();
    // stop once some records went through
    for (let i = 0; i < 200_000 && db.committed.length < 200; i++) await new Promise((r) => setImmediate(r));
    p.stop('test');
    const summary = await run;
    expect(summary.stopped).toBe('test');
    expect(db.committed.length).toBeLessThan(1_000);
    await build(records, dir, db).run();
    expect(db.committed).toEqual(await reference(records));
  });

  it('a savepoint is kept beyond the last N checkpoints and can be restored by id', async () => {
    const dir = tempDir('savepoint');
    const db = memoryDb<Out>();
    const p = build(records, dir, db, { keep: 1 });
    const run = p.run();
    for (let i = 0; i < 200_000 && db.committed.length < 300; i++) await new Promise((r) => setImmediate(r));
    const saved = (await p.savepoint()).id;
    await run;
    const files = readdirSync(dir);
    expect(files).toContain(`savepoint-${String(saved).padStart(12, '0')}.tmck`);
    expect(files.filter((f) => f.startsWith('checkpoint-'))).toHaveLength(1);
    // Rebuild the read model from the savepoint into a fresh database: it continues from there.
    const fresh = memoryDb<Out>();
    await build(records, dir, fresh, { restore: saved }).run();
    const expected = await reference(records);
    expect(fresh.committed.length).toBeGreaterThan(0);
    expect(fresh.committed.length).toBeLessThan(1_000 - 300);
    expect(fresh.committed).toEqual(expected.slice(expected.length - fresh.committed.length));
  });

  it('reports at-most-once for sinks fed by a source that cannot replay', async () => {
    async function* gen(): AsyncGenerator<In> {
      yield* records.slice(0, 50);
    }
    const p = new Pipeline({ clock: new ManualClock(0), checkpoints: { store: fileCheckpoints(tempDir('amo')), everyRecords: 10 } });
    p.source(fromAsyncIterable(gen()), { timestamp: (r) => r.ts }).sink(collect([]), { name: 'out' });
    const s = await p.run();
    expect(s.guarantees).toEqual({ out: 'at-most-once' });
  });

  it('retries a failing sink write with backoff, then fails the run naming the sink', async () => {
    let failures = 0;
    const events: PipelineEvent[] = [];
    const p = new Pipeline({ clock: new ManualClock(0), sinkRetry: { attempts: 2, delay: 0 }, onEvent: (e) => events.push(e) });
    p.source(fromArray(records.slice(0, 10)), { timestamp: (r) => r.ts }).sink({
      kind: 'flaky',
      write: () => {
        failures++;
        return Promise.reject(new Error('connection reset'));
      },
    }, { name: 'flaky-db' });
    const err = await p.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SinkError);
    expect((err as SinkError).sink).toBe('flaky-db');
    expect((err as Error).message).toMatch(/sink 'flaky-db' \(flaky\) failed after 2 retries: Error: connection reset/);
    expect(failures).toBe(3);
    expect(events.filter((e) => e.type === 'sink-retry')).toHaveLength(2);
  });
});

describe('checkpoints of windowed pipelines', () => {
  type Click = { user: string; ts: number };
  type Row = { kind: 'pane' | 'late'; key: string; start: number; value: number } | { kind: 'late'; key: string; ts: number };

  /** Disordered clicks (some beyond the watermark bound: late), seeded. */
  function clicks(n: number, seed: number): Click[] {
    let s = seed >>> 0;
    const rnd = (): number => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    return Array.from({ length: n }, (_, i) => ({ user: `u${Math.floor(rnd() * 5)}`, ts: 10_000 + i * 7 - Math.floor(rnd() < 0.05 ? 400 : rnd() * 40) }));
  }

  function build(input: readonly Click[], dir: string, db: ReturnType<typeof memoryDb<Row>>, failAt?: number): Pipeline {
    let seen = 0;
    const p = new Pipeline({ clock: new ManualClock(0), batchSize: 8, checkpoints: { store: fileCheckpoints(dir), everyRecords: 37 } });
    const windowed = p.source(fromArray(input, { batchSize: 8 }), { timestamp: (c) => c.ts, watermark: boundedOutOfOrderness(50), name: 'clicks' })
      .map((c) => {
        if (++seen === failAt) throw new Error('injected');
        return c;
      })
      .keyBy((c) => c.user)
      .window(sliding(200, 50), { name: 'perUser', allowedLateness: 100 })
      .aggregate(count());
    const out = windowed.map((r): Row => ({ kind: 'pane', key: r.key, start: r.window.start, value: r.value }));
    const late = windowed.late().map((l): Row => ({ kind: 'late', key: l.value.user, ts: l.value.ts }));
    out.union(late).sink(twoPhaseSink(db), { name: 'db' });
    return p;
  }

  it('restores window state, lateness and watermarks exactly, whatever record the failure hits', async () => {
    const input = clicks(600, 7);
    const ref = memoryDb<Row>();
    await build(input, tempDir('wref'), ref).run();
    expect(ref.committed.filter((r) => r.kind === 'late').length).toBeGreaterThan(5);
    for (const failAt of [3, 40, 41, 123, 299, 450, 599]) {
      const dir = tempDir('win');
      const db = memoryDb<Row>();
      await expect(build(input, dir, db, failAt).run()).rejects.toThrow(/injected/);
      await build(input, dir, db).run();
      expect(db.committed, `failure at record ${failAt}`).toEqual(ref.committed);
    }
  });
});
