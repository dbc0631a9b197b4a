/**
 * Compile-time checks of the process-function API (this file must type-check; the assertions
 * with `@ts-expect-error` must stay errors), plus the plan-time checks of broadcast state.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { Pipeline, type Stream, outputTag } from 'tidemark';
import { TestStream } from 'tidemark/testing';
import { type ProcessStream, listState, mapState, valueState } from 'tidemark';

interface Click {
  user: string;
  page: string;
  ts: number;
}

describe('process function types', () => {
  it('types ctx.state per descriptor, ctx.key by the key, outputs by the type argument', () => {
    const p = new Pipeline();
    const clicks: Stream<Click> = p.source(TestStream.create<Click>(), { name: 'clicks' });
    const alerts = outputTag<{ user: string }>('alerts');
    const state = { seen: valueState<number>(), recent: listState<Click>(), byPage: mapState<string, number>() };
    const out = clicks.keyBy((c) => c.user).process<{ user: string; n: number }, typeof state>({
      state,
      onRecord(click, ctx) {
        expectTypeOf(ctx.key).toEqualTypeOf<string>();
        expectTypeOf(ctx.state.seen.get()).toEqualTypeOf<number | undefined>();
        expectTypeOf(ctx.state.recent.get()).toEqualTypeOf<readonly Click[]>();
        expectTypeOf(ctx.state.byPage.get('x')).toEqualTypeOf<number | undefined>();
        // @ts-expect-error -- a number state holds numbers
        ctx.state.seen.set('one');
        // @ts-expect-error -- no such state
        ctx.state.missing.get();
        // @ts-expect-error -- outputs are { user, n }
        ctx.emit('text');
        // @ts-expect-error -- the side output carries { user }
        ctx.output(alerts, 3);
        ctx.output(alerts, { user: click.user });
        ctx.emit({ user: ctx.key, n: ctx.state.seen.get() ?? 0 });
      },
      onTimer(timer, ctx) {
        expectTypeOf(timer.domain).toEqualTypeOf<'event-time' | 'processing-time'>();
        ctx.state.recent.clear();
      },
    });
    expectTypeOf(out).toEqualTypeOf<ProcessStream<{ user: string; n: number }, string>>();
    expectTypeOf(out.late()).toMatchTypeOf<Stream<{ value: { user: string; n: number }; timestamp: number; key: string | undefined; watermark: number }>>();
    expectTypeOf(out.sideOutput(alerts)).toEqualTypeOf<Stream<{ user: string }>>();
  });

  it('infers state and broadcast-state types without type arguments', () => {
    const p = new Pipeline();
    const clicks = p.source(TestStream.create<Click>(), { name: 'clicks' });
    const limits = p.source(TestStream.create<{ page: string; max: number }>(), { name: 'limits' });
    clicks.keyBy((c) => [c.user, c.page] as const).connect(limits.broadcast()).process({
      state: { n: valueState<number>() },
      broadcastState: mapState<string, number>(),
      onBroadcast(limit, ctx) {
        ctx.broadcast.set(limit.page, limit.max);
        // @ts-expect-error -- broadcast values are numbers
        ctx.broadcast.set(limit.page, 'x');
      },
      onRecord(click, ctx) {
        expectTypeOf(ctx.key).toEqualTypeOf<readonly [string, string]>();
        expectTypeOf(ctx.broadcast.get(click.page)).toEqualTypeOf<number | undefined>();
        expectTypeOf(ctx.state.n.get()).toEqualTypeOf<number | undefined>();
        // @ts-expect-error -- keyed records read broadcast state; only onBroadcast writes it
        ctx.broadcast.set('x', 1);
      },
    });
  });

  it('rejects bad broadcast state when the plan is built', () => {
    const p = new Pipeline();
    const k = p.source(TestStream.create<number>(), { name: 'n' }).keyBy(() => 'k');
    const b = p.source(TestStream.create<number>(), { name: 'b' }).broadcast();
    expect(() => k.connect(b).process({ onRecord() {} } as never)).toThrow(/onBroadcast/);
    expect(() => k.connect(b).process({ onRecord() {}, onBroadcast() {}, broadcastState: mapState({ ttl: 5 }) })).toThrow(/no TTL/);
    expect(() => k.connect(b).process({ onRecord() {}, onBroadcast() {}, broadcastState: valueState() as never })).toThrow(/mapState/);
  });
});
