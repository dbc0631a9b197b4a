/**
 * Reads a source by hand as a restored run would: opened with an optional checkpoint position
 * (`resume`), up to `limit` records chunks, acknowledging each chunk; returns the records, each
 * records chunk's position and the position of the last chunk read (what a checkpoint keeps).
 */
import { SystemClock, type Source, type SourceChunk } from 'tidemark';

/** What a hand-driven read produced. */
export interface ReadChunks<T> {
  readonly values: T[];
  /** The position of each records chunk, in order. */
  readonly positions: unknown[];
  /** The position of the last chunk read (records or dead letters). */
  readonly position: unknown;
}

/** Reads `source` from `resume` (a fresh start when undefined), at most `limit` records chunks. */
export async function readChunks<T>(source: Source<T>, resume: unknown, limit = Infinity, batchSize = 5): Promise<ReadChunks<T>> {
  const reader = source.open({ name: 'src', batchSize, clock: new SystemClock(), ...(resume === undefined ? {} : { resume }) });
  const values: T[] = [];
  const positions: unknown[] = [];
  let position: unknown;
  try {
    for (let n = 0; n < limit;) {
      const c: SourceChunk<T> | null = await reader.next();
      if (c === null) break;
      if (c.kind === 'records') {
        values.push(...c.values);
        positions.push(c.position);
        n++;
      }
      if (c.kind === 'records' || c.kind === 'dead-letters') position = c.position ?? position;
      await reader.ack?.(c);
    }
  } finally {
    await reader.close?.();
  }
  return { values, positions, position };
}
