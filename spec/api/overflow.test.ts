/**
 * Push sources never buffer without bound: `fromObservable` overflow policies — block (pause the
 * producer), drop-newest, drop-oldest (counted in the summary), fail.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ManualClock, Pipeline, SourceError, collect, fromObservable } from 'tidemark';
import { waitFor } from './helpers.js';

type Row = { n: number };

function pipeline(subject: Subject<Row>, options: Parameters<typeof fromObservable<Row>>[1]): { p: Pipeline; out: Row[] } {
  const p = new Pipeline({ clock: new ManualClock(0), batchSize: 2 });
  const out: Row[] = [];
  p.source(fromObservable(subject, options), { timestamp: (r) => r.n, name: 'push' }).sink(collect(out));
  return { p, out };
}

describe('fromObservable overflow policies', () => {
  it("'block' pauses a producer that can be paused and resumes it when half the buffer is free; nothing is lost", async () => {
    const subject = new Subject<Row>();
    let paused = false;
    let pauses = 0;
    let resumes = 0;
    let next = 0;
    const total = 200;
    const produce = (): void => {
      while (!paused && next < total) subject.next({ n: next++ });
      if (next === total) subject.complete();
    };
    const { p, out } = pipeline(subject, {
      bufferSize: 8,
      overflow: 'block',
      backpressure: {
        pause: () => {
          paused = true;
          pauses++;
        },
        resume: () => {
          paused = false;
          resumes++;
          queueMicrotask(produce);
        },
      },
    });
    const run = p.run();
    await waitFor(() => subject.observed, 'the source subscribed');
    produce();
    const summary = await run;
    expect(out.map((r) => r.n)).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(pauses).toBeGreaterThan(5);
    expect(resumes).toBe(pauses);
    expect(summary.sources.push?.dropped).toBe(0);
    expect(summary.sources.push?.pauses).toBe(pauses);
  });

  it("'block' fails the run when the producer ignores pause() and fills a second buffer", async () => {
    const subject = new Subject<Row>();
    const { p } = pipeline(subject, { bufferSize: 4, overflow: 'block', backpressure: { pause: () => undefined, resume: () => undefined } });
    const run = p.run();
    await waitFor(() => subject.observed, 'the source subscribed');
    for (let i = 0; i < 20; i++) subject.next({ n: i });
    await expect(run).rejects.toThrow(SourceError);
    await expect(run).rejects.toThrow(/overflowed its buffer of 8 values .*kept pushing after pause/);
  });

  it("'drop-oldest' and 'drop-newest' keep the buffer bounded and count each drop", async () => {
    for (const overflow of ['drop-oldest', 'drop-newest'] as const) {
      const subject = new Subject<Row>();
      const drops: number[] = [];
      const { p, out } = pipeline(subject, { bufferSize: 4, overflow, onDrop: (d) => drops.push(d) });
      const run = p.run();
      await waitFor(() => subject.observed, 'the source subscribed', 500, 0);
      for (let i = 0; i < 10; i++) subject.next({ n: i });
      subject.complete();
      const summary = await run;
      expect(summary.sources.push?.dropped).toBe(6);
      expect(drops).toEqual([1, 2, 3, 4, 5, 6]);
      expect(out.map((r) => r.n)).toEqual(overflow === 'drop-oldest' ? [6, 7, 8, 9] : [0, 1, 2, 3]);
      expect(summary.sources.push?.read).toBe(4);
    }
  });

  it("'block' without a way to pause the producer is refused when the pipeline is built", () => {
    expect(() => fromObservable(new Subject<Row>(), { overflow: 'block' })).toThrow(/tidemark.fromObservable: overflow 'block' needs backpressure/);
  });
});
