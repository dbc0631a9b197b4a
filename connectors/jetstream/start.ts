/**
 * Where a JetStream read starts: `from` (earliest, latest, a sequence, a time or stored positions)
 * validated when the source is built and resolved, when it opens, into one position per
 * partition — the last stream sequence already consumed, so reading starts just after it.
 */
import { AckPolicy, DeliverPolicy, type JetStreamManager } from '@nats-io/jetstream';
import { PlanError } from '../../engine/errors.js';

/**
 * Where to start reading.
 * - `'earliest'`: the first retained message; `'latest'`: only messages stored after the source opens;
 * - `{ sequence }`: the first message at or after this stream sequence;
 * - `{ time }`: the first message stored at or after this time (epoch ms, `Date` or ISO string);
 * - `{ positions }`: resume after the positions a previous run reported (`positions()`), one per
 *   partition (the last sequence consumed); a partition missing from it starts at the earliest.
 */
export type JetStreamStart =
  | 'earliest'
  | 'latest'
  | { readonly sequence: number }
  | { readonly time: number | Date | string }
  | { readonly positions: Readonly<Record<number, number>> };

/** A validated start. */
export type ResolvedStart =
  | { readonly kind: 'earliest' | 'latest' }
  | { readonly kind: 'sequence'; readonly sequence: number }
  | { readonly kind: 'time'; readonly time: Date }
  | { readonly kind: 'positions'; readonly positions: ReadonlyMap<number, number> };

/** Validates `from` against the source's partitions (eagerly, at build time). */
export function checkStart(from: unknown, partitions: readonly number[], where: string): ResolvedStart {
  if (from === undefined || from === 'earliest') return { kind: 'earliest' };
  if (from === 'latest') return { kind: 'latest' };
  if (from !== null && typeof from === 'object') {
    const o = from as Record<string, unknown>;
    if ('sequence' in o) {
      const s = o['sequence'];
      if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 1) throw new PlanError(`${where}: from.sequence must be an integer ≥ 1, got ${String(s)}`);
      return { kind: 'sequence', sequence: s };
    }
    if ('time' in o) {
      const t = o['time'];
      const date = t instanceof Date ? t : typeof t === 'number' || typeof t === 'string' ? new Date(t) : undefined;
      if (date === undefined || Number.isNaN(date.getTime())) throw new PlanError(`${where}: from.time must be epoch ms, a Date or an ISO-8601 string, got ${String(t)}`);
      return { kind: 'time', time: date };
    }
    if ('positions' in o) {
      const p = o['positions'];
      if (p === null || typeof p !== 'object') throw new PlanError(`${where}: from.positions must be an object { [partition]: sequence }`);
      const positions = new Map<number, number>();
      for (const [k, v] of Object.entries(p)) {
        const id = Number(k);
        if (!partitions.includes(id)) throw new PlanError(`${where}: from.positions names partition ${k}, which is not one of this source's partitions (${partitions.join(', ')})`);
        if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new PlanError(`${where}: from.positions[${k}] must be a stream sequence (an integer ≥ 0), got ${String(v)}`);
        positions.set(id, v);
      }
      return { kind: 'positions', positions };
    }
  }
  throw new PlanError(`${where}: from must be 'earliest', 'latest', { sequence }, { time } or { positions }, got ${JSON.stringify(from) ?? typeof from}`);
}

/** The position (last sequence consumed) of each partition, resolved against the live stream. */
export async function startPositions(
  start: ResolvedStart,
  partitions: readonly number[],
  jsm: JetStreamManager,
  stream: string,
  lastSeq: number,
): Promise<Map<number, number>> {
  const all = (seq: number): Map<number, number> => new Map(partitions.map((p) => [p, seq]));
  switch (start.kind) {
    case 'earliest':
      return all(0);
    case 'latest':
      return all(lastSeq);
    case 'sequence':
      return all(start.sequence - 1);
    case 'positions':
      return new Map(partitions.map((p) => [p, start.positions.get(p) ?? 0]));
    case 'time': {
      // The server resolves a start time to a stream sequence when it creates a consumer; a
      // throwaway consumer reports it (`delivered.stream_seq` is the sequence just before).
      const ci = await jsm.consumers.add(stream, {
        ack_policy: AckPolicy.None,
        deliver_policy: DeliverPolicy.StartTime,
        opt_start_time: start.time.toISOString(),
        mem_storage: true,
        inactive_threshold: 10_000_000_000,
      });
      await jsm.consumers.delete(stream, ci.name).catch(() => undefined);
      return all(ci.delivered.stream_seq);
    }
  }
}
