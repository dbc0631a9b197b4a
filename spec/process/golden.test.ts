/**
 * Golden cases for keyed process functions: typed state, event-time and processing-time timers
 * (order, dedup, deletion), TTL, side outputs, records and emissions behind the watermark, the
 * watermark hold seen downstream, end of input, errors.
 */
import { describe, expect, it } from 'vitest';
import {
  type DeadLetter, type Stream, ManualClock, Pipeline, PlanError, UserFunctionError, collect, outputTag,
} from 'tidemark';
import { TestStream, harness } from 'tidemark/testing';
import { type LateOutput, type TimerInfo, listState, mapState, valueState } from 'tidemark';
import { newLog, tap } from '../contract/probe.js';

interface Click {
  user: string;
  page: string;
}

const c = (user: string, page = 'home'): Click => ({ user, page });

describe('keyed.process: state', () => {
  it('counts per key with value state', () => {
    const h = harness((input: Stream<Click>) =>
      input.keyBy((x) => x.user).process<[string, number], { seen: ReturnType<typeof valueState<number>> }>({
        state: { seen: valueState<number>() },
        onRecord(_r, ctx) {
          const n = (ctx.state.seen.get() ?? 0) + 1;
          ctx.state.seen.set(n);
          ctx.emit([ctx.key, n]);
        },
      }));
    h.addElement(c('a'), 10);
    h.addElement(c('b'), 11);
    h.addElement(c('a'), 12);
    expect(h.takeOutputWithTimestamps()).toEqual([
      { value: ['a', 1], timestamp: 10 },
      { value: ['b', 1], timestamp: 11 },
      { value: ['a', 2], timestamp: 12 },
    ]);
    h.finish();
    const op = h.summary().operators['process#2'] as Record<string, number>;
    expect(op['keys']).toBe(0);
    expect(op['accepted']).toBe(3);
    expect(op['in']).toBe(op['accepted']! + op['tooLate']! + op['deadLettered']!);
  });

  it('gives typed list and map state, resolved per key', () => {
    const state = { recent: listState<string>(), byPage: mapState<string, number>() };
    const h = harness((input: Stream<Click>) =>
      input.keyBy((x) => x.user).process<{ recent: string[]; pages: [string, number][] }, typeof state>({
        state,
        onRecord(r, ctx) {
          ctx.state.recent.add(r.page);
          ctx.state.byPage.set(r.page, (ctx.state.byPage.get(r.page) ?? 0) + 1);
          if (ctx.state.recent.size === 3) {
            ctx.emit({ recent: [...ctx.state.recent.get()], pages: [...ctx.state.byPage.entries()] });
            ctx.state.recent.clear();
            ctx.state.byPage.delete('home');
          }
        },
      }));
    for (const [u, p, t] of [['a', 'home', 1], ['b', 'x', 2], ['a', 'cart', 3], ['a', 'home', 4], ['b', 'y', 5], ['b', 'x', 6]] as const) {
      h.addElement(c(u, p), t);
    }
    expect(h.takeOutput()).toEqual([
      { recent: ['home', 'cart', 'home'], pages: [['home', 2], ['cart', 1]] },
      { recent: ['x', 'y', 'x'], pages: [['x', 2], ['y', 1]] },
    ]);
  });
});

