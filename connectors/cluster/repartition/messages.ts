/**
 * What travels through a repartition stream: records `{ o, k, n, v, t }` (origin partition, the
 * origin task's fencing token, the origin's record counter, value, event time) and watermark
 * markers `{ o, k, w }` (origin partition, token, its watermark) and idleness markers
 * `{ o, k, i }` (the origin's input is idle, or active again), msgpack-encoded. Each origin
 * sends its markers to every partition, so a reader takes the minimum over origins. A reader drops
 * a record whose `n` it has already passed for that origin, or whose token is older than one it
 * has seen (a zombie's): de-duplication that does not depend on JetStream's duplicate window.
 */

/** A record handed over by the task of partition `o`. */
export interface RepartitionRecord {
  readonly o: number;
  /** The origin task's fencing token (its lease's). */
  readonly k: number;
  /** The origin's record counter (checkpointed with the hand-off; the same on a replay). */
  readonly n: number;
  readonly v: unknown;
  readonly t: number;
}

/** The watermark `w` of the upstream task of partition `o` (`Infinity`: it has ended). */
export interface RepartitionMarker {
  readonly o: number;
  readonly k: number;
  readonly w: number;
}

/** The upstream task of partition `o` turned idle (`i: true`: leave it out of the minimum) or active. */
export interface RepartitionIdle {
  readonly o: number;
  readonly k: number;
  readonly i: boolean;
}

/** One message to publish: the partition, the message id (for de-duplication) and the payload. */
export interface RepartitionMessage {
  readonly q: number;
  readonly id: string;
  readonly m: RepartitionRecord | RepartitionMarker | RepartitionIdle;
}

/** The stream of the repartition at keyBy `name` of application `app` (subjects `<stream>.<partition>`). */
export function repartitionStream(app: string, name: string): string {
  return `${app}-repartition-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** Classifies a decoded payload (`undefined`: neither shape). */
export function classify(x: unknown, partitions: number): RepartitionRecord | RepartitionMarker | RepartitionIdle | undefined {
  if (x === null || typeof x !== 'object') return undefined;
  const m = x as Record<string, unknown>;
  const o = m['o'];
  const k = m['k'];
  if (typeof o !== 'number' || !Number.isInteger(o) || o < 0 || o >= partitions || typeof k !== 'number') return undefined;
  if (typeof m['w'] === 'number' && !('v' in m)) return { o, k, w: m['w'] };
  if (typeof m['i'] === 'boolean' && !('v' in m)) return { o, k, i: m['i'] };
  if (typeof m['t'] === 'number' && typeof m['n'] === 'number' && 'v' in m) return { o, k, n: m['n'], v: m['v'], t: m['t'] };
  return undefined;
}
