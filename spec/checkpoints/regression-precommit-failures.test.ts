/**
 * Review 2: a checkpoint where several exactly-once sinks fail to pre-commit must fail the run with
 * the first error and leave no unhandled rejection behind (Node 20 exits on one by default).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock, Pipeline, type Sink, fromArray } from 'tidemark';

describe('review2: failing pre-commits', () => {
  it('two sinks whose preCommit rejects: the run fails, and no rejection is left unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => {
      unhandled.push(e);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const failing = (name: string): Sink<number> => ({
        kind: 'failing',
        guarantee: 'exactly-once',
        write() {},
        preCommit: () => new Promise((_, reject) => setTimeout(() => reject(new Error(`${name}: disk full`)), 5)),
        commit() {},
      });
      const p = new Pipeline({ clock: new ManualClock() });
      const s = p.source(fromArray([1, 2, 3]), { timestamp: (v) => v });
      s.sink(failing('a'), { name: 'a' });
      s.sink(failing('b'), { name: 'b' });
      await expect(p.run()).rejects.toThrow(/a: disk full/);
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
