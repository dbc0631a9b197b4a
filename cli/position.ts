/**
 * Positions in a source's history, as `--from` and `--to` give them: the start or end of a log
 * (`earliest`, `latest`), an offset (`1234`), offsets per partition (`0:120,1:98`) or a point in
 * event time (an ISO-8601 instant such as `2024-05-01T00:00:00Z`, or `@<epoch ms>`). The command
 * line parses them once; a pipeline module turns them into its sources' options (see
 * `logStart`).
 */
import { UsageError } from './usage-error.js';

/** A parsed `--from` / `--to` value. */
export type Position =
  | { readonly kind: 'earliest' }
  | { readonly kind: 'latest' }
  | { readonly kind: 'offset'; readonly offset: number }
  | { readonly kind: 'offsets'; readonly offsets: Readonly<Record<number, number>> }
  | { readonly kind: 'time'; readonly time: number };

function offsetOf(text: string, flag: string, where: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new UsageError(`${where}: ${flag} offset must be a non-negative integer, got '${text}'`);
  return n;
}

/**
 * Parses a position (errors name the command and the flag).
 *
 * @example
 * parsePosition('2024-05-01T00:00:00Z', '--from', 'tidemark replay'); // { kind: 'time', time: 1714521600000 }
 * parsePosition('0:120,1:98', '--from', 'tidemark replay');          // { kind: 'offsets', offsets: { 0: 120, 1: 98 } }
 */
export function parsePosition(text: string, flag: string, where: string): Position {
  const t = text.trim();
  if (t === 'earliest' || t === 'latest') return { kind: t };
  if (/^\d+$/.test(t)) return { kind: 'offset', offset: offsetOf(t, flag, where) };
  if (t.startsWith('@')) {
    const ms = Number(t.slice(1));
    if (!/^-?\d+$/.test(t.slice(1)) || !Number.isSafeInteger(ms)) throw new UsageError(`${where}: ${flag} '@…' must be an integer number of epoch milliseconds, got '${text}'`);
    return { kind: 'time', time: ms };
  }
  if (/^\d+:\d+(,\d+:\d+)*$/.test(t)) {
    const offsets: Record<number, number> = {};
    for (const pair of t.split(',')) {
      const [p = '', o = ''] = pair.split(':');
      const partition = offsetOf(p, `${flag} partition`, where);
      if (partition in offsets) throw new UsageError(`${where}: ${flag} names partition ${partition} twice`);
      offsets[partition] = offsetOf(o, flag, where);
    }
    return { kind: 'offsets', offsets };
  }
  // An instant with a date and an explicit zone (Z or ±hh:mm): local times would be ambiguous.
  if (/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2}))?$/.test(t)) {
    const ms = Date.parse(t.length === 10 ? `${t}T00:00:00Z` : t);
    if (Number.isFinite(ms)) return { kind: 'time', time: ms };
  }
  throw new UsageError(
    `${where}: ${flag} must be earliest, latest, an offset (1234), offsets per partition (0:120,1:98), an ISO-8601 instant with a zone (2024-05-01T00:00:00Z) or @<epoch ms>; got '${text}'`,
  );
}

/**
 * A position as the embedded event log's `from` option (`log.source({ from: logStart(args.from) })`).
 * `undefined` (no `--from`) gives `'earliest'`.
 *
 * @example
 * const log = await EventLog.open(dir); p.source(log.source({ from: logStart(args.from) }), { name: 'orders' });
 */
export function logStart(position: Position | undefined): 'earliest' | 'latest' | number | { readonly [partition: number]: number } | { readonly timestamp: number } {
  if (position === undefined) return 'earliest';
  switch (position.kind) {
    case 'earliest':
    case 'latest':
      return position.kind;
    case 'offset':
      return position.offset;
    case 'offsets':
      return position.offsets;
    case 'time':
      return { timestamp: position.time };
  }
}

/**
 * Whether a record at `offset` (and event time `time`) lies before `to` (exclusive), so a module
 * can stop a replay there: `stream.filter((r) => before(args.to, { offset: r.offset, partition: r.partition, time: r.ts }))`.
 * No `to` (or `latest`) admits everything.
 */
export function before(to: Position | undefined, at: { readonly offset?: number; readonly partition?: number; readonly time?: number }): boolean {
  if (to === undefined) return true;
  switch (to.kind) {
    case 'latest':
      return true;
    case 'earliest':
      return false;
    case 'offset':
      return at.offset === undefined || at.offset < to.offset;
    case 'offsets': {
      if (at.offset === undefined || at.partition === undefined) return true;
      const end = to.offsets[at.partition];
      return end === undefined || at.offset < end;
    }
    case 'time':
      return at.time === undefined || at.time < to.time;
  }
}
