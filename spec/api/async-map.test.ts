/**
 * asyncMap: bounded concurrency, ordered and unordered results, the output watermark held while
 * calls are in flight, timeouts and retries on the injected clock, failures to dead letters, and a
 * run that ends only when every call has settled.
 */
import { describe, expect, it } from 'vitest';
import { type DeadLetter, ManualClock, Pipeline, type Stream, collect, count, fromArray, monotonic, tumbling } from 'tidemark';
import { harness } from 'tidemark/testing';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('asyncMap', () => {
  it('emits in input order (ordered) although calls complete in reverse, with bounded concurrency', async () => {
    const calls = new Map<number, ReturnType<typeof deferred<string>>>();
    let inFlight = 0;
    let maxInFlight = 0;
    const h = harness((input: Stream<number>) =>
      input.asyncMap((n) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const d = deferred<string>();
        calls.set(n, d);
        return d.promise.finally(() => inFlight--);
      }, { concurrency: 2 }));
    h.addElements({ value: 1, timestamp: 1 }, { value: 2, timestamp: 2 }, { value: 3, timestamp: 3 });
    expect([...calls.keys()]).toEqual([1, 2]); // the third waits for a free slot
    calls.get(2)?.resolve('two');
    await Promise.resolve();
    await Promise.resolve();
    expect(h.takeOutput()).toEqual([]); // 1 is not done: order is kept
    calls.get(1)?.resolve('one');
    for (let i = 0; i < 10 && !calls.has(3); i++) await Promise.resolve();
    calls.get(3)?.resolve('three');
    await h.settle();
    expect(h.takeOutput()).toEqual(['one', 'two', 'three']);
    expect(maxInFlight).toBe(2);
  });

  it('emits as calls complete with ordered: false', async () => {
    const calls = new Map<number, ReturnType<typeof deferred<number>>>();
    const h = harness((input: Stream<number>) => input.asyncMap((n) => {
      const d = deferred<number>();
      calls.set(n, d);
      return d.promise;
    }, { ordered: false }));
    h.addElements({ value: 1, timestamp: 1 }, { value: 2, timestamp: 2 });
    calls.get(2)?.resolve(20);
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(h.takeOutput()).toEqual([20]);
    calls.get(1)?.resolve(10);
    await h.settle();
    expect(h.takeOutput()).toEqual([10]);
  });

  it('holds the watermark: a downstream window fires only once the calls in it are done', async () => {
    const d = deferred<string>();
    const h = harness((input: Stream<string>) =>
      input.asyncMap(() => d.promise).keyBy((s) => s).window(tumbling(10)).aggregate(count()));
    h.addElement('x', 1);
    h.advanceWatermarkTo(100);
    expect(h.takeOutput()).toEqual([]);
    d.resolve('enriched');
    await h.settle();
    expect(h.takeOutput().map((r) => [r.key, r.value, r.pane.timing])).toEqual([['enriched', 1, 'on-time']]);
  });

  it('times out on the injected clock, retries with backoff, then dead-letters with the reason', async () => {
    let attempts = 0;
    const h = harness((input: Stream<string>) => input.asyncMap(() => {
      attempts++;
      return new Promise<string>(() => undefined); // never answers
    }, { timeout: 1_000, retries: 1, retryBackoff: 500 }));
    h.addElement('slow', 5);
    h.advanceProcessingTimeTo(1_000); // first attempt times out → retry at 1500
    expect(attempts).toBe(1);
    h.advanceProcessingTimeTo(1_500);
    expect(attempts).toBe(2);
    h.advanceProcessingTimeTo(2_500);
    await h.settle();
    expect(h.takeOutput()).toEqual([]);
    expect(h.takeDeadLetters().map((l) => [l.value, l.reason])).toEqual([['slow', 'asyncMap call failed after 2 attempt(s): Error: timed out after 1000 ms']]);
  });

  it('a run waits for every call, and failures are dead letters, not crashes', async () => {
    const p = new Pipeline({ clock: new ManualClock() });
    const out: string[] = [];
    const dead: DeadLetter[] = [];
    const s = p.source(fromArray([1, 2, 3, 4]), { timestamp: (n) => n, watermark: monotonic(), name: 'nums' })
      .asyncMap(async (n) => {
        await new Promise((r) => setImmediate(r));
        if (n === 3) throw new Error('lookup failed');
        return `v${n}`;
      }, { name: 'lookup' });
    s.sink(collect(out));
    s.deadLetters().sink(collect(dead));
    const summary = await p.run();
    expect(out).toEqual(['v1', 'v2', 'v4']);
    expect(dead.map((d) => d.reason)).toEqual(['asyncMap call failed after 1 attempt(s): Error: lookup failed']);
    expect(summary.operators['lookup']).toMatchObject({ in: 4, out: 3, deadLettered: 1, succeeded: 3, failed: 1, inFlight: 0 });
  });
});

describe('asyncMap snapshots', () => {
  it('re-issues the calls in flight when a snapshot was taken, after a restore', async () => {
    const build = (calls: string[], answer: boolean) => (input: Stream<string>) =>
      input.asyncMap((s) => {
        calls.push(s);
        return answer ? Promise.resolve(s.toUpperCase()) : new Promise<string>(() => undefined);
      }, { name: 'enrich', concurrency: 1 });
    const before: string[] = [];
    const crashed = harness(build(before, false));
    crashed.addElements({ value: 'a', timestamp: 1 }, { value: 'b', timestamp: 2 });
    expect(before).toEqual(['a']); // b waits for a free slot
    const snapshot = crashed.snapshot();
    expect(snapshot['enrich']).toEqual({ pending: [{ value: 'a', t: 1 }, { value: 'b', t: 2 }] });
    const after: string[] = [];
    const restored = harness(build(after, true), { restore: JSON.parse(JSON.stringify(snapshot)) as Record<string, unknown> });
    restored.addElement('c', 3);
    restored.finish();
    await restored.settle();
    expect(after).toEqual(['a', 'b', 'c']);
    expect(restored.takeOutputWithTimestamps()).toEqual([
      { value: 'A', timestamp: 1 }, { value: 'B', timestamp: 2 }, { value: 'C', timestamp: 3 },
    ]);
  });
});
