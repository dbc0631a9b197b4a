/**
 * Shapes of Redis stream replies (RESP2, binary-safe): `XREADGROUP` and `XAUTOCLAIM` answers
 * turned into typed entries, and stream-id comparison.
 */

/** One stream entry as Redis returned it; `fields` is null when the entry was deleted while pending. */
export interface RawEntry {
  readonly id: string;
  readonly fields: readonly Buffer[] | null;
}

const text = (x: unknown): string => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x));

function entriesOf(list: unknown): RawEntry[] {
  if (!Array.isArray(list)) return [];
  return list.map((e: unknown) => {
    const [id, fields] = e as [unknown, unknown];
    return { id: text(id), fields: Array.isArray(fields) ? (fields as Buffer[]) : null };
  });
}

/** Entries per stream key from an `XREADGROUP` reply (null when nothing was read). */
export function parseReadGroup(reply: unknown): Map<string, RawEntry[]> {
  const out = new Map<string, RawEntry[]>();
  if (!Array.isArray(reply)) return out;
  for (const s of reply as unknown[]) {
    const [key, list] = s as [unknown, unknown];
    out.set(text(key), entriesOf(list));
  }
  return out;
}

/** An `XAUTOCLAIM` reply: the next cursor, the claimed entries, and ids deleted while pending (Redis ≥ 7). */
export function parseAutoClaim(reply: unknown): { cursor: string; entries: RawEntry[]; deleted: string[] } {
  const [cursor, list, deleted] = (Array.isArray(reply) ? reply : []) as [unknown, unknown, unknown];
  return {
    cursor: text(cursor ?? '0-0'),
    entries: entriesOf(list),
    deleted: Array.isArray(deleted) ? (deleted as unknown[]).map(text) : [],
  };
}

/** Compares stream ids `ms-seq` numerically (negative when `a` is older). */
export function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}
