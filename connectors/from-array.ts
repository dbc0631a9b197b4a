/**
 * `fromArray(records)`: an in-memory source, read in chunks of the pipeline's batch size.
 */
import { PlanError } from '../engine/errors.js';
import type { Source } from '../engine/source.js';

/** Options of `fromArray`. */
export interface FromArrayOptions {
  /** Records per chunk (default: the pipeline's `batchSize`). */
  readonly batchSize?: number;
}

/**
 * A source over an array (read once per run; the array is not copied or modified). It is
 * replayable: positions are record indexes, so a run restored from a checkpoint continues after
 * the last record the checkpointed run had processed.
 *
 * @example
 * p.source(fromArray([{ user: 'a', ts: 1000 }]), { timestamp: (r) => r.ts });
 */
export function fromArray<T>(records: readonly T[], options: FromArrayOptions = {}): Source<T> {
  if (!Array.isArray(records)) throw new PlanError('tidemark.fromArray: expected an array of records');
  const size = options.batchSize;
  if (size !== undefined && (!Number.isInteger(size) || size < 1)) {
    throw new PlanError(`tidemark.fromArray: batchSize must be a positive integer, got ${String(size)}`);
  }
  return {
    kind: 'array',
    providesTimestamps: false,
    providesWatermarks: false,
    replayable: true,
    open(ctx) {
      const chunk = size ?? ctx.batchSize;
      // Restored from a checkpoint: continue after the last processed record.
      const resume = ctx.resume as { index?: unknown } | undefined;
      let at = typeof resume?.index === 'number' ? resume.index : 0;
      return {
        next() {
          if (at >= records.length) return null;
          const values = at === 0 && records.length <= chunk ? records : records.slice(at, at + chunk);
          at = Math.min(records.length, at + chunk);
          return { kind: 'records', values, position: { index: at } };
        },
      };
    },
  };
}
