/**
 * Shared generators for property tests: random window specs, records and arrival scenarios, and
 * the bridge from a reference-model spec to the engine's API.
 */
import fc from 'fast-check';
import { type Aggregate, type Stream, globalWindow, session, sliding, tumbling } from 'tidemark';
import { type RefStep, type RefWindowing, disorderedArrivals, withWatermarks } from 'tidemark/testing';

export interface Rec {
  readonly id: number;
  readonly k: number;
  readonly gap: number;
}

/** Sorted list of record ids: order-insensitive, so every grouping of merges gives the same result. */
export const ids: Aggregate<Rec, number[], number[]> = {
  create: () => [],
  add: (a, r) => {
    a.push(r.id);
    return a;
  },
  merge: (a, b) => {
    for (const x of b) a.push(x);
    return a;
  },
  result: (a) => a.slice().sort((x, y) => x - y),
};

export const windowing: fc.Arbitrary<RefWindowing<Rec>> = fc.oneof(
  fc.integer({ min: 1, max: 20 }).chain((size) =>
    fc.integer({ min: -(size - 1), max: size - 1 }).map((offset): RefWindowing<Rec> => ({ kind: 'tumbling', size, offset }))),
  fc.integer({ min: 1, max: 20 }).chain((slide) =>
    fc.integer({ min: slide, max: 3 * slide + 7 }).chain((size) =>
      fc.integer({ min: -(slide - 1), max: slide - 1 }).map((offset): RefWindowing<Rec> => ({ kind: 'sliding', size, slide, offset })))),
  fc.integer({ min: 1, max: 15 }).map((gap): RefWindowing<Rec> => ({ kind: 'session', gap })),
  fc.constant<RefWindowing<Rec>>({ kind: 'session', gap: (r: Rec) => r.gap }),
  // Capped sessions (maxSessionLength): cut at multiples of maxLength.
  fc.integer({ min: 1, max: 15 }).chain((gap) => fc.integer({ min: gap + 1, max: gap + 30 }).map((maxLength): RefWindowing<Rec> => ({ kind: 'session', gap, maxLength }))),
  fc.integer({ min: 2, max: 40 }).map((maxLength): RefWindowing<Rec> => ({ kind: 'session', gap: (r: Rec) => r.gap, maxLength })),
  fc.constant<RefWindowing<Rec>>({ kind: 'global' }),
);

/** The engine's assigner for a reference windowing. */
export function assignerOf(w: RefWindowing<Rec>) {
  switch (w.kind) {
    case 'tumbling':
      return tumbling(w.size, { offset: w.offset ?? 0 });
    case 'sliding':
      return sliding(w.size, w.slide, { offset: w.offset ?? 0 });
    case 'session':
      return session<Rec>(w.gap, w.maxLength === undefined ? {} : { maxSessionLength: w.maxLength });
    case 'global':
      return globalWindow();
  }
}

export const records = (maxKeys: number, maxLength = 40, minLength = 0): fc.Arbitrary<{ value: Rec; timestamp: number }[]> =>
  fc.array(
    fc.record({ t: fc.integer({ min: -60, max: 60 }), k: fc.integer({ min: 0, max: maxKeys - 1 }), gap: fc.integer({ min: 1, max: 12 }) }),
    { minLength, maxLength },
  ).map((rs) => rs.map((r, id) => ({ value: { id, k: r.k, gap: r.gap }, timestamp: r.t })));

/** Arrival scenarios whose disorder may exceed the bound used for watermarks (so some records are late). */
export const lateScenario = fc.record({
  recs: records(3, 40, 4),
  maxDelay: fc.integer({ min: 0, max: 60 }),
  bound: fc.integer({ min: 0, max: 8 }),
}).chain(({ recs, maxDelay, bound }) =>
  disorderedArrivals(recs, maxDelay).chain((arrival) => withWatermarks(arrival, bound)));

/**
 * Builds the pipeline fragment for a spec. `perWindowState` selects the triggered operators (the
 * `onTime: 'if-non-empty'` trigger changes nothing without early panes, but leaves the
 * shared-pane fast path), so both implementations answer to the same reference.
 */
export function windowPipeline(w: RefWindowing<Rec>, allowedLateness: number, accumulation: 'accumulating' | 'discarding', perWindowState = false) {
  const trigger = perWindowState ? { trigger: { onTime: 'if-non-empty' as const } } : {};
  return (input: Stream<Rec>) =>
    input.keyBy((r) => r.k).window(assignerOf(w), { allowedLateness, accumulation, ...trigger }).aggregate(ids, { name: 'w' });
}

export type Steps = RefStep<Rec>[];

/** Allowed lateness: often 0, otherwise small. */
export const lateness = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 15 }));
