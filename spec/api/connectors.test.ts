/**
 * Sources and sinks: fromArray, fromAsyncIterable, fromObservable (RxJS) with its bounded buffer,
 * collect, forEach (async callbacks awaited), toObservable, console/toConsole.
 */
import { Subject, from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  ManualClock,
  Pipeline,
  PlanError,
  SourceError,
  TidemarkError,
  UserFunctionError,
  boundedOutOfOrderness,
  collect,
  console as consoleSink,
  count,
  forEach,
  fromArray,
  fromAsyncIterable,
  fromObservable,
  toConsole,
  toObservable,
  tumbling,
  type Source,
  type WindowResult,
} from 'tidemark';
import { deferred, track, waitFor } from './helpers.js';

type Ev = { k: string; ts: number };
const evs: Ev[] = Array.from({ length: 25 }, (_, i) => ({ k: i % 2 === 0 ? 'even' : 'odd', ts: i * 100 }));

/** Runs a source through a keyed tumbling count; returns results and the summary. */
async function countAll(source: Source<Ev>, batchSize = 1024) {
  const p = new Pipeline({ clock: new ManualClock(), batchSize });
  const out: WindowResult<string, number>[] = [];
  p.source(source, { timestamp: (e) => e.ts, watermark: boundedOutOfOrderness(0), name: 'src' })
    .keyBy((e) => e.k).window(tumbling(1_000)).aggregate(count()).sink(collect(out));
  const summary = await p.run();
  return { out: out.map((r) => [r.key, r.window.start, r.value]), summary };
}

const expectedCounts = [
  ['even', 0, 5], ['odd', 0, 5],
  ['even', 1_000, 5], ['odd', 1_000, 5],
  ['even', 2_000, 3], ['odd', 2_000, 2],
].sort();

describe('fromArray', () => {
  it.each([1, 7, 1024])('reads every record once (batchSize %d), with the same results', async (batchSize) => {
    const { out, summary } = await countAll(fromArray(evs), batchSize);
    expect(out.slice().sort()).toEqual(expectedCounts);
    expect(summary.sources['src']).toMatchObject({ read: 25, emitted: 25, deadLettered: 0 });
  });

  it('its own batchSize option, and the source is reusable across runs; the array is not modified', async () => {
    const input = evs.slice();
    const src = fromArray(input, { batchSize: 4 });
    const first = await countAll(src);
    const second = await countAll(src);
    expect(first.out).toEqual(second.out);
    expect(input).toEqual(evs);
  });

  it('rejects a non-array', () => {
    expect(() => fromArray('abc' as never)).toThrow(PlanError);
  });
});

describe('fromAsyncIterable', () => {
  it('an async generator', async () => {
    async function* gen(): AsyncGenerator<Ev> {
      for (const e of evs) {
        if (e.ts % 500 === 0) await Promise.resolve();
        yield e;
      }
    }
    const { out, summary } = await countAll(fromAsyncIterable(gen()));
    expect(out.slice().sort()).toEqual(expectedCounts);
    expect(summary.sources['src']?.read).toBe(25);
  });

  it('a sync iterable (generator function, Set, array)', async () => {
    function* gen(): Generator<Ev> {
      yield* evs;
    }
    for (const it of [gen(), new Set(evs), evs]) {
      const { out } = await countAll(fromAsyncIterable(it));
      expect(out.slice().sort()).toEqual(expectedCounts);
    }
  });

  it('an iterable that throws fails the run with its error', async () => {
    async function* gen(): AsyncGenerator<Ev> {
      yield evs[0] as Ev;
      throw new Error('connection reset');
    }
    const p = new Pipeline({ clock: new ManualClock() });
    p.source(fromAsyncIterable(gen()), { timestamp: (e) => e.ts }).sink(collect([]));
    await expect(p.run()).rejects.toThrow(/connection reset/);
  });

  it('is demand-driven: a slow sink slows the producer', async () => {
    let produced = 0;
    async function* gen(): AsyncGenerator<Ev> {
      for (const e of evs) {
        produced++;
        yield e;
      }
    }
    const gate = deferred();
    const p = new Pipeline({ clock: new ManualClock(), batchSize: 1 });
    let written = 0;
    p.source(fromAsyncIterable(gen()), { timestamp: (e) => e.ts }).sink(forEach(async () => {
      written++;
      await gate.promise;
    }));
    const run = track(p.run());
    await waitFor(() => written >= 1, 'first write');
    expect(run.settled).toBe(false);
    expect(produced).toBeLessThanOrEqual(3);
    gate.resolve();
    await run.promise;
    expect(produced).toBe(25);
    expect(written).toBe(25);
  });

  it('rejects a non-iterable', () => {
    expect(() => fromAsyncIterable(42 as never)).toThrow(PlanError);
  });
});

