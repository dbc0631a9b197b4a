/**
 * Typed errors of the event log: a read below what retention kept (saying which offsets were
 * lost), a record that cannot be read (corrupt, undecodable, over `maxRecordBytes`), a misuse of
 * an open log.
 */
import { SourceError, TidemarkError } from '../../engine/errors.js';
import type { CursorProblem } from './cursor.js';

/**
 * The event log failed or was misused (closed, locked by another process, a bad record given to
 * `append`). Bad options are `PlanError`s instead.
 */
export class LogError extends TidemarkError {
  override name = 'LogError';
}

/**
 * A read asked for offsets that retention has removed. `lost` is the half-open range of
 * offsets `[from, to)` that are gone in `partition`; reading can resume at `to`.
 *
 * @example
 * try { for await (const r of log.read({ from: { 0: 0 } })) {} }
 * catch (e) { if (e instanceof LogTruncatedError) console.warn(`lost ${e.lost.from}..${e.lost.to - 1}`); }
 */
export class LogTruncatedError extends SourceError {
  override name = 'LogTruncatedError';
  constructor(
    readonly partition: number,
    readonly lost: { readonly from: number; readonly to: number },
    why: string,
  ) {
    super(`event log partition ${partition}: offsets ${lost.from}..${lost.to - 1} were removed by retention (${why}); the earliest retained offset is ${lost.to}`);
  }
}

/**
 * A record in a segment cannot be read: it failed its checksum or framing (disk corruption), its
 * bytes are not a value the strict decoder accepts, or it is over `maxRecordBytes`. `position`
 * is its byte position in the segment file; `problem` says which.
 */
export class LogCorruptionError extends SourceError {
  override name = 'LogCorruptionError';
  constructor(
    readonly partition: number,
    readonly segment: string,
    readonly position: number,
    readonly problem: string,
  ) {
    super(`event log partition ${partition}: unreadable record in segment ${segment} at byte ${position} (${problem})`);
  }
}

/** The error `log.read()` throws for a problem a cursor met. */
export function corruption(p: CursorProblem): LogCorruptionError {
  return new LogCorruptionError(p.partition, p.segment, p.position, p.reason);
}
