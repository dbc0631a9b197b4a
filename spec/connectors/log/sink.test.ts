/**
 * `log.sink(…)`: the two-phase-commit protocol of the exactly-once event log sink, driven call by
 * call as the checkpointer drives it — staged epochs invisible until commit, commits idempotent,
 * a restore committing the checkpoint's epoch once and discarding later ones, a commit interrupted
 * after (part of) its append completed without duplicates, foreign appends detected, restores
 * from older checkpoints refused, the log's single-writer rule — plus the at-least-once sink and
 * eager option checks.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventLog, LogError, PlanError, type Sink } from 'tidemark';
import { all, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

interface Ev {
  readonly k: string;
  readonly n: number;
}

/** Events `from … from + count - 1`, keys spread over every partition. */
const events = (from: number, count: number): Ev[] => Array.from({ length: count }, (_, i) => ({ k: `k${(from + i) % 13}`, n: from + i }));
const write = (s: Sink<Ev>, evs: Ev[]): unknown => s.write(evs, evs.map((e) => 1_000 + e.n));

/** The log's records as `partition:offset key n@timestamp`, in partition and offset order. */
async function contents(log: EventLog<Ev>): Promise<string[]> {
  const rs = await all(log.read());
  return rs.sort((a, b) => a.partition - b.partition || a.offset - b.offset).map((r) => `${r.partition}:${r.offset} ${String(r.key)} ${r.value.n}@${r.timestamp}`);
}

/** What a log holds after appending `batches` in order, each once (the reference). */
async function reference(batches: Ev[][]): Promise<string[]> {
  const log = await EventLog.open<Ev>(await tempDir(), { partitions: 3, fsync: 'never' });
  try {
    for (const b of batches) await log.append(b.map((e) => ({ key: e.k, timestamp: 1_000 + e.n, value: e })));
    return await contents(log);
  } finally {
    await log.close();
  }
}

const open = (dir: string): Promise<EventLog<Ev>> => EventLog.open<Ev>(dir, { partitions: 3 });
const exactly = (log: EventLog<Ev>): Sink<Ev> => log.sink({ key: (e) => e.k, delivery: 'exactly-once' });
const parts = async (log: EventLog<Ev>, name = 'out'): Promise<string[]> => (await readdir(join(log.dir, 'sinks', name))).filter((f) => f.endsWith('.part'));