describe('fromObservable', () => {
  it('rxjs from([...])', async () => {
    const { out } = await countAll(fromObservable(from(evs)));
    expect(out.slice().sort()).toEqual(expectedCounts);
  });

  it('a Subject driven while the pipeline runs; completes with it', async () => {
    const subject = new Subject<Ev>();
    const p = new Pipeline({ clock: new ManualClock() });
    const out: number[] = [];
    p.source(fromObservable(subject), { timestamp: (e) => e.ts, name: 'subj' }).map((e) => e.ts).sink(collect(out));
    const run = track(p.run());
    await waitFor(() => subject.observed, 'subscription');
    subject.next({ k: 'a', ts: 1 });
    subject.next({ k: 'a', ts: 2 });
    await waitFor(() => out.length === 2, 'two values');
    subject.next({ k: 'a', ts: 3 });
    expect(run.settled).toBe(false);
    subject.complete();
    const summary = await run.promise;
    expect(out).toEqual([1, 2, 3]);
    expect(summary.sources['subj']?.read).toBe(3);
    expect(subject.observed).toBe(false); // unsubscribed at the end
  });

  it('an Observable error fails the run with a SourceError naming the source (the error is its cause)', async () => {
    const subject = new Subject<Ev>();
    const p = new Pipeline({ clock: new ManualClock() });
    p.source(fromObservable(subject), { timestamp: (e) => e.ts, name: 'feed' }).sink(collect([]));
    const run = p.run();
    await waitFor(() => subject.observed, 'subscription');
    const boom = new Error('upstream broke');
    subject.error(boom);
    const e = await run.then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(SourceError);
    expect((e as Error).message).toMatch(/source 'feed' failed: Error: upstream broke/);
    expect((e as Error).cause).toBe(boom);
  });

  it("overflow 'fail' (the default): the run rejects with a SourceError", async () => {
    const p = new Pipeline({ clock: new ManualClock() });
    p.source(fromObservable(from(evs), { bufferSize: 5 }), { timestamp: (e) => e.ts, name: 'burst' }).sink(collect([]));
    const e = await p.run().then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(SourceError);
    expect(e).toBeInstanceOf(TidemarkError);
    expect((e as Error).message).toMatch(/'burst'/);
    expect((e as Error).message).toMatch(/5/);
  });

  it("overflow 'fail' with a Subject pushing faster than the pipeline reads", async () => {
    const subject = new Subject<Ev>();
    const p = new Pipeline({ clock: new ManualClock() });
    p.source(fromObservable(subject, { bufferSize: 2, overflow: 'fail' }), { timestamp: (e) => e.ts }).sink(collect([]));
    const run = p.run();
    await waitFor(() => subject.observed, 'subscription');
    for (const e of evs.slice(0, 5)) subject.next(e); // synchronously: nothing is read in between
    subject.complete();
    await expect(run).rejects.toBeInstanceOf(SourceError);
  });

  it("overflow 'drop-newest' keeps the oldest and counts drops through onDrop", async () => {
    const drops: number[] = [];
    const p = new Pipeline({ clock: new ManualClock() });
    const out: number[] = [];
    p.source(fromObservable(from(evs.slice(0, 6)), { bufferSize: 2, overflow: 'drop-newest', onDrop: (n) => drops.push(n) }), { timestamp: (e) => e.ts, name: 'src' })
      .map((e) => e.ts).sink(collect(out));
    const summary = await p.run();
    expect(out).toEqual([0, 100]);
    expect(drops).toEqual([1, 2, 3, 4]);
    expect(summary.sources['src']?.read).toBe(2);
  });

  it("overflow 'drop-oldest' keeps the newest", async () => {
    const drops: number[] = [];
    const p = new Pipeline({ clock: new ManualClock() });
    const out: number[] = [];
    p.source(fromObservable(from(evs.slice(0, 6)), { bufferSize: 2, overflow: 'drop-oldest', onDrop: (n) => drops.push(n) }), { timestamp: (e) => e.ts })
      .map((e) => e.ts).sink(collect(out));
    await p.run();
    expect(out).toEqual([400, 500]);
    expect(drops).toEqual([1, 2, 3, 4]);
  });

  it('rejects bad options when the plan is built', () => {
    expect(() => fromObservable({} as never)).toThrow(PlanError);
    expect(() => fromObservable(from(evs), { bufferSize: 0 })).toThrow(/tidemark\.fromObservable/);
    expect(() => fromObservable(from(evs), { overflow: 'block' as never })).toThrow(/tidemark\.fromObservable/);
  });
});

