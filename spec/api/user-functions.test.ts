/**
 * User functions: a sync operator whose function returns a promise fails the run pointing to
 * asyncMap; a throwing function fails the run with an error naming the operator, its position and
 * the record's timestamp — or, with onError: 'dead-letter', routes the record to dead letters.
 */
import { describe, expect, it } from 'vitest';
import {
  ManualClock,
  Pipeline,
  TidemarkError,
  UserFunctionError,
  collect,
  count,
  fromArray,
  session,
  tumbling,
  type DeadLetter,
  type Stream,
} from 'tidemark';

type Click = { user: string; ts: number; n: number };
const clicks: Click[] = [
  { user: 'u1', ts: 1_000, n: 1 },
  { user: 'u2', ts: 2_000, n: 2 },
  { user: 'u1', ts: 3_000, n: 3 },
  { user: 'u3', ts: 4_000, n: 4 },
];

function pipe(batchSize = 1024) {
  const p = new Pipeline({ clock: new ManualClock(), batchSize });
  const s = p.source(fromArray(clicks), { timestamp: (c) => c.ts, name: 'clicks' });
  return { p, s };
}

async function failure(p: Pipeline): Promise<unknown> {
  try {
    await p.run();
  } catch (e) {
    return e;
  }
  throw new Error('expected the run to fail');
}

describe('sync operators whose function returns a promise', () => {
  const cases: [string, (s: Stream<Click>) => Stream<unknown>][] = [
    ['map', (s) => s.map(async (c) => c.n)],
    ['filter', (s) => s.filter(async (c) => c.n > 100)],
    ['flatMap', (s) => s.flatMap((async (c: Click) => [c]) as unknown as (c: Click) => Click[])],
    ['keyBy', (s) => s.keyBy((async (c: Click) => c.user) as unknown as (c: Click) => string)],
    ['scan', (s) => s.keyBy((c) => c.user).sortByEventTime().scan((async (a: number) => a) as unknown as (a: number, c: Click) => number, 0)],
  ];

  it.each(cases)('%s: the run fails with a message pointing to asyncMap, and no promise reaches the sink', async (op, build) => {
    const { p, s } = pipe();
    const out: unknown[] = [];
    build(s).sink(collect(out));
    const e = await failure(p);
    expect(e).toBeInstanceOf(UserFunctionError);
    expect((e as Error).message).toMatch(/asyncMap/);
    expect((e as Error).message).toMatch(new RegExp(op));
    expect(out.some((x) => x instanceof Promise)).toBe(false);
  });

  it('filter(async) fails rather than keeping every record (a promise is truthy)', async () => {
    const { p, s } = pipe();
    const out: Click[] = [];
    s.filter(async () => false).sink(collect(out));
    await expect(p.run()).rejects.toThrow(/asyncMap/);
    expect(out).toEqual([]);
  });
});

