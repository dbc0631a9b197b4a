/**
 * `npx tsx benchmarks/log.ts` — the embedded event log's throughput: batched `append` and
 * sequential replay of ~100-byte records under `fsync: 'interval'` (targets: append ≥ 1M
 * records/s, sequential replay through `log.read()` ≥ 3M records/s). Replay is measured three
 * ways: `for await (const r of log.read())` (the target applies here), the source's reader
 * driven by hand (`log.source().open().next()`, chunks), and a whole pipeline
 * (`p.source(log.source()).sink(…)` with a sink that only counts).
 *
 *   npx tsx benchmarks/log.ts [--records N] [--batch B] [--partitions P] [--rounds R] [--fsync interval|always|never] [--json FILE]
 *
 * Each round makes its input (untimed), writes a fresh log in a temporary directory (removed
 * afterwards) and lets go of the input before the replays; the figure reported is the median
 * over rounds. See benchmarks/README.md ("Event log").
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EventLog, type LogInput, ManualClock, Pipeline, parseLogFrame as parseFrame, unpackLogField as unpack } from 'tidemark';

/** Bytes of the header at the start of every segment file (format 2). */
const SEGMENT_HEADER = 16;

interface Click {
  readonly user: string;
  readonly page: string;
  readonly action: string;
  readonly amount: number;
  readonly session: string;
  readonly n: number;
}

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '2000000' },
    batch: { type: 'string', default: '10000' },
    partitions: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    fsync: { type: 'string', default: 'interval' },
    json: { type: 'string' },
  },
});
const N = Number(args.records);
const BATCH = Number(args.batch);
const P = Number(args.partitions);
const ROUNDS = Number(args.rounds);
const FSYNC = args.fsync as 'interval' | 'always' | 'never';

/** ~100 bytes encoded (key + value), distinct per record so that nothing is cached. */
function makeBatch(start: number, size: number): LogInput<Click>[] {
  const out: LogInput<Click>[] = [];
  for (let i = start; i < start + size; i++) {
    out.push({
      key: `u${i % 10_000}`,
      timestamp: 1_700_000_000_000 + i,
      value: { user: `u${i % 10_000}`, page: `/products/${(i * 7919) % 100_000}`, action: 'click', amount: (i % 1000) / 10, session: `s-${(i * 31).toString(36).padStart(10, '0')}`, n: i },
    });
  }
  return out;
}

/** Wall-clock and CPU (user + system) seconds of `fn`. */
async function timed(fn: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6 };
}

interface Rates {
  readonly wall: number;
  readonly cpu: number;
}

const rates = (t: { wall: number; cpu: number }): Rates => ({ wall: N / t.wall, cpu: N / t.cpu });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

interface Round {
  readonly append: Rates;
  readonly source: Rates;
  readonly pipeline: Rates;
  readonly iterate: Rates;
  /** Reading the segment files and checking every frame (length, checksum), without decoding. */
  readonly frames: Rates;
  /** msgpack-decoding every key and value alone (from one buffer, no log around it). */
  readonly decode: Rates;
  readonly bytes: number;
}

/** Batches of `n` records in all (made before each round, outside the timings). */
function makeBatches(n: number): LogInput<Click>[][] {
  const out: LogInput<Click>[][] = [];
  for (let i = 0; i < n; i += BATCH) out.push(makeBatch(i, Math.min(BATCH, n - i)));
  return out;
}