describe('keyed.process: event-time timers', () => {
  const timerLog = (input: Stream<{ k: string; at: number[]; del?: number[] }>) =>
    input.keyBy((x) => x.k).process<string>({
      onRecord(r, ctx) {
        for (const t of r.at) ctx.timers.registerEventTime(t);
        for (const t of r.del ?? []) ctx.timers.deleteEventTime(t);
      },
      onTimer(timer, ctx) {
        ctx.emit(`${ctx.key}@${timer.timestamp}:${timer.domain}:${ctx.timestamp}`);
      },
    });

  it('fire in timestamp order (ties in registration order) once the watermark reaches them', () => {
    const h = harness(timerLog);
    h.addElement({ k: 'b', at: [30, 20] }, 1);
    h.addElement({ k: 'a', at: [20, 25] }, 2);
    h.advanceWatermarkTo(19);
    expect(h.takeOutput()).toEqual([]);
    h.advanceWatermarkTo(20);
    expect(h.takeOutputWithTimestamps()).toEqual([
      { value: 'b@20:event-time:20', timestamp: 20 },
      { value: 'a@20:event-time:20', timestamp: 20 },
    ]);
    h.advanceWatermarkTo(100);
    expect(h.takeOutput()).toEqual(['a@25:event-time:25', 'b@30:event-time:30']);
    expect(h.summary().operators['process#2']?.['timers']).toBe(0);
  });

  it('deduplicates per key and time, and deletes', () => {
    const h = harness(timerLog);
    h.addElement({ k: 'a', at: [50, 50, 60, 70] }, 1);
    h.addElement({ k: 'a', at: [50], del: [60, 99] }, 2);
    h.addElement({ k: 'b', at: [50] }, 3);
    expect(h.summary().operators['process#2']?.['timers']).toBe(3);
    h.advanceWatermarkTo(80);
    expect(h.takeOutput()).toEqual(['a@50:event-time:50', 'b@50:event-time:50', 'a@70:event-time:70']);
  });

  it('fires a timer registered behind the watermark at the next advance; its output is late', () => {
    const h = harness((input: Stream<{ k: string; at: number[] }>) => {
      const out = timerLog(input);
      return out.union(out.late().map((l: LateOutput<string, string>) => `late:${l.value}|wm=${l.watermark}`));
    });
    h.advanceWatermarkTo(100);
    h.addElement({ k: 'a', at: [90] }, 101);
    expect(h.takeOutput()).toEqual([]);
    h.advanceWatermarkTo(101);
    expect(h.takeOutput()).toEqual(['late:a@90:event-time:90|wm=100']);
  });

  it('fires every timer at end of input and leaves no state or timers', () => {
    const h = harness(timerLog);
    h.addElement({ k: 'a', at: [5_000, 7_000] }, 1);
    h.addElement({ k: 'b', at: [6_000] }, 2);
    h.finish();
    expect(h.takeOutput()).toEqual(['a@5000:event-time:5000', 'b@6000:event-time:6000', 'a@7000:event-time:7000']);
    const op = h.summary().operators['process#2'] as Record<string, number>;
    expect([op['keys'], op['timers'], op['processingTimers']]).toEqual([0, 0, 0]);
    expect(op['timersFired']).toBe(3);
  });

  it('ends self-renewing timers at end of input (beyond the last time seen)', () => {
    const h = harness((input: Stream<number>) =>
      input.keyBy(() => 'k').process<number>({
        onRecord(_r, ctx) {
          ctx.timers.registerEventTime(ctx.timestamp + 10);
        },
        onTimer(t, ctx) {
          ctx.emit(t.timestamp);
          ctx.timers.registerEventTime(t.timestamp + 10);
        },
      }));
    h.addElement(1, 0);
    h.advanceWatermarkTo(25);
    expect(h.takeOutput()).toEqual([10, 20]);
    h.addElement(2, 31);
    h.finish();
    // pending 30 and 41 (from the record at 31) fire; 40 (set by the timer at 30) fires as it is
    // within the horizon (41); 50 and 51 are beyond it and dropped.
    expect(h.takeOutput()).toEqual([30, 40, 41]);
    const op = h.summary().operators['process#2'] as Record<string, number>;
    expect(op['timersDroppedAtEnd']).toBe(2);
    expect(op['timers']).toBe(0);
  });

  it('gives onTimer the key state', () => {
    const h = harness((input: Stream<number>) =>
      input.keyBy((v) => v % 2).process<string, { sum: ReturnType<typeof valueState<number>> }>({
        state: { sum: valueState<number>() },
        onRecord(v, ctx) {
          ctx.state.sum.set((ctx.state.sum.get() ?? 0) + v);
          ctx.timers.registerEventTime(100);
        },
        onTimer(_t, ctx) {
          ctx.emit(`${String(ctx.key)}=${ctx.state.sum.get()}`);
          ctx.state.sum.clear();
        },
      }));
    for (const [v, t] of [[1, 1], [2, 2], [3, 3], [4, 4]]) h.addElement(v!, t!);
    h.advanceWatermarkTo(100);
    expect(h.takeOutput()).toEqual(['1=4', '0=6']);
    expect(h.summary().operators['process#2']?.['keys']).toBe(0);
  });
});

