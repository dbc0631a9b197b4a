/**
 * The common result shape of every benchmark job, and the helpers to compare results.
 *
 * Both contenders (Tidemark and the hand-written loop) are normalised to `WindowCount`: one
 * final count per (key, window). Comparison is on the sorted multiset of results, because the
 * two may legitimately emit windows that fire at the same watermark in a different order.
 */

export interface WindowCount {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly count: number;
}

export type Emit = (result: WindowCount) => void;

export function compareWindowCounts(a: WindowCount, b: WindowCount): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  if (a.start !== b.start) return a.start - b.start;
  if (a.end !== b.end) return a.end - b.end;
  return a.count - b.count;
}

export function sortWindowCounts(results: readonly WindowCount[]): WindowCount[] {
  return [...results].sort(compareWindowCounts);
}

export interface Difference {
  readonly equal: boolean;
  readonly leftCount: number;
  readonly rightCount: number;
  /** Up to `limit` results only in the left (respectively right) multiset. */
  readonly onlyLeft: WindowCount[];
  readonly onlyRight: WindowCount[];
}

/** Multiset difference of two result lists (order-insensitive). */
export function diffWindowCounts(left: readonly WindowCount[], right: readonly WindowCount[], limit = 10): Difference {
  const a = sortWindowCounts(left);
  const b = sortWindowCounts(right);
  const onlyLeft: WindowCount[] = [];
  const onlyRight: WindowCount[] = [];
  let i = 0;
  let j = 0;
  let equal = true;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    const c = x === undefined ? 1 : y === undefined ? -1 : compareWindowCounts(x, y);
    if (c === 0) {
      i++;
      j++;
      continue;
    }
    equal = false;
    if (c < 0) {
      if (onlyLeft.length < limit && x !== undefined) onlyLeft.push(x);
      i++;
    } else {
      if (onlyRight.length < limit && y !== undefined) onlyRight.push(y);
      j++;
    }
  }
  return { equal, leftCount: a.length, rightCount: b.length, onlyLeft, onlyRight };
}

/**
 * Order-independent checksum over results, so the timed runs (which do not keep results) can
 * still be checked against each other: a 32-bit sum of a per-result hash, plus the count of
 * results and the sum of counts (which must equal the number of accepted records × windows per record).
 */
export class Checksum {
  results = 0;
  total = 0;
  hash = 0;

  add(key: string, start: number, end: number, count: number): void {
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ (start % 0x7fffffff), 0x01000193);
    h = Math.imul(h ^ (end % 0x7fffffff), 0x01000193);
    h = Math.imul(h ^ count, 0x01000193);
    h ^= h >>> 15;
    this.hash = (this.hash + h) | 0;
    this.results++;
    this.total += count;
  }

  reset(): void {
    this.results = 0;
    this.total = 0;
    this.hash = 0;
  }

  value(): string {
    return `${this.results}/${this.total}/${(this.hash >>> 0).toString(16)}`;
  }
}