async function round(n: number): Promise<Round> {
  const dir = await mkdtemp(join(tmpdir(), 'tidemark-bench-log-'));
  try {
    const log = await EventLog.open<Click>(dir, { partitions: P, fsync: FSYNC });
    const input = makeBatches(n);
    const append = rates(await timed(async () => {
      const inflight: Promise<unknown>[] = [];
      for (const b of input) {
        inflight.push(log.append(b));
        if (inflight.length >= 4) await inflight.shift();
      }
      await Promise.all(inflight);
    }));
    // The replays below run without the appended input alive (an application replaying a log
    // does not hold 2M records it wrote): with it, every major GC marks them as well.
    input.length = 0;
    let bytes = 0;
    for (let p = 0; p < P; p++) bytes += log.partitionAt(p).bytes;

    // Replay through the source (what a pipeline reads): chunks of 1024 records.
    let seen = 0;
    let check = 0;
    const source = rates(await timed(async () => {
      const reader = log.source({ from: 'earliest' }).open({ name: 'bench', batchSize: 1024, clock: new ManualClock() });
      for (;;) {
        const c = await reader.next();
        if (c === null) break;
        if (c.kind === 'records') {
          seen += c.values.length;
          check += (c.values[c.values.length - 1] as { value: Click }).value.n;
        }
      }
      await reader.close?.();
    }));
    if (seen !== N) throw new Error(`source replay saw ${seen} of ${N} records (${check})`);

    // Replay through the per-record async iterable.
    seen = 0;
    const iterate = rates(await timed(async () => {
      for await (const r of log.read({ from: 'earliest' })) {
        seen++;
        check += r.value.n & 1;
      }
    }));
    if (seen !== N) throw new Error(`read() replay saw ${seen} of ${N} records`);

    // Replay through a whole pipeline: the log source into a sink that only counts.
    seen = 0;
    const pipeline = rates(await timed(async () => {
      const p = new Pipeline({ clock: new ManualClock(), batchSize: 1024 });
      p.source(log.source({ from: 'earliest' }), { name: 'log', ordering: 'per-partition' }).sink({
        kind: 'count',
        write(values) {
          seen += values.length;
        },
      });
      await p.run();
    }));
    if (seen !== N) throw new Error(`pipeline replay saw ${seen} of ${N} records`);
    await log.close();

    // Where replay time goes: the frames alone, then the decoding alone.
    const files: Buffer[] = [];
    for (let p = 0; p < P; p++) {
      const pdir = join(dir, `partition-${String(p).padStart(4, '0')}`);
      for (const f of (await readdir(pdir)).filter((n) => n.endsWith('.log')).sort()) files.push(await readFile(join(pdir, f)));
    }
    const frames = rates(await timed(async () => {
      for (const buf of files) {
        for (let at = SEGMENT_HEADER; at < buf.length;) {
          const f = parseFrame(buf, at, buf.length, 1 << 30);
          if (typeof f === 'string') throw new Error(`bad frame: ${f}`);
          check += f.end & 1;
          at += f.size;
        }
      }
      await Promise.resolve();
    }));
    let k = 0;
    const decode = rates(await timed(async () => {
      for (const buf of files) {
        for (let at = SEGMENT_HEADER; at < buf.length;) {
          const f = parseFrame(buf, at, buf.length, 1 << 30) as Exclude<ReturnType<typeof parseFrame>, string>;
          unpack(buf, f.keyStart, f.valueStart);
          check += (unpack(buf, f.valueStart, f.end) as Click).n & 1;
          at += f.size;
          k++;
        }
      }
      await Promise.resolve();
    }));
    // decode included parseFrame: subtract it to get decoding alone
    const decodeOnly: Rates = { wall: 1 / (1 / decode.wall - 1 / frames.wall), cpu: 1 / (1 / decode.cpu - 1 / frames.cpu) };
    if (k !== N) throw new Error(`decoded ${k} of ${N}`);
    return { append, source, pipeline, iterate, frames, decode: decodeOnly, bytes };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const loadBefore = loadavg()[0] ?? 0;
const results: Round[] = [];
await round(Math.max(BATCH, Math.floor(N / 10))).catch(() => undefined); // warm-up (partial: errors on the count are expected)
for (let r = 0; r < ROUNDS; r++) results.push(await round(N));

const fmt = (x: number): string => `${(x / 1e6).toFixed(2)}M`.padStart(6);
const row = (name: string, pick: (r: Round) => Rates, target?: number): void => {
  const wall = median(results.map((r) => pick(r).wall));
  const cpu = median(results.map((r) => pick(r).cpu));
  const verdict = target === undefined ? '' : `   target ≥ ${target / 1e6}M: ${wall >= target ? 'met' : cpu >= target ? 'met per CPU-second only (machine busy)' : 'MISSED'}`;
  console.log(`  ${name.padEnd(44)} ${fmt(wall)} records/s   ${fmt(cpu)} per CPU-second${verdict}`);
};
const perRecord = (results[0]?.bytes ?? 0) / N;
console.log(`event log — ${N.toLocaleString('en')} records, ${perRecord.toFixed(0)} bytes per record on disk (28-byte frame header), batches of ${BATCH}, ${P} partition(s), fsync '${FSYNC}', ${ROUNDS} rounds (median), ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadBefore.toFixed(1)} before, ${(loadavg()[0] ?? 0).toFixed(1)} after`);
row('append (batched)', (r) => r.append, 1e6);
row('replay, log.read() (for await, per record)', (r) => r.iterate, 3e6);
row('replay, log.source() reader (chunks)', (r) => r.source);
row('replay, pipeline: log.source() → sink', (r) => r.pipeline);
console.log('  where replay time goes:');
row('  frames only (read + length + xxHash32)', (r) => r.frames);
row('  msgpack decode only (key + value)', (r) => r.decode);
if (args.json !== undefined) await writeFile(args.json, JSON.stringify({ records: N, batch: BATCH, partitions: P, fsync: FSYNC, bytesPerRecord: perRecord, rounds: results }, null, 2));