describe('keyed.process: processing-time timers', () => {
  it('fire through the harness clock, deduplicated, deletable, in time order', () => {
    const h = harness((input: Stream<{ k: string; at: number[]; del?: number }>) =>
      input.keyBy((x) => x.k).process<string>({
        onRecord(r, ctx) {
          for (const t of r.at) ctx.timers.registerProcessingTime(ctx.processingTime + t);
          if (r.del !== undefined) ctx.timers.deleteProcessingTime(ctx.processingTime + r.del);
        },
        onTimer(timer: TimerInfo, ctx) {
          ctx.emit(`${ctx.key}@${timer.timestamp}:${timer.domain}`, 1_000 + timer.timestamp);
        },
      }), { processingTime: 1_000 });
    h.addElement({ k: 'a', at: [100, 100, 300] }, 5);
    h.addElement({ k: 'b', at: [200, 250], del: 250 }, 6);
    expect(h.summary().operators['process#2']?.['processingTimers']).toBe(3);
    h.advanceProcessingTimeTo(1_199);
    expect(h.takeOutput()).toEqual(['a@1100:processing-time']);
    h.advanceProcessingTimeTo(2_000);
    expect(h.takeOutputWithTimestamps()).toEqual([
      { value: 'b@1200:processing-time', timestamp: 2_200 },
      { value: 'a@1300:processing-time', timestamp: 2_300 },
    ]);
    expect(h.summary().operators['process#2']?.['keys']).toBe(0);
  });

  it('are cancelled at end of input', () => {
    const h = harness((input: Stream<number>) =>
      input.keyBy(() => 'k').process<number>({
        onRecord(_r, ctx) {
          ctx.timers.registerProcessingTime(500);
        },
        onTimer(t, ctx) {
          ctx.emit(t.timestamp);
        },
      }));
    h.addElement(1, 1);
    h.finish();
    h.advanceProcessingTimeTo(1_000);
    expect(h.takeOutput()).toEqual([]);
    expect(h.clock.pending()).toBe(0);
    expect(h.summary().operators['process#2']?.['processingTimers']).toBe(0);
  });
});

describe('keyed.process: TTL', () => {
  const build = (input: Stream<{ op: 'set' | 'read'; v?: number }>) =>
    input.keyBy(() => 'k').process<string, { v: ReturnType<typeof valueState<number>>; l: ReturnType<typeof listState<number>> }>({
      state: { v: valueState<number>({ ttl: 100 }), l: listState<number>() },
      ttl: 'PT0.05S',
      onRecord(r, ctx) {
        if (r.op === 'set') {
          ctx.state.v.set(r.v ?? 0);
          ctx.state.l.add(r.v ?? 0);
        } else {
          ctx.emit(`v=${ctx.state.v.get()} l=${ctx.state.l.get().join(',')}`);
        }
      },
    });

  it('clears state once the watermark passes lastUpdate + ttl (per-descriptor ttl overrides the default)', () => {
    const h = harness(build);
    h.addElement({ op: 'set', v: 1 }, 10);
    h.advanceWatermarkTo(59);
    h.addElement({ op: 'read' }, 60);
    h.advanceWatermarkTo(60); // l: 10 + 50
    h.addElement({ op: 'read' }, 61);
    h.addElement({ op: 'set', v: 2 }, 70); // v's lastUpdate moves to 70
    h.advanceWatermarkTo(150);
    h.addElement({ op: 'read' }, 151);
    h.advanceWatermarkTo(170);
    h.addElement({ op: 'read' }, 171);
    expect(h.takeOutput()).toEqual(['v=1 l=1', 'v=1 l=', 'v=2 l=', 'v=undefined l=']);
    const op = h.summary().operators['process#2'] as Record<string, number>;
    expect(op['expired']).toBe(3);
  });

  it('lets a timer at lastUpdate + ttl still read the state (timers run before expiries)', () => {
    const h = harness((input: Stream<number>) =>
      input.keyBy(() => 'k').process<string, { v: ReturnType<typeof valueState<number>> }>({
        state: { v: valueState<number>({ ttl: 10 }) },
        onRecord(x, ctx) {
          ctx.state.v.set(x);
          ctx.timers.registerEventTime(ctx.timestamp + 10);
          ctx.timers.registerEventTime(ctx.timestamp + 11);
        },
        onTimer(t, ctx) {
          ctx.emit(`${t.timestamp}:${ctx.state.v.get()}`);
        },
      }));
    h.addElement(7, 0);
    h.advanceWatermarkTo(100);
    expect(h.takeOutput()).toEqual(['10:7', '11:undefined']);
    expect(h.summary().operators['process#2']?.['keys']).toBe(0);
  });

  it('rejects a bad ttl when the plan is built', () => {
    expect(() => valueState({ ttl: 0 })).toThrow(/tidemark\.valueState: ttl must be positive/);
    expect(() => mapState({ ttl: 'P1M' })).toThrow(PlanError);
  });
});

