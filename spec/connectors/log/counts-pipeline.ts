/**
 * The pipeline of the event log's end-to-end and kill tests: clicks read from a 3-partition log,
 * counted per page in 1 s tumbling windows, written to a second log by the exactly-once log sink,
 * checkpointed every 100 records. A map can fail once at a chosen record (`failAt`).
 */
import { EventLog, ManualClock, Pipeline, boundedOutOfOrderness, count, fileCheckpoints, tumbling } from 'tidemark';

export interface Click {
  readonly i: number;
  readonly page: string;
}

export interface Count {
  readonly page: string;
  readonly start: number;
  readonly count: number;
}

/** Clicks in the input log. */
export const CLICKS = 3_000;

/** Appends the input (event time advances 10 ms per click; keys spread over the partitions). */
export async function writeClicks(log: EventLog<Click>): Promise<void> {
  for (let b = 0; b < CLICKS; b += 500) {
    await log.append(Array.from({ length: 500 }, (_, j) => b + j).map((i) => ({ key: `u${i % 17}`, timestamp: i * 10, value: { i, page: `/p${(i * 7) % 11}` } })));
  }
}

/** Options of one run. */
export interface RunOptions {
  /** The map throws (once) at this click. */
  readonly failAt?: number;
  /** Let the engine restart the run in-process after the failure. */
  readonly restart?: boolean;
  /** Called with each click's id before it is processed (fault points in child processes). */
  readonly onClick?: (i: number) => void;
}

/** One run: input → map (may throw once) → count per page per second → exactly-once log sink `counts`. */
export function countsPipeline(input: EventLog<Click>, output: EventLog<Count>, checkpoints: string, options: RunOptions = {}): Pipeline {
  let thrown = false;
  const p = new Pipeline({
    clock: new ManualClock(),
    batchSize: 16,
    checkpoints: { store: fileCheckpoints(checkpoints), everyRecords: 100 },
    ...(options.restart === true ? { restart: { attempts: 2, delay: 0 } } : {}),
  });
  p.source(input.source(), { watermark: boundedOutOfOrderness(0), ordering: 'per-partition', name: 'clicks' })
    .map((r) => {
      options.onClick?.(r.value.i);
      if (r.value.i === options.failAt && !thrown) {
        thrown = true;
        throw new Error(`deliberate failure at record ${options.failAt}`);
      }
      return r.value;
    }, { name: 'maybeFail' })
    .keyBy((c) => c.page)
    .window(tumbling(1_000))
    .aggregate(count(), { name: 'perPage' })
    .sink(output.sink({ key: (w) => w.key, value: (w) => ({ page: w.key, start: w.window.start, count: w.value }), delivery: 'exactly-once' }), { name: 'counts' });
  return p;
}

/** A log's records as `partition:offset key@timestamp value`, in partition and offset order. */
export async function logContents(log: EventLog<Count>): Promise<string[]> {
  const out: { partition: number; offset: number; line: string }[] = [];
  for await (const r of log.read()) out.push({ partition: r.partition, offset: r.offset, line: `${r.partition}:${r.offset} ${String(r.key)}@${r.timestamp} ${JSON.stringify(r.value)}` });
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset).map((r) => r.line);
}
