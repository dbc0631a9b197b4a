/**
 * Type tests: types flow through the whole chain, and ill-formed pipelines do not compile
 * (checked by `tsc --noEmit`, which `npm test` runs before the suite; the `@ts-expect-error` lines
 * fail the type check if the error they expect disappears).
 */
import { describe, expectTypeOf, it } from 'vitest';
import {
  type DeadLetter, type KeyedStream, type LateRecord, type Stream, type WindowResult, type WindowStream,
  Pipeline, count, fromArray, mean, reduce, session, sum, toList, tumbling,
} from 'tidemark';
import { harness } from 'tidemark/testing';

interface Click {
  user: string;
  page: string;
  ts: number;
  ms: number;
}

describe('types flow through the chain', () => {
  it('infers record, key and result types', () => {
    const p = new Pipeline();
    const clicks = p.source(fromArray<Click>([]), { timestamp: (c) => c.ts });
    expectTypeOf(clicks).toEqualTypeOf<Stream<Click>>();

    const pages = clicks.map((c) => ({ page: c.page, ms: c.ms }));
    expectTypeOf(pages).toEqualTypeOf<Stream<{ page: string; ms: number }>>();

    const keyed = clicks.keyBy((c) => c.user);
    expectTypeOf(keyed).toEqualTypeOf<KeyedStream<string, Click>>();
    const pairs = clicks.keyBy((c) => [c.user, c.page] as const);
    expectTypeOf(pairs).toEqualTypeOf<KeyedStream<readonly [string, string], Click>>();

    const counts = keyed.window(tumbling(60_000)).aggregate(count());
    expectTypeOf(counts).toEqualTypeOf<WindowStream<string, Click, number>>();
    expectTypeOf(counts).toMatchTypeOf<Stream<WindowResult<string, number>>>();
    expectTypeOf(counts.late()).toEqualTypeOf<Stream<LateRecord<Click, string>>>();
    expectTypeOf(clicks.deadLetters()).toEqualTypeOf<Stream<DeadLetter>>();

    expectTypeOf(keyed.window(session(1000)).aggregate(toList())).toMatchTypeOf<Stream<WindowResult<string, Click[]>>>();
    expectTypeOf(keyed.window(session(1000)).aggregate(mean((c) => c.ms))).toMatchTypeOf<Stream<WindowResult<string, number>>>();
    expectTypeOf(keyed.window(tumbling(10)).aggregate(reduce((a, b) => (a.ms > b.ms ? a : b)))).toMatchTypeOf<Stream<WindowResult<string, Click>>>();

    const processed = keyed.window(tumbling(10)).process((user, w, records) => [{ user, n: records.length, w }]);
    expectTypeOf(processed).toMatchTypeOf<Stream<{ user: string; n: number; w: { start: number; end: number } }>>();

    const guarded = clicks.filter((c): c is Click & { page: 'home' } => c.page === 'home');
    expectTypeOf(guarded).toEqualTypeOf<Stream<Click & { page: 'home' }>>();

    const running = clicks.keyBy((c) => c.user).sortByEventTime().scan((n, c) => n + c.ms, 0);
    expectTypeOf(running).toEqualTypeOf<Stream<number>>();

    const h = harness((input: Stream<Click>) => input.keyBy((c) => c.page).window(tumbling(10)).aggregate(sum((c) => c.ms)));
    expectTypeOf(h.takeOutput()).toEqualTypeOf<WindowResult<string, number>[]>();
  });

  it('rejects ill-formed pipelines at compile time', () => {
    const p = new Pipeline();
    const clicks = p.source(fromArray<Click>([]), { timestamp: (c) => c.ts });
    const keyed = clicks.keyBy((c) => c.user);
    // @ts-expect-error — windows exist only on keyed streams
    expect(() => clicks.window(tumbling(10))).toThrow();
    // @ts-expect-error — .aggregate() needs .window() first
    expect(() => keyed.aggregate(count())).toThrow();
    // @ts-expect-error — keys are primitives or arrays of primitives
    clicks.keyBy((c) => ({ user: c.user }));
    // @ts-expect-error — the aggregate's input must match the stream's records
    keyed.window(tumbling(10)).aggregate(sum((r: { amount: number }) => r.amount));
    // @ts-expect-error — the timestamp extractor sees the source's record type
    p.source(fromArray<Click>([]), { timestamp: (c) => c.when });
  });
});

function expect(f: () => unknown): { toThrow(): void } {
  return {
    toThrow() {
      try {
        f();
      } catch {
        return;
      }
      throw new Error('expected a throw');
    },
  };
}
