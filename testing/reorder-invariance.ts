/**
 * `checkReorderInvariance`: the one-call property test a user points at their own pipeline. Any
 * arrival order within the disorder bound, with watermarks at random points, must produce the
 * same final results as the records in timestamp order.
 */
import fc from 'fast-check';
import type { Stream } from '../index.js';
import type { Timestamped } from './arbitraries.js';
import { canonical, finalResults } from './final-results.js';
import { harness } from './harness.js';
import type { RefStep } from './reference.js';

/** Options of `checkReorderInvariance`. */
export interface ReorderInvarianceOptions<T> {
  /** The records (value + timestamp), or an arbitrary that generates them. */
  readonly records: readonly Timestamped<T>[] | fc.Arbitrary<readonly Timestamped<T>[]>;
  /** The disorder bound: every arrival is ≥ the maximum timestamp so far minus this. */
  readonly maxDisorder: number;
  /** Number of arrival orders to try (default 100). */
  readonly numRuns?: number;
  /** Seed, for a reproducible run. */
  readonly seed?: number;
}

/**
 * An arrival order within the bound: record `i` is delayed by `delays[i mod n]` (≤ maxDisorder),
 * so every arrival is ≥ the maximum timestamp so far minus `maxDisorder`; after the `j`-th
 * arrival a watermark `maxSeen − maxDisorder − 1` goes in when `marks[j mod m]` is set.
 */
function arrivalSteps<T>(recs: readonly Timestamped<T>[], delays: readonly number[], marks: readonly boolean[], maxDisorder: number): RefStep<T>[] {
  const order = recs
    .map((r, i) => ({ r, i, at: r.timestamp + (delays[i % delays.length] as number) }))
    .sort((a, b) => a.at - b.at || a.i - b.i);
  const steps: RefStep<T>[] = [];
  let maxSeen = -Infinity;
  let lastW = -Infinity;
  order.forEach(({ r }, j) => {
    steps.push({ kind: 'record', value: r.value, timestamp: r.timestamp });
    if (r.timestamp > maxSeen) maxSeen = r.timestamp;
    const w = maxSeen - maxDisorder - 1;
    if (marks[j % marks.length] === true && w > lastW) {
      steps.push({ kind: 'watermark', time: w });
      lastW = w;
    }
  });
  return steps;
}

async function runSteps<T, R>(build: (input: Stream<T>) => Stream<R>, steps: readonly RefStep<T>[]): Promise<ReturnType<typeof finalResults>> {
  const h = harness(build);
  for (const s of steps) {
    if (s.kind === 'record') h.addElement(s.value, s.timestamp);
    else h.advanceWatermarkTo(s.time);
  }
  h.finish();
  await h.settle(); // asynchronous operators (asyncMap) finish their calls
  return finalResults(h.takeOutput());
}

function describeDiff(a: ReturnType<typeof finalResults>, b: ReturnType<typeof finalResults>): string | undefined {
  const lines: string[] = [];
  for (const [id, v] of a.windows) {
    const w = b.windows.get(id);
    if (w === undefined) lines.push(`window ${id}: expected ${v}, missing`);
    else if (w !== v) lines.push(`window ${id}: expected ${v}, got ${w}`);
  }
  for (const [id, w] of b.windows) if (!a.windows.has(id)) lines.push(`window ${id}: unexpected ${w}`);
  if (canonical(a.others) !== canonical(b.others)) lines.push(`other outputs differ: expected ${canonical(a.others)}, got ${canonical(b.others)}`);
  return lines.length === 0 ? undefined : lines.slice(0, 10).join('\n');
}

/**
 * Property check: for arrival orders within `maxDisorder` (and watermarks
 * `maxSeen − maxDisorder − 1` inserted at random points), the final result of every
 * (key, window) — its last pane, retractions applied — equals that of the same `build` run on
 * the records sorted by timestamp. Rejects with a shrunk counter-example on failure.
 *
 * @example
 * await checkReorderInvariance(
 *   (input: Stream<Click>) => input.keyBy((c) => c.user).window(session(30_000)).aggregate(count()),
 *   { records: clicks.map((c) => ({ value: c, timestamp: c.ts })), maxDisorder: 5_000 },
 * );
 */
export async function checkReorderInvariance<T, R>(
  build: (input: Stream<T>) => Stream<R>,
  options: ReorderInvarianceOptions<T>,
): Promise<void> {
  const { maxDisorder } = options;
  if (!(maxDisorder >= 0)) throw new RangeError('checkReorderInvariance: maxDisorder must be ≥ 0');
  const records: fc.Arbitrary<readonly Timestamped<T>[]> = Array.isArray(options.records)
    ? fc.constant(options.records as readonly Timestamped<T>[])
    : (options.records as fc.Arbitrary<readonly Timestamped<T>[]>);
  // Records, delays and watermark points are independent arbitraries combined with `map` (not
  // `chain`), so a failure shrinks all three: fewer records, smaller delays, fewer watermarks.
  const scenario = fc.tuple(
    records,
    fc.array(fc.nat({ max: maxDisorder }), { minLength: 1, maxLength: 64 }),
    fc.array(fc.boolean(), { minLength: 1, maxLength: 64 }),
  ).map(([recs, delays, marks]) => ({ recs, steps: arrivalSteps(recs, delays, marks, maxDisorder) }));
  const property = fc.asyncProperty(scenario, async ({ recs, steps }) => {
    const sorted = recs
      .map((r, i) => ({ r, i }))
      .sort((a, b) => a.r.timestamp - b.r.timestamp || a.i - b.i)
      .map(({ r }): RefStep<T> => ({ kind: 'record', value: r.value, timestamp: r.timestamp }));
    const expected = await runSteps(build, sorted);
    const actual = await runSteps(build, steps);
    const diff = describeDiff(expected, actual);
    if (diff !== undefined) throw new Error(`final results differ from the timestamp-ordered run:\n${diff}`);
  });
  const result = await fc.check(property, {
    numRuns: options.numRuns ?? 100,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  });
  if (!result.failed) return;
  const cause = result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
  const example = result.counterexample?.[0];
  const arrival = example === undefined ? '' : example.steps
    .map((s) => (s.kind === 'record' ? `${fc.stringify(s.value)}@${s.timestamp}` : `W=${s.time}`))
    .join(', ');
  throw new Error(
    `checkReorderInvariance: ${cause}\n` +
    `Counterexample (shrunk ${result.numShrinks} times; seed ${result.seed}, path "${result.counterexamplePath ?? ''}"):\n` +
    `  arrival order: ${arrival}`,
    { cause: result.errorInstance },
  );
}
