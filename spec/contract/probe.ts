/**
 * A probe operator for contract tests: passes records through unchanged and records, per edge,
 * every watermark it sees and every record's timestamp relative to the watermark at arrival.
 */
import type { OperatorFactory, Stream } from 'tidemark';

export interface ProbeLog {
  watermarks: number[];
  /** Records that arrived with a timestamp at or behind the probe's watermark. */
  behind: { value: unknown; timestamp: number; watermark: number }[];
  records: number;
}

export function probe(log: ProbeLog): OperatorFactory {
  return {
    kind: 'probe',
    build(ctx) {
      return {
        onBatch({ values, times }) {
          for (let i = 0; i < values.length; i++) {
            const t = times[i] as number;
            log.records++;
            if (t <= ctx.watermark) log.behind.push({ value: values[i], timestamp: t, watermark: ctx.watermark });
            ctx.out.emit(values[i], t);
          }
        },
        onWatermark(w) {
          log.watermarks.push(w);
        },
      };
    },
  };
}

export function newLog(): ProbeLog {
  return { watermarks: [], behind: [], records: 0 };
}

export function tap<T>(s: Stream<T>, log: ProbeLog): Stream<T> {
  return s.transform<T>(probe(log));
}
