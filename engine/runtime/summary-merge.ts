/**
 * Combines the run summaries of parallel workers into one: counters are summed per source,
 * operator and sink (so `read = emitted + deadLettered` and `in = accepted + tooLate +
 * deadLettered` still add up), the duration is the longest worker's, and gauges are not summed
 * blindly (`combine` lists them): watermarks take the minimum over the instances; `openWindows`
 * the maximum (keyed window instances hold panes of the same window bounds, each for its own
 * keys: the sum would count one window n times); a source's event-time lag (`lagEventTime`) the
 * maximum (the worst reader); partition positions (`position.<p>`, each read by one worker) the
 * maximum. Gauges of disjoint state — `keys`, `buffered`, `timers`, a source's `lagRecords` over
 * its partitions — and `broadcastEntries` (the copies actually held, one per instance) are summed.
 */
import type { RunSummary } from './summary.js';

type Counters = Record<string, number | string | undefined>;

/** How the workers' values of counter `key` combine (see the module comment). */
function combine(key: string, a: number, b: number): number {
  if (key === 'watermark') return Math.min(a, b);
  if (key === 'openWindows' || key === 'lagEventTime' || key.startsWith('position.')) return Math.max(a, b);
  return a + b;
}

function mergeInto(target: Record<string, Counters>, part: Readonly<Record<string, Counters>>): void {
  for (const [name, counters] of Object.entries(part)) {
    const into = target[name];
    if (into === undefined) {
      target[name] = { ...counters };
      continue;
    }
    for (const [k, v] of Object.entries(counters)) {
      const had = into[k];
      if (typeof v !== 'number' || typeof had !== 'number') {
        if (had === undefined) into[k] = v;
        continue;
      }
      into[k] = combine(k, had, v);
    }
  }
}

/**
 * The summary of a parallel run from its workers' summaries.
 *
 * @example
 * const summary = mergeSummaries(await Promise.all(workers.map((w) => w.done)));
 */
export function mergeSummaries(parts: readonly RunSummary[]): RunSummary {
  const sources: Record<string, Counters> = {};
  const operators: Record<string, Counters> = {};
  const sinks: Record<string, Counters> = {};
  let deadLetters = 0;
  let lateRecords = 0;
  let durationMs = 0;
  let stopped: string | undefined;
  let guarantees: RunSummary['guarantees'];
  for (const p of parts) {
    guarantees ??= p.guarantees;
    mergeInto(sources, p.sources as Record<string, Counters>);
    mergeInto(operators, p.operators as Record<string, Counters>);
    mergeInto(sinks, p.sinks as unknown as Record<string, Counters>);
    deadLetters += p.deadLetters;
    lateRecords += p.lateRecords;
    durationMs = Math.max(durationMs, p.durationMs);
    stopped ??= p.stopped;
  }
  const out: RunSummary = {
    sources: sources as RunSummary['sources'],
    operators: operators as RunSummary['operators'],
    sinks: sinks as unknown as RunSummary['sinks'],
    deadLetters,
    lateRecords,
    durationMs,
  };
  if (stopped !== undefined) out.stopped = stopped;
  // Sinks run on worker 0: its guarantees are the run's.
  if (guarantees !== undefined) out.guarantees = guarantees;
  return out;
}
