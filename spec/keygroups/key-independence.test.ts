/**
 * A process function's results for a key do not depend on which other keys share its instance:
 * self-renewing timers end at the key's own end-of-input horizon (its largest record timestamp or
 * timer set before the end-of-input pass), and lateness is judged against the input watermark
 * every worker sees alike. Golden cases of the reviewer's example (key A at 0, key B at 100 and
 * 500, timers that renew themselves every 10): A's timers are the same alone, beside B, and on
 * workers cut from a shared snapshot.
 */
import { describe, expect, it } from 'vitest';
import { type ProcessFunction, type Stream, Pipeline, filterOperatorSnapshot, fromArray, valueState } from 'tidemark';
import { harness } from 'tidemark/testing';

interface R {
  k: string;
  emitAt?: number;
}

const state = { n: valueState<number>() };

/** Every record sets a timer 10 later; every timer sets the next one 10 later. */
const renewing: ProcessFunction<string, R, typeof state, string> = {
  state,
  onRecord(r, ctx) {
    ctx.state.n.set((ctx.state.n.get() ?? 0) + 1);
    ctx.timers.registerEventTime(ctx.timestamp + 10);
    if (r.emitAt !== undefined) ctx.emit(`${ctx.key}@${r.emitAt}`, r.emitAt);
  },
  onTimer(t, ctx) {
    ctx.emit(`${ctx.key} timer ${t.timestamp}`);
    ctx.timers.registerEventTime(t.timestamp + 10);
  },
};

const build = (s: Stream<R>): Stream<string> => s.keyBy((r) => r.k).process(renewing, { name: 'op' });

const timersOf = (key: string, out: readonly string[]): string[] => out.filter((x) => x.startsWith(`${key} timer`));
/** B's timers after records at 100 and 500: every 10 from 110 up to its horizon 510. */
const bTimers = Array.from({ length: 41 }, (_, i) => `B timer ${110 + 10 * i}`);

describe('process results are the same whichever keys share an instance', () => {
  it('a self-renewing timer ends at its key’s own horizon at end of input', () => {
    const alone = harness(build);
    alone.addElement({ k: 'A' }, 0);
    alone.finish();
    const aAlone = timersOf('A', alone.takeOutput());
    expect(aAlone).toEqual(['A timer 10']);

    const beside = harness(build);
    beside.addElement({ k: 'A' }, 0);
    beside.addElement({ k: 'B' }, 100);
    beside.addElement({ k: 'B' }, 500);
    beside.finish();
    const out = beside.takeOutput();
    expect(timersOf('A', out)).toEqual(aAlone);
    expect(timersOf('B', out)).toEqual(bTimers);
    expect(beside.summary().operators['op']?.['timersDroppedAtEnd']).toBe(2);
  });

  it('timers fired by watermarks before the end raise the key’s horizon, not another key’s', () => {
    const run = (keys: readonly string[]): string[] => {
      const h = harness(build);
      for (const k of keys) h.addElement({ k }, k === 'A' ? 0 : 300);
      h.advanceWatermarkTo(35);
      h.finish();
      return timersOf('A', h.takeOutput());
    };
    expect(run(['A'])).toEqual(['A timer 10', 'A timer 20', 'A timer 30', 'A timer 40']);
    expect(run(['A', 'B'])).toEqual(run(['A']));
  });

  it('the same on workers restored from a shared snapshot, B@500 arriving after the cut', () => {
    const h = harness(build);
    h.addElement({ k: 'A' }, 0);
    h.addElement({ k: 'B' }, 100);
    const snap = h.snapshot();
    const p = new Pipeline();
    build(p.source(fromArray<R>([]), { name: 'input', timestamp: () => 0 }));
    const factory = p.plan.nodes.find((n) => n.name === 'op')?.factory;
    if (factory === undefined) throw new Error('no op');
    const worker = (k: string): ReturnType<typeof harness<R, string>> =>
      harness(build, { restore: { op: filterOperatorSnapshot(factory, 'op', snap['op'], (key) => key === k) } });
    const a = worker('A');
    const b = worker('B');
    b.addElement({ k: 'B' }, 500);
    a.finish();
    b.finish();
    expect(timersOf('A', a.takeOutput())).toEqual(['A timer 10']);
    expect(timersOf('B', b.takeOutput())).toEqual(bTimers);
    // and on one instance restored whole
    const one = harness(build, { restore: snap });
    one.addElement({ k: 'B' }, 500);
    one.finish();
    expect(timersOf('A', one.takeOutput())).toEqual(['A timer 10']);
  });

  it('an emission is late when at or behind the input watermark, whatever other keys’ timers hold', () => {
    const run = (withB: boolean): { out: string[]; late: unknown[] } => {
      const h = harness(build);
      if (withB) h.addElement({ k: 'B' }, 30); // B's timer at 40 is pending while A emits
      h.advanceWatermarkTo(20);
      h.addElement({ k: 'A', emitAt: 15 }, 25);
      h.addElement({ k: 'A', emitAt: 21 }, 25);
      return { out: h.takeOutput().filter((x) => x.startsWith('A@')), late: h.takeLate<{ value: string; timestamp: number; watermark: number }>().map((l) => [l.value, l.timestamp, l.watermark]) };
    };
    expect(run(false)).toEqual({ out: ['A@21'], late: [['A@15', 15, 20]] });
    expect(run(true)).toEqual(run(false));
  });
});
