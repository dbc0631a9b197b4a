/**
 * Review: a run that ends by stop() or by a failure leaves its operators' processing-time timers
 * armed on the pipeline's clock. They fire later and write into the (same) sink objects: after
 * close()/abort(), or into the sink a restarted attempt has re-opened (duplicated output).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock, Pipeline, type Sink, type Source, type SourceChunk, fileCheckpoints } from 'tidemark';

type Rec = { k: string; ts: number };
type Step = Rec | { advance: number };

/** A replayable scripted source: records (position = index after the chunk) and processing-time steps. */
function scripted(steps: readonly Step[], opts: { hangAtEnd?: boolean } = {}): Source<Rec> {
  return {
    kind: 'scripted',
    providesTimestamps: true,
    providesWatermarks: false,
    stepsProcessingTime: true,
    replayable: true,
    open(ctx) {
      let i = typeof ctx.resume === 'number' ? ctx.resume : 0;
      return {
        next(): SourceChunk<Rec> | null | Promise<SourceChunk<Rec> | null> {
          if (i >= steps.length) return opts.hangAtEnd === true ? new Promise(() => undefined) : null;
          const s = steps[i++] as Step;
          if ('advance' in s) return { kind: 'processing-time', advanceBy: s.advance };
          return { kind: 'records', values: [s], timestamps: [s.ts], position: i };
        },
      };
    },
  };
}

/** A two-phase-commit sink over a shared "database" that logs every protocol call. */
function loggingSink(log: string[], committed: string[]): Sink<string> {
  let buffer: string[] = [];
  const staged = new Map<number, string[]>();
  let fence = 0;
  const commit = (id: number): void => {
    if (fence >= id) return;
    for (const [e, rows] of [...staged].sort((a, b) => a[0] - b[0])) if (e <= id) {
      committed.push(...rows);
      staged.delete(e);
    }
    fence = id;
  };
  return {
    kind: 'logging-2pc',
    guarantee: 'exactly-once',
    open(ctx) {
      buffer = [];
      log.push(ctx.restored === undefined ? 'open' : `open restored ${ctx.restored.checkpointId}`);
      if (ctx.restored !== undefined) {
        commit(ctx.restored.checkpointId);
        for (const e of [...staged.keys()]) if (e > ctx.restored.checkpointId) staged.delete(e);
      }
    },
    write(values) {
      log.push(`write ${values.join(',')}`);
      buffer.push(...values);
    },
    preCommit(id) {
      staged.set(id, buffer);
      buffer = [];
      return null;
    },
    commit(id) {
      commit(id);
    },
    close() {
      log.push('close');
    },
    abort() {
      log.push('abort');
    },
  };
}

function build(clock: ManualClock, steps: readonly Step[], log: string[], committed: string[], opts: { failOn?: string; restart?: boolean; hangAtEnd?: boolean; dir?: string }): Pipeline {
  let failed = false;
  const p = new Pipeline({
    clock,
    ...(opts.dir === undefined ? {} : { checkpoints: { store: fileCheckpoints(opts.dir), everyRecords: 1 } }),
    ...(opts.restart === true ? { restart: { attempts: 1, delay: 0 } } : {}),
  });
  p.source(scripted(steps, { hangAtEnd: opts.hangAtEnd === true }), { name: 'in' })
    .map((r) => {
      if (!failed && r.k === opts.failOn) {
        failed = true;
        throw new Error('injected');
      }
      return r;
    }, { name: 'maybeFail' })
    .keyBy((r) => r.k)
    .process<string>({
      onRecord(_r, ctx) {
        ctx.timers.registerProcessingTime(ctx.processingTime + 100);
      },
      onTimer(t, ctx) {
        ctx.emit(`fired:${String(ctx.key)}@${t.timestamp}`, 1_000_000);
      },
    }, { name: 'timers' })
    .sink(loggingSink(log, committed), { name: 'db' });
  return p;
}

describe('processing-time timers of a finished run', () => {
  it('do not fire into the sink after stop() closed it', async () => {
    const clock = new ManualClock(0);
    const log: string[] = [];
    const p = build(clock, [{ k: 'a', ts: 1 }, { k: 'b', ts: 2 }], log, [], { hangAtEnd: true });
    const run = p.run();
    for (let i = 0; i < 1_000 && !log.includes('open'); i++) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    p.stop('test');
    const summary = await run;
    expect(summary.stopped).toBe('test');
    expect(log.at(-1)).toBe('close');
    const armed = clock.pending(); // timers of the stopped run still scheduled (a SystemClock keeps the process alive for them)
    clock.advanceBy(1_000);
    // The stopped run's timers must not reach a sink that was closed.
    expect({ armed, after: log.slice(log.indexOf('close') + 1) }).toEqual({ armed: 0, after: [] });
  });

  it('of a failed attempt do not write into the sink the restarted attempt re-opened (duplicates)', async () => {
    const steps: Step[] = [{ k: 'a', ts: 1 }, { k: 'b', ts: 2 }, { k: 'x', ts: 3 }, { advance: 200 }];
    const refCommitted: string[] = [];
    await build(new ManualClock(0), steps, [], refCommitted, { dir: mkdtempSync(join(tmpdir(), 'tm-review-ref-')) }).run();
    expect(refCommitted.sort()).toEqual(['fired:a@100', 'fired:b@100', 'fired:x@100']);
    // Attempt 1 fails on record x, after a and b were checkpointed (their timers are in the checkpoint).
    const log: string[] = [];
    const committed: string[] = [];
    const summary = await build(new ManualClock(0), steps, log, committed, { failOn: 'x', restart: true, dir: mkdtempSync(join(tmpdir(), 'tm-review-')) }).run();
    expect(summary.restarts).toBe(1);
    expect(committed.sort()).toEqual(refCommitted);
  });
});
