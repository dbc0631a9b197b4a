/**
 * Review 2: the event log's single-writer guard must be released when a run ends without reaching
 * the log sink's close/abort — here another sink of the same pipeline fails to open.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventLog, ManualClock, Pipeline, type Sink, fromArray } from 'tidemark';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('review2: event log writer guard', () => {
  it('a run that fails while opening its sinks releases the exactly-once log sink\'s writer role', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tidemark-rv2-'));
    dirs.push(dir);
    const log = await EventLog.open<{ n: number }>(dir, { partitions: 2 });
    try {
      const p = new Pipeline({ clock: new ManualClock() });
      const s = p.source(fromArray([{ n: 1 }, { n: 2 }]), { timestamp: (v) => v.n });
      s.sink(log.sink({ key: (v) => String(v.n), delivery: 'exactly-once' }), { name: 'log' });
      const broken: Sink<{ n: number }> = {
        kind: 'broken',
        open() {
          throw new Error('cannot connect');
        },
        write() {},
      };
      s.sink(broken, { name: 'broken' });
      await expect(p.run()).rejects.toThrow(/cannot connect/);
      // The run is over: the log must accept appends again (and another pipeline's sink).
      await expect(log.append([{ key: 'x', timestamp: 0, value: { n: 0 } }])).resolves.toHaveLength(1);
    } finally {
      await log.close();
    }
  });
});
