/**
 * A record that cannot cross to another worker (structured cloning rejects a function field)
 * fails the run with an `ExchangeError` naming the operator it was headed for and the field at
 * fault — not an uncaught exception in the sending worker, and not a silent loss.
 */
import { describe, expect, it } from 'vitest';
import { ExchangeError, type Pipeline, collect, fromArray } from 'tidemark';
import { simulateParallel } from 'tidemark/testing';

describe('exchange errors', () => {
  it('a record with a function field fails the run with a named ExchangeError', async () => {
    const input = Array.from({ length: 64 }, (_, id) => (id === 40 ? { id, k: `k${id % 9}`, f: () => id } : { id, k: `k${id % 9}`, f: id }));
    const out: unknown[] = [];
    const build = (p: Pipeline): void => {
      p.source(fromArray(input), { timestamp: (r) => r.id })
        .keyBy((r) => r.k)
        .process({ onRecord: (r, ctx) => ctx.emit(r) }, { name: 'relay' })
        .sink(collect(out));
    };
    const error = await simulateParallel(build, { parallelism: 2, seed: 3, batchSize: 8 }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ExchangeError);
    expect((error as ExchangeError).operator).toBe("'relay'");
    expect((error as Error).message).toMatch(/a record for 'relay' \(timestamp 40\) cannot cross from worker \d to worker \d: value cannot be cloned: function at field f; \d+ queued record\(s\) to worker \d not sent/);
  });

  it('without such a record the same pipeline delivers everything (budgets stay exact under a small maxUnacked)', async () => {
    const input = Array.from({ length: 3000 }, (_, id) => ({ id, k: `k${id % 37}` }));
    const out: { id: number }[] = [];
    await simulateParallel((p) => {
      p.source(fromArray(input), { timestamp: (r) => r.id })
        .keyBy((r) => r.k)
        .process({ onRecord: (r, ctx) => ctx.emit(r) })
        .sink(collect(out));
    }, { parallelism: 3, seed: 5, batchSize: 1500, maxUnacked: 1100 });
    expect(out.map((r) => r.id).sort((a, b) => a - b)).toEqual(input.map((r) => r.id));
  });
});
