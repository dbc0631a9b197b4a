/**
 * What travels through a repartition stream: records `{ o, v, t }` (origin partition, value,
 * event time) and watermark markers `{ o, w }` (origin partition, its watermark), msgpack-encoded.
 * Each origin sends its markers to every partition, so a reader takes the minimum over origins.
 */

/** A record handed over by the task of partition `o`. */
export interface RepartitionRecord {
  readonly o: number;
  readonly v: unknown;
  readonly t: number;
}

/** The watermark `w` of the upstream task of partition `o` (`Infinity`: it has ended). */
export interface RepartitionMarker {
  readonly o: number;
  readonly w: number;
}

/** One message to publish: the partition, the message id (for de-duplication) and the payload. */
export interface RepartitionMessage {
  readonly q: number;
  readonly id: string;
  readonly m: RepartitionRecord | RepartitionMarker;
}

/** The stream of the repartition at keyBy `name` of application `app` (subjects `<stream>.<partition>`). */
export function repartitionStream(app: string, name: string): string {
  return `${app}-repartition-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** Classifies a decoded payload (`undefined`: neither shape). */
export function classify(x: unknown, partitions: number): RepartitionRecord | RepartitionMarker | undefined {
  if (x === null || typeof x !== 'object') return undefined;
  const m = x as Record<string, unknown>;
  const o = m['o'];
  if (typeof o !== 'number' || !Number.isInteger(o) || o < 0 || o >= partitions) return undefined;
  if (typeof m['w'] === 'number' && !('v' in m)) return { o, w: m['w'] };
  if (typeof m['t'] === 'number' && 'v' in m) return { o, v: m['v'], t: m['t'] };
  return undefined;
}