describe('exactly-once event log sink: protocol', () => {
  it('stages epochs invisibly until commit; a repeated commit appends nothing; it is the log\'s only writer while open', async () => {
    const log = await open(await tempDir());
    try {
      const s = exactly(log);
      expect(s.guarantee).toBe('exactly-once');
      await s.open?.({ name: 'out' });
      await expect(log.append([{ key: 'x', timestamp: 0, value: { k: 'x', n: -1 } }])).rejects.toThrow(/tidemark\.EventLog\.append: the log is being written by exactly-once sink 'out'/);
      await expect(exactly(log).open?.({ name: 'other' })).rejects.toThrow(/already being written by exactly-once sink 'out'/);
      await write(s, events(0, 40));
      await write(s, events(40, 20));
      expect(await contents(log)).toEqual([]);
      const h1 = await s.preCommit?.(1);
      expect(h1).toMatchObject({ run: expect.stringMatching(/^[0-9a-f]{16}$/), files: [expect.stringMatching(/\.part$/)], records: 60 });
      expect(await contents(log)).toEqual([]); // durable, not visible
      await s.commit?.(1, h1);
      const once = await reference([events(0, 60)]);
      expect(await contents(log)).toEqual(once);
      await s.commit?.(1, h1);
      expect(await contents(log)).toEqual(once);
      const empty = await s.preCommit?.(2); // an epoch without output
      expect(empty).toMatchObject({ files: [], records: 0 });
      await s.commit?.(2, empty);
      expect(await parts(log)).toEqual([]);
      await s.close?.();
      await log.append([{ key: 'x', timestamp: 0, value: { k: 'x', n: -1 } }]); // released
    } finally {
      await log.close();
    }
  });

  it('a restore commits the checkpoint\'s epoch once (committed or not) and discards the epochs staged after it', async () => {
    const dir = await tempDir();
    let log = await open(dir);
    const s1 = exactly(log);
    await s1.open?.({ name: 'out' });
    await write(s1, events(0, 30));
    await s1.commit?.(1, await s1.preCommit?.(1));
    await write(s1, events(30, 30));
    const h2 = await s1.preCommit?.(2); // checkpoint 2 is durable; the crash comes before commit(2)
    await write(s1, events(60, 30));
    await s1.preCommit?.(3); // checkpoint 3 is never written
    await write(s1, events(90, 5)); // not sealed at all
    await s1.abort?.(new Error('crash'));
    await log.close();

    log = await open(dir);
    try {
      const s2 = exactly(log);
      await s2.open?.({ name: 'out', restored: { checkpointId: 2, handle: h2 } });
      expect(await contents(log)).toEqual(await reference([events(0, 30), events(30, 30)]));
      expect(await parts(log)).toEqual([]); // epoch 3 and the unsealed part are gone
      // the replay writes epoch 3 again, under a new run's part name
      await write(s2, events(60, 30));
      const h3 = await s2.preCommit?.(3);
      expect((h3 as { run: string }).run).not.toBe((h2 as { run: string }).run);
      await s2.commit?.(3, h3);
      await s2.abort?.(new Error('crash again, after commit(3)'));
      // restoring checkpoint 3 again is a no-op; checkpoint 2 is older than what is committed
      const s3 = exactly(log);
      await s3.open?.({ name: 'out', restored: { checkpointId: 3, handle: h3 } });
      await s3.close?.();
      expect(await contents(log)).toEqual(await reference([events(0, 30), events(30, 30), events(60, 30)]));
      await expect(exactly(log).open?.({ name: 'out', restored: { checkpointId: 2, handle: h2 } })).rejects.toThrow(/cannot commit epoch 2 .* older than the latest/);
      await log.append([{ key: 'x', timestamp: 0, value: { k: 'x', n: -1 } }]); // the failed open released the log
    } finally {
      await log.close();
    }
  });

  /** Stages epoch 1, then runs its commit with `fault` installed (a crash inside the commit), and closes the log. */
  async function interruptedCommit(dir: string, fault: (log: EventLog<Ev>) => void): Promise<unknown> {
    const log = await open(dir);
    const s = exactly(log);
    await s.open?.({ name: 'out' });
    await write(s, events(0, 90));
    const h = await s.preCommit?.(1);
    fault(log);
    await expect(s.commit?.(1, h)).rejects.toThrow(/injected crash/);
    await s.abort?.(new Error('crash'));
    return { h, log };
  }

  const crash = (): never => {
    throw new Error('injected crash');
  };
  const faults: Record<string, (log: EventLog<Ev>) => void> = {
    'after the intent, before any append': (log) => {
      log.appendAs = () => Promise.reject(new Error('injected crash'));
    },
    'after part of the append (a prefix of each partition)': (log) => {
      const real = log.appendAs.bind(log);
      log.appendAs = async (owner, records) => {
        await real(owner, records.slice(0, 50)); // a prefix of the input is a prefix of each partition's records
        return crash();
      };
    },
    'after the whole append was durable, before the epoch was recorded': (log) => {
      log.sync = async () => crash();
    },
  };

  for (const [when, fault] of Object.entries(faults)) {
    it(`a commit interrupted ${when}: the restore appends only what is missing`, async () => {
      const dir = await tempDir();
      const { h, log } = (await interruptedCommit(dir, fault)) as { h: unknown; log: EventLog<Ev> };
      await log.close();
      const again = await open(dir);
      try {
        const s = exactly(again);
        await s.open?.({ name: 'out', restored: { checkpointId: 1, handle: h } });
        await s.commit?.(1, h); // and once more, for good measure
        await s.close?.();
        expect(await contents(again)).toEqual(await reference([events(0, 90)]));
        expect(await parts(again)).toEqual([]);
      } finally {
        await again.close();
      }
    });
  }

  it('a fresh start (no checkpoint) also completes an interrupted commit (its checkpoint was durable) before anything else', async () => {
    const dir = await tempDir();
    const { log } = (await interruptedCommit(dir, faults['after part of the append (a prefix of each partition)'] as (log: EventLog<Ev>) => void)) as { log: EventLog<Ev> };
    await log.close();
    const again = await open(dir);
    try {
      const s = exactly(again);
      await s.open?.({ name: 'out' });
      await s.close?.();
      expect(await contents(again)).toEqual(await reference([events(0, 90)]));
    } finally {
      await again.close();
    }
  });

  it('records appended by something else into an interrupted commit\'s place are an error, never a silent duplicate', async () => {
    const dir = await tempDir();
    const { h, log } = (await interruptedCommit(dir, faults['after the intent, before any append'] as (log: EventLog<Ev>) => void)) as { h: unknown; log: EventLog<Ev> };
    await log.append([{ key: 'k0', timestamp: 5, value: { k: 'k0', n: -1 } }]); // the sink is not open: allowed
    await log.close();
    const again = await open(dir);
    try {
      await expect(exactly(again).open?.({ name: 'out', restored: { checkpointId: 1, handle: h } })).rejects.toThrow(/holds a record at offset \d+ that is not epoch 1's/);
    } finally {
      await again.close();
    }
  });

  it('an epoch whose checkpoint failed after its pre-commit is committed with the next checkpoint, not lost', async () => {
    const log = await open(await tempDir());
    try {
      const s = exactly(log);
      await s.open?.({ name: 'out' });
      await write(s, events(0, 10));
      const h1 = await s.preCommit?.(1); // the checkpoint (a savepoint, say) fails to write: no commit(1)
      await write(s, events(10, 10));
      const h2 = await s.preCommit?.(2);
      expect((h2 as { files: string[] }).files).toEqual([...(h1 as { files: string[] }).files, expect.stringMatching(/\.part$/)]);
      expect(h2).toMatchObject({ records: 20 });
      await s.commit?.(2, h2);
      expect(await contents(log)).toEqual(await reference([events(0, 20)]));
      const h3 = await s.preCommit?.(3); // nothing left over
      expect(h3).toMatchObject({ files: [], records: 0 });
      await s.close?.();
    } finally {
      await log.close();
    }
  });

  it('a write with a record the log would refuse rejects and stages nothing; the epoch holds the other writes', async () => {
    const log = await open(await tempDir());
    try {
      const s = log.sink<Ev>({ key: (e) => (e.n === 3 ? ({ bad: true } as unknown as string) : e.k), delivery: 'exactly-once' });
      await s.open?.({ name: 'out' });
      await expect(write(s, events(0, 5))).rejects.toThrow(/tidemark\.EventLog\.sink 'out': record 3 of a write: key must be/);
      await write(s, events(10, 5));
      const h = await s.preCommit?.(1);
      expect(h).toMatchObject({ records: 5 });
      await s.commit?.(1, h);
      await s.close?.();
      expect(await contents(log)).toEqual(await reference([events(10, 5)]));
    } finally {
      await log.close();
    }
  });

  it('checks its options when the plan is built', async () => {
    const log = await open(await tempDir());
    const never = await EventLog.open<Ev>(await tempDir(), { fsync: 'never' });
    try {
      expect(() => log.sink({} as never)).toThrow(PlanError);
      expect(() => log.sink({} as never)).toThrow(/tidemark\.EventLog\.sink: key must be a function/);
      expect(() => log.sink({ key: (e: Ev) => e.k, delivery: 'twice' as never })).toThrow(/delivery must be 'exactly-once' or 'at-least-once'/);
      expect(() => log.sink({ key: (e: Ev) => e.k, timestamp: 5 as never })).toThrow(/timestamp must be a function/);
      expect(() => never.sink({ key: (e: Ev) => e.k, delivery: 'exactly-once' })).toThrow(/needs a log opened with fsync 'always' or 'interval'/);
      const s = exactly(log);
      await s.open?.({ name: 'out' });
      await expect(s.commit?.(1, { run: 'nope' })).rejects.toThrow(LogError);
      await s.close?.();
    } finally {
      await log.close();
      await never.close();
    }
  });

  it('at-least-once (the default) appends each write at once, with custom timestamps and values', async () => {
    const log = await open(await tempDir());
    try {
      const s = log.sink<Ev>({ key: (e) => e.k, timestamp: (e, t) => t + e.n, value: (e) => ({ k: e.k, n: e.n * 10 }) });
      expect(s.guarantee).toBe('at-least-once');
      expect(s.preCommit).toBeUndefined();
      await write(s, events(0, 4));
      const rs = (await all(log.read())).sort((a, b) => a.value.n - b.value.n);
      expect(rs.map((r) => [r.value.n, r.timestamp])).toEqual([[0, 1_000], [10, 1_002], [20, 1_004], [30, 1_006]]);
    } finally {
      await log.close();
    }
  });
});
