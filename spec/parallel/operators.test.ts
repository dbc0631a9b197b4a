/**
 * Placement of every kind of operator on simulated workers: joins, keyed process functions,
 * connected broadcast process functions, scans after sortByEventTime and windows run keyed (their
 * results equal parallelism 1's, over several delivery orders); custom operators, asyncMap and
 * sinks run once, on worker 0; a source that is not partitioned is read once.
 */
import { describe, expect, it } from 'vitest';
import {
  type OperatorFactory, type Pipeline, boundedOutOfOrderness, collect, count, fromArray, mapState, session, tumbling, valueState,
} from 'tidemark';
import { canonical, simulateParallel } from 'tidemark/testing';

interface Click {
  readonly user: string;
  readonly page: string;
  readonly ts: number;
}

const clicks: Click[] = Array.from({ length: 600 }, (_, i) => ({ user: `u${(i * 7) % 23}`, page: `p${i % 5}`, ts: i * 5 + ((i * 13) % 7) * 3 }));
const views: Click[] = Array.from({ length: 400 }, (_, i) => ({ user: `u${(i * 5) % 23}`, page: `p${i % 3}`, ts: i * 7 + ((i * 11) % 5) * 2 }));
const rules = [{ page: 'p1', max: 3 }, { page: 'p2', max: 5 }];

const sorted = (xs: readonly unknown[]): string[] => xs.map(canonical).sort();

interface Outputs {
  joined: unknown[];
  windowJoined: unknown[];
  processed: unknown[];
  scanned: unknown[];
  broadcast: unknown[];
  custom: unknown[];
  asyncMapped: unknown[];
  sessions: unknown[];
}

/** The pipeline, and how often the custom operator and the async function were built / called. */
interface Builds {
  custom: number;
  worker?: { readonly index: number; readonly count: number } | undefined;
}

function pipeline(out: Outputs, builds: Builds): (p: Pipeline) => void {
  return (p) => {
    const wm = { watermark: boundedOutOfOrderness(40) };
    const c = p.source(fromArray(clicks), { name: 'clicks', timestamp: (x) => x.ts, ...wm }).keyBy((x) => x.user);
    const v = p.source(fromArray(views), { name: 'views', timestamp: (x) => x.ts, ...wm }).keyBy((x) => x.user);
    c.intervalJoin(v, { lower: -20, upper: 20, name: 'near' }).map((j) => `${j.left.ts}:${j.right.ts}`).sink(collect(out.joined));
    c.windowJoin(v, tumbling(100), { name: 'wj' }).apply((user, w, cs, vs) => [`${user}@${w.start}:${cs.length}x${vs.length}`]).sink(collect(out.windowJoined));
    const counts = { n: valueState<number>() };
    c.process<string, typeof counts>({
      state: counts,
      onRecord(_x, ctx) {
        const n = (ctx.state.n.get() ?? 0) + 1;
        ctx.state.n.set(n);
        if (n % 10 === 0) ctx.emit(`${ctx.key}#${n}`);
      },
    }, { name: 'every10' }).sink(collect(out.processed));
    c.sortByEventTime({ name: 'sorted' }).keyBy((x) => x.user).scan((acc: number, x) => acc + x.ts, 0, { name: 'runningTs' }).sink(collect(out.scanned));
    c.connect(p.source(fromArray(rules), { name: 'rules', timestamp: () => 0 }).broadcast())
      .process<string, { n: ReturnType<typeof mapState<string, number>> }, string, number>({
        state: { n: mapState<string, number>() },
        onBroadcast(rule, ctx) {
          ctx.broadcast.set(rule.page, rule.max);
          ctx.emit(`rule ${rule.page}`);
        },
        onRecord(x, ctx) {
          const n = (ctx.state.n.get(x.page) ?? 0) + 1;
          ctx.state.n.set(x.page, n);
          const max = ctx.broadcast.get(x.page);
          if (max !== undefined && n === max) ctx.emit(`${x.user} hit ${x.page}`);
        },
      }, { name: 'limits' }).sink(collect(out.broadcast));
    const counter: OperatorFactory = {
      kind: 'counter',
      build(ctx) {
        builds.custom++;
        builds.worker = ctx.worker;
        let seen = 0;
        return {
          onBatch(b) {
            seen += b.values.length;
          },
          onEnd() {
            ctx.out.emit(seen, 0);
          },
        };
      },
    };
    c.transform<number>(counter, { name: 'counter' }).sink(collect(out.custom));
    c.asyncMap(async (x) => x.ts * 2, { name: 'doubled' }).sink(collect(out.asyncMapped));
    c.window(session(30), { name: 'sessions' }).aggregate(count()).sink(collect(out.sessions));
  };
}

async function run(parallelism: number, seed: number): Promise<{ out: Outputs; builds: Builds; read: number | undefined }> {
  const out: Outputs = { joined: [], windowJoined: [], processed: [], scanned: [], broadcast: [], custom: [], asyncMapped: [], sessions: [] };
  const builds: Builds = { custom: 0 };
  const summary = await simulateParallel(pipeline(out, builds), { parallelism, seed, batchSize: 16 });
  return { out, builds, read: summary.sources['clicks']?.read };
}

describe('operators on simulated parallel workers', () => {
  it('give the results of parallelism 1; custom operators and asyncMap run once', async () => {
    const one = await run(1, 1);
    expect(one.out.joined.length).toBeGreaterThan(50);
    expect(one.out.broadcast.length).toBeGreaterThan(2);
    for (const [parallelism, seed] of [[2, 1], [3, 7], [4, 42]] as const) {
      const many = await run(parallelism, seed);
      for (const k of Object.keys(one.out) as (keyof Outputs)[]) expect(sorted(many.out[k]), k).toEqual(sorted(one.out[k]));
      expect(many.builds.custom).toBe(1);
      // The one instance, on worker 0, knows it is the only one.
      expect(many.builds.worker).toEqual({ index: 0, count: 1 });
      expect(many.out.custom).toEqual([600]);
      expect(many.read).toBe(600);
    }
  }, 60_000);

  it("a worker's error fails the simulated run with that error (the other workers stop)", async () => {
    const build = (p: Pipeline): void => {
      p.source(fromArray(clicks), { name: 'clicks', timestamp: (x) => x.ts, watermark: boundedOutOfOrderness(40) })
        .keyBy((x) => x.user).window(tumbling(100)).aggregate(count())
        .map((r) => {
          if (r.key === 'u5') throw new Error('boom at u5');
          return r;
        }, { name: 'check' })
        .sink(collect([]));
    };
    for (const seed of [1, 2, 3]) await expect(simulateParallel(build, { parallelism: 3, seed })).rejects.toThrow(/boom at u5/);
  });
});