describe('keyed.process: outputs', () => {
  it('routes side outputs to stream.sideOutput(tag)', () => {
    const big = outputTag<number>('big');
    const h = harness((input: Stream<number>) =>
      input.keyBy(() => 'k').process<number>({
        onRecord(v, ctx) {
          if (v > 10) ctx.output(big, v * 100);
          else ctx.emit(v);
        },
      }).sideOutput(big));
    h.addElement(3, 1);
    h.addElement(30, 2);
    h.addElement(40, 3);
    expect(h.takeOutputWithTimestamps()).toEqual([{ value: 3000, timestamp: 2 }, { value: 4000, timestamp: 3 }]);
  });

  it('processes records behind the watermark, counts them, and routes emissions behind the output watermark to late()', () => {
    const h = harness((input: Stream<number>) => {
      const out = input.keyBy(() => 'k').process<string>({
        onRecord(v, ctx) {
          const behind = ctx.timestamp <= ctx.watermark;
          ctx.emit(`${v}${behind ? ' (behind)' : ''}`);
          if (behind) ctx.emit(`${v} moved ahead`, ctx.watermark + 1);
        },
      });
      return out.union(out.late().map((l) => `late ${l.value} at ${l.timestamp} key ${String(l.key)} wm ${l.watermark}`));
    });
    h.addElement(1, 10);
    h.advanceWatermarkTo(20);
    h.addElement(2, 15);
    h.addElement(3, 25);
    expect(h.takeOutputWithTimestamps()).toEqual([
      { value: '1', timestamp: 10 },
      { value: '2 moved ahead', timestamp: 21 },
      { value: 'late 2 (behind) at 15 key k wm 20', timestamp: 15 },
      { value: '3', timestamp: 25 },
    ]);
    const op = h.summary().operators['process#2'] as Record<string, number>;
    expect(op['behindWatermark']).toBe(1);
    expect(op['lateOutputs']).toBe(1);
    expect(op['accepted']).toBe(3);
  });

  it('holds the output watermark: a probe downstream sees each timer output before the watermark passes it', async () => {
    const log = newLog();
    const out: unknown[] = [];
    const p = new Pipeline({ maxFutureSkew: false });
    const src = TestStream.create<number>()
      .addElements({ value: 1, timestamp: 1 }, { value: 2, timestamp: 2 })
      .advanceWatermarkTo(5)
      .addElements({ value: 3, timestamp: 6 })
      .advanceWatermarkTo(50)
      .advanceWatermarkTo(200)
      .advanceWatermarkToInfinity();
    const processed = p.source(src, { name: 'src' }).keyBy((v) => v % 2).process<number>({
      onRecord(v, ctx) {
        ctx.timers.registerEventTime(ctx.timestamp + 40 * v);
      },
      onTimer(t, ctx) {
        ctx.emit(t.timestamp);
      },
    }, { name: 'op' });
    tap(processed, log).sink(collect(out));
    const summary = await p.run();
    expect(out).toEqual([41, 82, 126]);
    expect(log.behind).toEqual([]);
    expect(log.watermarks).toEqual([5, 50, 200, Infinity]);
    expect(summary.operators['op']?.['keys']).toBe(0);
  });

  it('reports the operator watermark held below a pending timer', () => {
    const h = harness((input: Stream<number>) =>
      input.keyBy(() => 'k').process<number>({
        onRecord(_v, ctx) {
          ctx.timers.registerEventTime(30);
        },
        onTimer(t, ctx) {
          ctx.emit(t.timestamp);
        },
      }, { name: 'op' }));
    h.addElement(0, 1);
    h.advanceWatermarkTo(29);
    expect(h.summary().operators['op']?.watermark).toBe(29);
    expect(h.summary().operators['op']?.['timers']).toBe(1);
    h.advanceWatermarkTo(40);
    expect(h.takeOutputWithTimestamps()).toEqual([{ value: 30, timestamp: 30 }]);
    expect(h.summary().operators['op']?.watermark).toBe(40);
  });
});