describe('a throwing user function fails the run, naming the operator, position and timestamp', () => {
  it('map with a name', async () => {
    const { p, s } = pipe();
    const boom = new Error('cannot parse u1 at 3000');
    s.filter((c) => c.n > 0, { name: 'nonEmpty' })
      .map((c) => {
        if (c.ts === 3_000) throw boom;
        return c;
      }, { name: 'parse' })
      .sink(collect([]));
    const e = await failure(p);
    expect(e).toBeInstanceOf(UserFunctionError);
    expect(e).toBeInstanceOf(TidemarkError);
    const err = e as UserFunctionError;
    expect(err.name).toBe('UserFunctionError');
    expect(err.operator).toBe('parse');
    expect(err.position).toBe('clicks → nonEmpty → parse');
    expect(err.timestamp).toBe(3_000);
    expect(err.cause).toBe(boom);
    expect(err.message).toMatch(/'parse'/);
    expect(err.message).toContain('clicks → nonEmpty → parse');
    expect(err.message).toMatch(/3000/);
    expect(err.message).toMatch(/cannot parse u1 at 3000/);
  });

  it('unnamed operators get a derived name that appears in the position', async () => {
    const { p, s } = pipe();
    s.map((c) => c).filter((c) => {
      if (c.n === 2) throw new TypeError('nope');
      return true;
    }).sink(collect([]));
    const err = (await failure(p)) as UserFunctionError;
    expect(err).toBeInstanceOf(UserFunctionError);
    expect(err.position.startsWith('clicks → ')).toBe(true);
    expect(err.position.endsWith(err.operator)).toBe(true);
    expect(err.operator).toMatch(/filter/);
    expect(err.timestamp).toBe(2_000);
    expect(err.message).toMatch(/TypeError: nope/);
  });

  it.each<[string, (s: Stream<Click>) => Stream<unknown>, string, number]>([
    ['flatMap', (s) => s.flatMap((c) => {
      if (c.n === 4) throw new Error('x');
      return [c];
    }, { name: 'explode' }), 'explode', 4_000],
    ['keyBy', (s) => s.keyBy((c) => {
      if (c.n === 1) throw new Error('x');
      return c.user;
    }, { name: 'byUser' }), 'byUser', 1_000],
    ['aggregate add', (s) => s.keyBy((c) => c.user).window(tumbling(10_000)).aggregate({
      create: () => 0,
      add: (a: number, c: Click) => {
        if (c.n === 3) throw new Error('x');
        return a + c.n;
      },
      merge: (a: number, b: number) => a + b,
      result: (a: number) => a,
    }, { name: 'sumN' }), 'sumN', 3_000],
    ['window process', (s) => s.keyBy((c) => c.user).window(tumbling(10_000), { name: 'perUser' }).process((user) => {
      if (user === 'u2') throw new Error('x');
      return [user];
    }), 'perUser', 9_999],
    ['session gap function', (s) => s.keyBy((c) => c.user).window(session((c: Click) => {
      if (c.n === 2) throw new Error('x');
      return 500;
    }), { name: 'sessions' }).aggregate(count()), 'sessions', 2_000],
  ])('%s', async (_, build, name, timestamp) => {
    const { p, s } = pipe();
    build(s).sink(collect([]));
    const err = (await failure(p)) as UserFunctionError;
    expect(err).toBeInstanceOf(UserFunctionError);
    expect(err.operator).toBe(name);
    expect(err.position).toMatch(new RegExp(`^clicks → .*${name}$`));
    expect(err.timestamp).toBe(timestamp);
    expect(err.message).toContain(name);
    expect(err.message).toContain(String(timestamp));
  });

  it('a failed run aborts its sinks and stops reading', async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => ({ user: 'u', ts: i, n: i }));
    const p = new Pipeline({ clock: new ManualClock(), batchSize: 10 });
    const out: number[] = [];
    let aborted: unknown;
    p.source(fromArray(many), { timestamp: (c) => c.ts, name: 'clicks' })
      .map((c) => {
        if (c.n === 25) throw new Error('stop');
        return c.n;
      })
      .sink({ kind: 'spy', write: (vs) => void out.push(...vs), abort: (e) => void (aborted = e) });
    const e = await failure(p);
    expect(aborted).toBe(e);
    expect(out.length).toBeLessThan(100);
  });
});

describe("onError: 'dead-letter'", () => {
  it.each([1, 1024])('routes the failing record to the operator dead letters; the run completes (batchSize %d)', async (batchSize) => {
    const { p, s } = pipe(batchSize);
    const out: number[] = [];
    const dead: DeadLetter[] = [];
    const all: DeadLetter[] = [];
    const parsed = s.map((c) => {
      if (c.n % 2 === 0) throw new Error(`even ${c.n}`);
      return c.n;
    }, { name: 'parse', onError: 'dead-letter' });
    parsed.sink(collect(out));
    parsed.deadLetters().sink(collect(dead));
    p.deadLetters().sink(collect(all));
    const summary = await p.run();
    expect(out).toEqual([1, 3]);
    expect(dead).toEqual([
      { value: clicks[1], reason: expect.stringMatching(/even 2/), operator: 'parse', timestamp: 2_000 },
      { value: clicks[3], reason: expect.stringMatching(/even 4/), operator: 'parse', timestamp: 4_000 },
    ]);
    expect(all).toEqual(dead);
    expect(summary.operators['parse']).toMatchObject({ in: 4, out: 2, deadLettered: 2 });
    expect(summary.deadLetters).toBe(2);
  });

  it('works for filter, flatMap and keyBy', async () => {
    const { p, s } = pipe();
    const out: string[] = [];
    const all: DeadLetter[] = [];
    p.deadLetters().sink(collect(all));
    s.filter((c) => {
      if (c.n === 1) throw new Error('f');
      return true;
    }, { name: 'f', onError: 'dead-letter' })
      .flatMap((c) => {
        if (c.n === 2) throw new Error('fm');
        return [c];
      }, { name: 'fm', onError: 'dead-letter' })
      .keyBy((c) => {
        if (c.n === 3) throw new Error('k');
        return c.user;
      }, { name: 'k', onError: 'dead-letter' })
      .map((c) => c.user)
      .sink(collect(out));
    await p.run();
    expect(out).toEqual(['u3']);
    // the order across operators is not specified; the set is
    expect(all.map((d) => [d.operator, d.timestamp]).sort((a, b) => (a[1] as number) - (b[1] as number))).toEqual([['f', 1_000], ['fm', 2_000], ['k', 3_000]]);
  });

  it('a promise-returning map is still an error under dead-letter (a programming error, not bad data)', async () => {
    const { p, s } = pipe();
    s.map(async (c) => c, { onError: 'dead-letter' }).sink(collect([]));
    await expect(p.run()).rejects.toThrow(/asyncMap/);
  });
});
