/**
 * Checkpoint cost and restore time.
 *
 *   npx tsx benchmarks/checkpoints.ts [--records N] [--keys K] [--state-mb MB] [--rounds R]
 *
 * 1. Overhead: a keyed tumbling count (10 s windows, K keys) over N records read from a generated
 *    source, with checkpoints off and with `interval: 1s` to a local directory (fsync'd), in the
 *    same process, alternating; reports records/s of each and the overhead in percent.
 * 2. Restore: a pipeline holding ~MB of window state (a `toList()` window that never fires) takes
 *    a checkpoint; a new pipeline restores from it. Reports the checkpoint's size, the time to
 *    take it (encode + write + fsync) and the time to restore (read, integrity check, decode,
 *    rebuild the operators' state) up to the first record of the resumed run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pipeline, type PipelineEvent, boundedOutOfOrderness, count, fileCheckpoints, forEach, toList, tumbling } from 'tidemark';
import { generated } from './generated-source.js';

/** Records/s of the job; with `dir`, checkpoints every second (the largest and longest reported). */
async function throughput(records: number, keys: number, dir: string | undefined): Promise<{ perSec: number; checkpoints: number; avgMs: number; bytes: number; pausedShare: number }> {
  let maxBytes = 0;
  let maxMs = 0;
  let pausedMs = 0;
  const p = new Pipeline({
    ...(dir === undefined ? {} : { checkpoints: { store: fileCheckpoints(dir, { keep: 2 }), interval: 1_000, restore: 'none' as const } }),
    onEvent: (e) => {
      if (e.type !== 'checkpoint-completed') return;
      maxBytes = Math.max(maxBytes, e.checkpoint.bytes);
      maxMs = Math.max(maxMs, e.durationMs);
      pausedMs += e.durationMs;
    },
  });
  let sink = 0;
  p.source(generated(records, keys), { timestamp: (r) => r.ts, watermark: boundedOutOfOrderness(1_000) })
    .keyBy((r) => r.user)
    .window(tumbling(10_000))
    .aggregate(count())
    .sink(forEach((r) => {
      sink += r.value;
    }));
  const t0 = performance.now();
  const s = await p.run();
  const ms = performance.now() - t0;
  if (sink !== records) throw new Error(`counted ${sink} of ${records}`);
  const c = s.checkpoints;
  return { perSec: records / (ms / 1_000), checkpoints: c?.completed ?? 0, avgMs: maxMs, bytes: maxBytes, pausedShare: pausedMs / ms };
}

async function restore(stateMb: number): Promise<{ bytes: number; takeMs: number; restoreMs: number; records: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-bench-restore-'));
  const payload = 'x'.repeat(80);
  const records = Math.round((stateMb * 1024 * 1024) / 110);
  const keys = 10_000;
  try {
    const events: PipelineEvent[] = [];
    const build = (onEvent: (e: PipelineEvent) => void): Pipeline => {
      const p = new Pipeline({ checkpoints: { store: fileCheckpoints(dir, { keep: 1 }) }, onEvent });
      p.source(generated(records, keys, payload, () => p.stop('all records in')), { timestamp: () => 0, watermark: boundedOutOfOrderness(0), name: 'rows' })
        .keyBy((r) => r.user)
        .window(tumbling(1_000_000_000), { name: 'held' })
        .aggregate(toList())
        .sink(forEach(() => undefined), { name: 'out' });
      return p;
    };
    // Take a checkpoint of the held state: stop the run once every record is in (the final
    // checkpoint of a stopped run keeps the windows open).
    await build((e) => events.push(e)).run();
    const taken = events.find((e) => e.type === 'checkpoint-completed');
    if (taken?.type !== 'checkpoint-completed') throw new Error('no checkpoint was taken');
    const t0 = performance.now();
    let restoredAt = 0;
    const second = build((e) => {
      if (e.type === 'restored') restoredAt = performance.now();
    });
    second.stop('measured');
    await second.run();
    return { bytes: taken.checkpoint.bytes, takeMs: taken.durationMs, restoreMs: restoredAt - t0, records };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '5000000' },
      keys: { type: 'string', default: '10000' },
      'state-mb': { type: 'string', default: '100' },
      rounds: { type: 'string', default: '3' },
    },
  });
  const records = Number(values.records);
  const keys = Number(values.keys);
  const rounds = Number(values.rounds);
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-bench-cp-'));
  try {
    await throughput(Math.min(records, 500_000), keys, undefined); // warm-up
    const off: number[] = [];
    const on: number[] = [];
    let last = { checkpoints: 0, avgMs: 0, bytes: 0, pausedShare: 0 };
    for (let r = 0; r < rounds; r++) {
      off.push((await throughput(records, keys, undefined)).perSec);
      const res = await throughput(records, keys, dir);
      on.push(res.perSec);
      last = res;
    }
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const overhead = (1 - med(on) / med(off)) * 100;
    console.log(`checkpoint overhead (tumbling count, ${records} records, ${keys} keys, interval 1 s, ${rounds} rounds, median):`);
    console.log(`  off ${(med(off) / 1e6).toFixed(2)}M rec/s   on ${(med(on) / 1e6).toFixed(2)}M rec/s   overhead ${overhead.toFixed(1)}%   (${last.checkpoints} checkpoints in the last run, the largest ${(last.bytes / 1024).toFixed(0)} KiB, the longest ${last.avgMs} ms; the pipeline spent ${(last.pausedShare * 100).toFixed(1)}% of its time in checkpoints)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const r = await restore(Number(values['state-mb']));
  console.log(`restore (${r.records} records held in window state):`);
  console.log(`  checkpoint ${(r.bytes / 1024 / 1024).toFixed(1)} MB taken in ${r.takeMs} ms; restored in ${r.restoreMs.toFixed(0)} ms`);
}

await main();
