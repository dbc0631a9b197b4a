/**
 * End to end, exactly-once from event log to event log (`counts-pipeline.ts`): a checkpointed
 * pipeline counts clicks per page in tumbling windows and writes the counts to a second log with
 * the exactly-once log sink. The first run fails deliberately at record K (a map that throws
 * once); a second run with the same checkpoint store restores and finishes. The output log then
 * equals an uninterrupted run's record for record — partitions, offsets, keys, timestamps and
 * values. The same holds with the engine's in-process restart (one `run()`).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { EventLog, type RunSummary } from 'tidemark';
import { CLICKS, type Click, type Count, countsPipeline, logContents, writeClicks } from './counts-pipeline.js';
import { all, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

const K = 1_777;

async function logs(): Promise<{ input: EventLog<Click>; reference: EventLog<Count>; output: EventLog<Count>; close: () => Promise<unknown> }> {
  const input = await EventLog.open<Click>(await tempDir(), { partitions: 3, fsync: 'never' });
  await writeClicks(input);
  const reference = await EventLog.open<Count>(await tempDir(), { partitions: 2 });
  const output = await EventLog.open<Count>(await tempDir(), { partitions: 2 });
  return { input, reference, output, close: () => Promise.all([input.close(), reference.close(), output.close()]) };
}

describe('exactly-once end to end (event log → windows → event log)', () => {
  it('a run failing at record K and a restored run leave exactly the uninterrupted run\'s output log', async () => {
    const { input, reference, output, close } = await logs();
    try {
      const uninterrupted = await countsPipeline(input, reference, await tempDir()).run();
      expect(uninterrupted.guarantees).toEqual({ counts: 'exactly-once' });
      const expected = await logContents(reference);
      expect((await all(reference.read())).reduce((s, r) => s + r.value.count, 0)).toBe(CLICKS);

      const ckpt = await tempDir();
      await expect(countsPipeline(input, output, ckpt, { failAt: K }).run()).rejects.toThrow(/deliberate failure/);
      const partial = await logContents(output);
      expect(partial.length).toBeGreaterThan(0); // checkpoints before K were committed
      expect(partial.length).toBeLessThan(expected.length);
      const summary: RunSummary = await countsPipeline(input, output, ckpt).run();
      expect(summary.checkpoints?.restoredFrom).toBeGreaterThan(0);
      expect(summary.guarantees).toEqual({ counts: 'exactly-once' });
      expect(await logContents(output)).toEqual(expected);
    } finally {
      await close();
    }
  });

  it('the same with the engine\'s in-process restart (the sink is reopened and restored within one run)', async () => {
    const { input, reference, output, close } = await logs();
    try {
      await countsPipeline(input, reference, await tempDir()).run();
      const summary = await countsPipeline(input, output, await tempDir(), { failAt: K, restart: true }).run();
      expect(summary.restarts).toBe(1);
      expect(await logContents(output)).toEqual(await logContents(reference));
      await output.append([{ key: 'after', timestamp: 0, value: { page: 'after', start: 0, count: 0 } }]); // the sink released the log
    } finally {
      await close();
    }
  });
});