describe('sinks', () => {
  it('collect appends in arrival order, and several sinks can follow one stream', async () => {
    const p = new Pipeline({ clock: new ManualClock(), batchSize: 3 });
    const a: number[] = [];
    const b: number[] = [99];
    const summary = await (p.source(fromArray(evs), { timestamp: (e) => e.ts }).map((e) => e.ts).sink(collect(a), { name: 'first' }).sink(collect(b), { name: 'second' }), p.run());
    expect(a).toEqual(evs.map((e) => e.ts));
    expect(b).toEqual([99, ...evs.map((e) => e.ts)]);
    expect(summary.sinks['first']).toEqual({ in: 25 });
    expect(summary.sinks['second']).toEqual({ in: 25 });
  });

  it('forEach receives value and timestamp; an async callback is awaited before run() resolves', async () => {
    const p = new Pipeline({ clock: new ManualClock() });
    const gate = deferred();
    const seen: [number, number][] = [];
    let finished = 0;
    p.source(fromArray(evs.slice(0, 3)), { timestamp: (e) => e.ts + 1 }).map((e) => e.ts).sink(forEach(async (v, t) => {
      seen.push([v, t]);
      await gate.promise;
      finished++;
    }));
    const run = track(p.run());
    await waitFor(() => seen.length === 3, 'three calls');
    expect(run.settled).toBe(false);
    expect(finished).toBe(0);
    gate.resolve();
    await run.promise;
    expect(finished).toBe(3);
    expect(seen).toEqual([[0, 1], [100, 101], [200, 201]]);
  });

  it('forEach: a rejected callback fails the run', async () => {
    const p = new Pipeline({ clock: new ManualClock() });
    p.source(fromArray(evs), { timestamp: (e) => e.ts }).sink(forEach(async (e) => {
      if (e.ts === 300) throw new Error('db down');
    }));
    await expect(p.run()).rejects.toThrow(/db down/);
  });

  it('toObservable re-emits values and completes with the run', async () => {
    const p = new Pipeline({ clock: new ManualClock() });
    const sink = toObservable<number>();
    p.source(fromArray(evs), { timestamp: (e) => e.ts }).map((e) => e.ts).sink(sink);
    const all = lastValueFrom(sink.observable.pipe(toArray()));
    let completed = false;
    sink.observable.subscribe({ complete: () => (completed = true) });
    await p.run();
    expect(completed).toBe(true);
    expect(await all).toEqual(evs.map((e) => e.ts));
  });

  it('toObservable errors when the run fails', async () => {
    const p = new Pipeline({ clock: new ManualClock() });
    const sink = toObservable<number>();
    p.source(fromArray(evs), { timestamp: (e) => e.ts }).map((e) => {
      if (e.ts === 500) throw new Error('bad');
      return e.ts;
    }, { name: 'm' }).sink(sink);
    const values: number[] = [];
    let error: unknown;
    sink.observable.subscribe({ next: (v) => values.push(v), error: (e) => (error = e) });
    const runError = await p.run().then(() => undefined, (e: unknown) => e);
    expect(runError).toBeInstanceOf(UserFunctionError);
    expect(error).toBe(runError);
    expect(values).not.toContain(500);
  });

  it('console / toConsole print one line per value through a custom print, with prefix and format', async () => {
    const lines: string[] = [];
    const other: string[] = [];
    const p = new Pipeline({ clock: new ManualClock() });
    const s = p.source(fromArray([{ k: 'a', ts: 5 }, { k: 'b', ts: 7 }]), { timestamp: (e) => e.ts });
    s.sink(toConsole({ print: (l) => lines.push(l) }));
    s.sink(consoleSink({ prefix: 'ev ', format: (v, t) => `${(v as Ev).k}@${t}`, print: (l) => other.push(l) }));
    s.map((e) => ({ big: BigInt(e.ts), inf: Infinity })).sink(toConsole({ print: (l) => lines.push(l) }));
    await p.run();
    expect(other).toEqual(['ev a@5', 'ev b@7']);
    expect(lines.slice().sort()).toEqual(
      ['{"k":"a","ts":5}', '{"k":"b","ts":7}', '{"big":"5","inf":"Infinity"}', '{"big":"7","inf":"Infinity"}'].sort(),
    );
    expect(consoleSink).toBe(toConsole);
  });

  it('a sink that is not a sink is a PlanError', () => {
    const p = new Pipeline({ clock: new ManualClock() });
    const s = p.source(fromArray(evs), { timestamp: (e) => e.ts });
    expect(() => s.sink({} as never)).toThrow(PlanError);
    expect(() => collect('x' as never)).toThrow(PlanError);
    expect(() => forEach(1 as never)).toThrow(PlanError);
  });
});
