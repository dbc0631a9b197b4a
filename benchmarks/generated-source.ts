/**
 * A replayable generated source for long benchmarks: record i is a pure function of i, produced
 * chunk by chunk (no input array in memory), with positions so that checkpointed runs resume.
 */
import type { Source } from 'tidemark';

export interface Row {
  readonly user: string;
  readonly ts: number;
  readonly payload: string;
}

/**
 * A replayable generated source: record i is a pure function of i (no input array in memory).
 * With `onDrained`, the source does not end after the last record: it calls `onDrained` and waits
 * (so that a stopped run keeps its windows open).
 */
export function generated(n: number, keys: number, payload = '', onDrained?: () => void): Source<Row> {
  const users = Array.from({ length: keys }, (_, i) => `u${i}`);
  return {
    kind: 'generated',
    providesTimestamps: false,
    providesWatermarks: false,
    replayable: true,
    open(ctx) {
      let at = typeof (ctx.resume as { index?: unknown } | undefined)?.index === 'number' ? (ctx.resume as { index: number }).index : 0;
      return {
        next() {
          if (at >= n) {
            if (onDrained === undefined) return null;
            onDrained();
            return new Promise<null>(() => undefined);
          }
          const end = Math.min(n, at + ctx.batchSize);
          const values: Row[] = new Array(end - at);
          for (let i = at; i < end; i++) values[i - at] = { user: users[(i * 7919) % keys] as string, ts: 1_700_000_000_000 + i, payload };
          at = end;
          return { kind: 'records', values, position: { index: at } };
        },
      };
    },
  };
}

