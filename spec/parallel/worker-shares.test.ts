/**
 * A union on a worker where one of its inputs has no sender (an unpartitioned source runs on
 * worker 0 only) must not treat that input as ended: when its live input goes idle the union goes
 * idle too — it does not jump to +∞ — so a partition that resumes later still holds the windows
 * back, as in a single run. A worker with no partition of a partitioned source (fewer partitions
 * than workers) opens no reader and ends that source at once.
 */
import { describe, expect, it } from 'vitest';
import { type Pipeline, type Source, type WindowResult, boundedOutOfOrderness, collect, count, tumbling } from 'tidemark';
import { simulateParallel } from 'tidemark/testing';

interface Ev { readonly t: number }
type Step = Ev | 'idle' | (() => Promise<void>);

/** A source whose partitions (or single stream) play `script(partition)` steps in order. */
function scripted(partitions: number | undefined, script: (partition: number) => readonly Step[]): Source<Ev> {
  return {
    kind: 'scripted', providesTimestamps: false, providesWatermarks: false, replayable: false,
    ...(partitions === undefined ? {} : { partitionCount: partitions }),
    open(ctx) {
      const parts = ctx.partitions ?? (partitions === undefined ? [0] : Array.from({ length: partitions }, (_, p) => p));
      const steps = parts.flatMap((p) => script(p).map((s) => ({ p, s })));
      let i = 0;
      const next = (): ReturnType<ReturnType<Source<Ev>['open']>['next']> => {
        const step = steps[i++];
        if (step === undefined) return null;
        const { p, s } = step;
        if (s === 'idle') return { kind: 'processing-time', advanceBy: 1_000 };
        if (typeof s === 'function') return s().then(() => next());
        return { kind: 'records', values: [s], ...(partitions === undefined ? {} : { partition: p }) };
      };
      return { ...(partitions === undefined ? {} : { partitions: parts }), next };
    },
  };
}

/** Resolves after `n` turns of the event loop (a bounded wait that needs no timer). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

describe('a union with an input that has no sender on a worker', () => {
  it('goes idle with its live input instead of jumping to +∞: a resumed partition is not late', async () => {
    let resumed!: () => void;
    const p1Resumed = new Promise<void>((r) => {
      resumed = r;
    });
    let sFar!: () => void;
    const sReached = new Promise<void>((r) => {
      sFar = r;
    });
    const out: WindowResult<string, number>[] = [];
    const build = (p: Pipeline): void => {
      // Partition 1 (worker 1): a record, idle, resumes at 150, then (once S is far ahead) 500.
      const partitioned = p.source(scripted(2, (part) => (part === 0 ? [] : [
        { t: 10 }, 'idle', async () => undefined, { t: 150 }, async () => {
          resumed();
          await sReached;
          await turns(50);
        }, { t: 500 },
      ])), { name: 'P', timestamp: (e) => e.t, watermark: boundedOutOfOrderness(0, { idleTimeout: 100 }) });
      const single = p.source(scripted(undefined, () => [{ t: 100 }, () => p1Resumed, { t: 5_000 }, async () => {
        sFar();
      }]), { name: 'S', timestamp: (e) => e.t, watermark: boundedOutOfOrderness(0) });
      partitioned.union(single).keyBy(() => 'k').window(tumbling(1_000), { name: 'w' }).aggregate(count()).sink(collect(out), { name: 'o' });
    };
    const summary = await simulateParallel(build, { parallelism: 2 });
    expect(summary.lateRecords).toBe(0);
    expect(out.map((r) => [r.window.start, r.value]).sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual([[0, 4], [5_000, 1]]);
  });
});

describe('a partitioned source with fewer partitions than workers', () => {
  it('does not open an unbounded reader with no partitions (it would never end): the run completes', async () => {
    const opened: (readonly number[] | undefined)[] = [];
    const unbounded: Source<Ev> = {
      kind: 'unbounded-when-empty', providesTimestamps: false, providesWatermarks: false, replayable: false, partitionCount: 1,
      open(ctx) {
        opened.push(ctx.partitions);
        const parts = ctx.partitions ?? [0];
        let i = 0;
        return {
          partitions: parts,
          // With no partition, a broker consumer waits for records forever.
          next: () => (parts.length === 0 ? new Promise<null>(() => undefined) : i < 3 ? { kind: 'records', values: [{ t: 10 * i++ }], partition: 0 } : null),
        };
      },
    };
    const out: WindowResult<string, number>[] = [];
    await simulateParallel((p) => {
      p.source(unbounded, { name: 'U', timestamp: (e) => e.t, watermark: boundedOutOfOrderness(0) })
        .keyBy(() => 'k').window(tumbling(1_000), { name: 'w' }).aggregate(count()).sink(collect(out), { name: 'o' });
    }, { parallelism: 3 });
    expect(out.map((r) => r.value)).toEqual([3]);
    expect(opened).toEqual([[0]]);
  }, 10_000);
});
