/**
 * The fair share of partitions among the live instances of an application: a pure decision, made
 * by each instance on every lease round from what it read (members and lease owners). With N
 * instances (those heartbeating, plus any that still hold a lease), each aims at between
 * floor(P/N) and ceil(P/N) partitions: an instance below the floor claims free partitions; one
 * at the floor claims up to the ceiling only while nobody is below the floor; one above the
 * ceiling releases the excess, and one above the floor releases a partition while another is
 * starved and there are not enough free partitions for it. Instances decide independently, and
 * compare-and-set settles races, so the shares converge within a few rounds. An instance that is
 * *failing* (cooling down after a failed task, as its heartbeat says) does not count: the others
 * share the partitions as if it were absent — so a partition it keeps failing is taken by a
 * healthy instance above its share — while what it still owns stays counted as owned.
 */

/** What an instance knows on one round. */
export interface ShareInput {
  readonly partitions: number;
  /** This instance. */
  readonly me: string;
  /** Instances with a live heartbeat (including `me`). */
  readonly members: readonly string[];
  /** The live owner of each partition (`undefined`: free). */
  readonly owners: readonly (string | undefined)[];
  /** Partitions this instance must not claim now (being released, or cooling down after a failure). */
  readonly blocked?: ReadonlySet<number>;
  /** Other instances reporting failures: left out of the share (they are neither counted nor starved). */
  readonly failing?: ReadonlySet<string>;
}

/** What to do this round. */
export interface ShareDecision {
  readonly claim: readonly number[];
  readonly release: readonly number[];
}

/**
 * Decides which free partitions `me` claims and which of its own it releases.
 *
 * @example
 * fairShare({ partitions: 4, me: 'b', members: ['a', 'b'], owners: ['a', 'a', 'a', 'a'] }); // { claim: [], release: [] } — 'a' releases two
 */
export function fairShare(input: ShareInput): ShareDecision {
  const { partitions: P, me, owners } = input;
  const everyone = new Set<string>(input.members);
  everyone.add(me);
  for (const o of owners) if (o !== undefined) everyone.add(o);
  const sorted = [...everyone].sort();
  const healthy = (m: string): boolean => m === me || input.failing?.has(m) !== true;
  const n = sorted.filter(healthy).length;
  const lo = Math.floor(P / n);
  const hi = Math.ceil(P / n);
  const counts = new Map<string, number>(sorted.map((m) => [m, 0]));
  const mine: number[] = [];
  const free: number[] = [];
  for (let p = 0; p < P; p++) {
    const o = owners[p];
    if (o === undefined) {
      if (input.blocked?.has(p) !== true) free.push(p);
      continue;
    }
    counts.set(o, (counts.get(o) ?? 0) + 1);
    if (o === me) mine.push(p);
  }
  let deficit = 0;
  for (const [m, c] of counts) if (m !== me && healthy(m) && c < lo) deficit += lo - c;
  const have = mine.length;
  if (have > hi) return { claim: [], release: mine.slice(hi) };
  if (have > lo && deficit > free.length) return { claim: [], release: mine.slice(have - 1) };
  const want = have < lo ? lo - have : have < hi && deficit === 0 ? hi - have : 0;
  if (want === 0 || free.length === 0) return { claim: [], release: [] };
  // Instances start their search at different partitions, so that they rarely race for one.
  const index = sorted.indexOf(me);
  const order = [...free].sort((a, b) => rotate(a, index, n) - rotate(b, index, n) || a - b);
  return { claim: order.slice(0, want), release: [] };
}

function rotate(p: number, index: number, n: number): number {
  return (((p - index) % n) + n) % n;
}
