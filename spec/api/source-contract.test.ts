/**
 * The source contract beyond records: a reader's rejected input becomes dead letters with its
 * position (and counts as read), and `ack` is called only after a chunk's effects downstream —
 * including awaited sink writes — are done.
 */
import { describe, expect, it } from 'vitest';
import { type DeadLetter, ManualClock, Pipeline, type Source, type SourceChunk, collect, forEach } from 'tidemark';

describe('source contract', () => {
  it('dead-letter chunks carry reason and position, and read = emitted + deadLettered', async () => {
    const source: Source<{ ts: number }> = {
      kind: 'lines',
      providesTimestamps: false,
      providesWatermarks: false,
      open() {
        const chunks: SourceChunk<{ ts: number }>[] = [
          { kind: 'records', values: [{ ts: 1 }] },
          { kind: 'dead-letters', letters: [{ value: '{oops', reason: 'invalid JSON', position: { file: 'a.jsonl', line: 2 } }] },
          { kind: 'records', values: [{ ts: 3 }] },
        ];
        return { next: () => chunks.shift() ?? null };
      },
    };
    const p = new Pipeline({ clock: new ManualClock() });
    const dead: DeadLetter[] = [];
    const s = p.source(source, { timestamp: (r) => r.ts, name: 'lines' });
    s.deadLetters().sink(collect(dead));
    s.sink(collect([]));
    const summary = await p.run();
    expect(dead).toEqual([{ value: '{oops', reason: 'invalid JSON', operator: 'lines', position: { file: 'a.jsonl', line: 2 } }]);
    expect(summary.sources['lines']).toMatchObject({ read: 3, emitted: 2, deadLettered: 1 });
  });

  it('acks a chunk only after its sink writes completed', async () => {
    const log: string[] = [];
    const source: Source<number> = {
      kind: 'acking',
      providesTimestamps: false,
      providesWatermarks: false,
      open() {
        const chunks: SourceChunk<number>[] = [{ kind: 'records', values: [1, 2] }, { kind: 'records', values: [3] }];
        return {
          next: () => chunks.shift() ?? null,
          ack: (chunk) => {
            if (chunk.kind === 'records') log.push(`ack ${chunk.values.join(',')}`);
          },
        };
      },
    };
    const p = new Pipeline({ clock: new ManualClock() });
    p.source(source, { timestamp: (n) => n }).sink(forEach(async (n) => {
      await Promise.resolve();
      log.push(`wrote ${n}`);
    }));
    await p.run();
    expect(log).toEqual(['wrote 1', 'wrote 2', 'ack 1,2', 'wrote 3', 'ack 3']);
  });
});