describe('keyed.process: errors', () => {
  it('validates the function when the plan is built', () => {
    const p = new Pipeline();
    const k = p.source(TestStream.create<number>(), { name: 's' }).keyBy(() => 'k');
    expect(() => k.process({} as never)).toThrow(/tidemark\.process: expected onRecord to be a function/);
    expect(() => k.process({ onRecord() {}, onTimer: 3 } as never)).toThrow(/onTimer/);
    expect(() => k.process({ onRecord() {}, state: { x: 1 } } as never)).toThrow(/state 'x' must be a descriptor/);
    expect(() => k.process({ onRecord() {}, ttl: -5 })).toThrow(/ttl must be positive/);
    expect(() => k.connect(3 as never)).toThrow(/tidemark\.connect/);
  });

  it('dead-letters records whose onRecord throws with onError: dead-letter (conservation holds)', () => {
    const h = harness((input: Stream<number>) =>
      input.keyBy(() => 'k').process<number>({
        onRecord(v, ctx) {
          if (v < 0) throw new Error('negative');
          ctx.emit(v);
        },
      }, { name: 'op', onError: 'dead-letter' }));
    h.addElement(1, 1);
    h.addElement(-1, 2);
    expect(h.takeOutput()).toEqual([1]);
    expect(h.takeDeadLetters().map((d: DeadLetter) => [d.value, d.reason])).toEqual([[-1, 'process onRecord threw: Error: negative']]);
    const op = h.summary().operators['op'] as Record<string, number>;
    expect(op['in']).toBe(op['accepted']! + op['tooLate']! + op['deadLettered']!);
  });

  it('fails the run on a throwing onTimer, an invalid timer or emit timestamp', () => {
    const mk = (onTimer: () => void, onRecord: (ctx: { timers: { registerEventTime(t: number): void }; emit(v: number, t?: number): void }) => void = (ctx) => ctx.timers.registerEventTime(5)) =>
      harness((input: Stream<number>) => input.keyBy(() => 'k').process<number>({ onRecord: (_v, ctx) => onRecord(ctx), onTimer }, { name: 'op' }));
    const a = mk(() => {
      throw new Error('boom');
    });
    a.addElement(1, 1);
    expect(() => a.advanceWatermarkTo(10)).toThrow(UserFunctionError);
    expect(() => mk(() => {}, (ctx) => ctx.timers.registerEventTime(1.5)).addElement(1, 1)).toThrow(/registerEventTime: 1.5 is not a valid event timestamp/);
    expect(() => mk(() => {}, (ctx) => ctx.emit(1, NaN)).addElement(1, 1)).toThrow(/ctx\.emit: timestamp NaN/);
  });
});

describe('keyed.connect(broadcast).process', () => {
  interface Rule {
    page: string;
    max: number;
  }

  async function runRules(clicks: TestStream<Click>, rules: TestStream<Rule>): Promise<{ out: unknown[]; summary: Awaited<ReturnType<Pipeline['run']>> }> {
    const p = new Pipeline({ clock: new ManualClock(0) });
    const out: unknown[] = [];
    const ruleStream = p.source(rules, { name: 'rules' }).broadcast();
    p.source(clicks, { name: 'clicks' }).keyBy((x) => x.user).connect(ruleStream)
      .process<string, { n: ReturnType<typeof mapState<string, number>> }, string, number>({
        state: { n: mapState<string, number>() },
        onBroadcast(rule, ctx) {
          ctx.broadcast.set(rule.page, rule.max);
          ctx.emit(`rule ${rule.page}<=${rule.max}`);
        },
        onRecord(click, ctx) {
          const n = (ctx.state.n.get(click.page) ?? 0) + 1;
          ctx.state.n.set(click.page, n);
          const max = ctx.broadcast.get(click.page);
          if (max !== undefined && n > max) ctx.emit(`${ctx.key} over ${click.page} (${n}>${max}) at ${ctx.timestamp}`);
        },
      }, { name: 'op' })
      .sink(collect(out));
    return { out, summary: await p.run() };
  }

  it('applies broadcast elements and keyed records in event-time order once the combined watermark passes them', async () => {
    const clicks = TestStream.create<Click>()
      .addElements({ value: c('a', 'home'), timestamp: 10 }, { value: c('a', 'home'), timestamp: 20 }, { value: c('b', 'home'), timestamp: 20 })
      .advanceWatermarkTo(25)
      .addElements({ value: c('a', 'home'), timestamp: 30 }, { value: c('b', 'home'), timestamp: 40 })
      .advanceWatermarkToInfinity();
    const rules = TestStream.create<Rule>()
      .addElements({ value: { page: 'home', max: 1 }, timestamp: 20 }, { value: { page: 'home', max: 5 }, timestamp: 35 })
      .advanceWatermarkToInfinity();
    const { out, summary } = await runRules(clicks, rules);
    // The rule at 20 applies before the records at 20 (broadcast first at equal times); the rule
    // at 35 lifts the limit before b's second click at 40.
    expect(out).toEqual(['rule home<=1', 'a over home (2>1) at 20', 'a over home (3>1) at 30', 'rule home<=5']);
    const op = summary.operators['op'] as Record<string, number>;
    expect([op['keys'], op['buffered'], op['broadcastEntries'], op['timers']]).toEqual([0, 0, 0, 0]);
    expect(op['accepted']).toBe(7);
    expect(op['in']).toBe(op['accepted']! + op['tooLate']! + op['deadLettered']!);
  });

  it('gives the same result whichever input arrives first', async () => {
    const clicks = () => TestStream.create<Click>()
      .addElements({ value: c('a'), timestamp: 5 }, { value: c('a'), timestamp: 15 }, { value: c('a'), timestamp: 25 })
      .advanceWatermarkTo(30)
      .advanceWatermarkToInfinity();
    const rulesEarly = TestStream.create<Rule>().addElements({ value: { page: 'home', max: 1 }, timestamp: 12 }).advanceWatermarkToInfinity();
    const rulesLate = TestStream.create<Rule>().advanceWatermarkTo(11).advanceWatermarkTo(11).advanceWatermarkTo(11)
      .addElements({ value: { page: 'home', max: 1 }, timestamp: 12 }).advanceWatermarkToInfinity();
    const a = await runRules(clicks(), rulesEarly);
    const b = await runRules(clicks(), rulesLate);
    expect(a.out).toEqual(['rule home<=1', 'a over home (2>1) at 15', 'a over home (3>1) at 25']);
    expect(b.out).toEqual(a.out);
  });

  it('holds keyed records until the broadcast input\'s watermark passes them; late broadcast elements apply at once', async () => {
    const p = new Pipeline({ clock: new ManualClock(0) });
    const out: unknown[] = [];
    const log = newLog();
    const rules = TestStream.create<number>()
      .addElements({ value: 1, timestamp: 50 })
      .advanceWatermarkTo(60)
      .addElements({ value: 2, timestamp: 55 }) // behind the rules watermark: applied at once
      .advanceWatermarkToInfinity();
    const clicks = TestStream.create<Click>()
      .addElements({ value: c('a'), timestamp: 10 }, { value: c('a'), timestamp: 70 })
      .advanceWatermarkTo(100)
      .advanceWatermarkToInfinity();
    const processed = p.source(clicks, { name: 'clicks' }).keyBy((x) => x.user)
      .connect(p.source(rules, { name: 'rules' }).broadcast())
      .process<string, Record<never, never>, string, number>({
        onBroadcast(v, ctx) {
          ctx.broadcast.set('v', v);
        },
        onRecord(_click, ctx) {
          ctx.emit(`${ctx.timestamp}: v=${ctx.broadcast.get('v')}`);
        },
      }, { name: 'op' });
    tap(processed, log).sink(collect(out));
    const summary = await p.run();
    expect(out).toEqual(['10: v=undefined', '70: v=2']);
    expect(log.behind).toEqual([]);
    expect(summary.operators['op']?.['behindWatermark']).toBe(1);
  });

  it('dead-letters a broadcast element whose onBroadcast throws with onError: dead-letter', async () => {
    const p = new Pipeline({ clock: new ManualClock(0) });
    const dead: DeadLetter[] = [];
    const out: unknown[] = [];
    const rules = TestStream.create<number>().addElements({ value: -1, timestamp: 1 }, { value: 4, timestamp: 2 }).advanceWatermarkToInfinity();
    const clicks = TestStream.create<Click>().addElements({ value: c('a'), timestamp: 3 }).advanceWatermarkToInfinity();
    p.source(clicks, { name: 'clicks' }).keyBy((x) => x.user).connect(p.source(rules, { name: 'rules' }).broadcast())
      .process<unknown, Record<never, never>, string, number>({
        onBroadcast(v, ctx) {
          if (v < 0) throw new Error('bad rule');
          ctx.broadcast.set('v', v);
        },
        onRecord(_x, ctx) {
          ctx.emit(ctx.broadcast.get('v'));
        },
      }, { name: 'op', onError: 'dead-letter' })
      .sink(collect(out));
    p.deadLetters().sink(collect(dead));
    const summary = await p.run();
    expect(out).toEqual([4]);
    expect(dead.map((d) => d.reason)).toEqual(['process onBroadcast threw: Error: bad rule']);
    const op = summary.operators['op'] as Record<string, number>;
    expect([op['in'], op['accepted'], op['deadLettered']]).toEqual([3, 2, 1]);
  });
});

