/**
 * Prometheus metrics of a run (prom-client, in a registry of its own). Counters that the run
 * summary already keeps (records in/out, late, dead letters, open windows, watermarks, consumer
 * lag) are read from the live summary when scraped; checkpoint durations and sizes, restarts and
 * sink retries are recorded from the pipeline's events.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PipelineEvent, RunSummary } from '../index.js';

/** The metrics of one CLI invocation. */
export interface RunMetrics {
  readonly registry: Registry;
  /** Records a pipeline event (checkpoints, restarts, sink retries). */
  record(event: PipelineEvent): void;
}

/** A finite number, or `undefined`. */
function finite(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * Creates the metrics, reading counters from `summary()` at each scrape; `now()` is the wall
 * clock (epoch ms) the watermark lag is measured against.
 *
 * @example
 * const m = createMetrics(() => p.summary(), Date.now); server = serveMetrics(m.registry, { port: 9464 });
 */
export function createMetrics(summary: () => RunSummary | undefined, now: () => number): RunMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tidemark_process_' });
  let snapshot: RunSummary | undefined;
  let snapshotAt = -Infinity;
  // One summary per scrape, shared by every collector below.
  const current = (): RunSummary | undefined => {
    const t = now();
    if (t - snapshotAt > 50) {
      snapshot = summary() ?? snapshot;
      snapshotAt = t;
    }
    return snapshot;
  };
  const registers = [registry];

  /** A counter (or gauge) over every operator and sink, set from the summary when scraped. */
  const perOperator = (
    type: 'counter' | 'gauge',
    name: string,
    help: string,
    pick: (s: RunSummary) => Iterable<[labels: Record<string, string>, value: number | undefined]>,
    labelNames: string[] = ['operator', 'kind'],
  ): void => {
    const collect = function (this: Counter | Gauge): void {
      const s = current();
      if (s === undefined) return;
      this.reset();
      for (const [labels, value] of pick(s)) {
        if (value === undefined) continue;
        if (this instanceof Gauge) this.set(labels, value);
        else if (value >= 0) this.inc(labels, value);
      }
    };
    if (type === 'counter') new Counter({ name, help, labelNames, registers, collect });
    else new Gauge({ name, help, labelNames, registers, collect });
  };

  function* operators(s: RunSummary, field: string): Iterable<[Record<string, string>, number | undefined]> {
    for (const [operator, o] of Object.entries(s.operators)) yield [{ operator, kind: o.kind }, finite(o[field])];
  }
  function* sources(s: RunSummary, field: string): Iterable<[Record<string, string>, number | undefined]> {
    for (const [source, o] of Object.entries(s.sources)) yield [{ source }, finite(o[field])];
  }

  perOperator('counter', 'tidemark_records_in_total', 'Records into each operator and sink', function* (s) {
    yield* operators(s, 'in');
    for (const [operator, o] of Object.entries(s.sinks)) yield [{ operator, kind: 'sink' }, o.in];
  });
  perOperator('counter', 'tidemark_records_out_total', 'Records out of each operator', (s) => operators(s, 'out'));
  perOperator('counter', 'tidemark_late_records_total', 'Late records routed to .late(), per operator', (s) => operators(s, 'late'));
  perOperator('counter', 'tidemark_too_late_records_total', 'Records too late for every one of their windows, per window operator', (s) => operators(s, 'tooLate'));
  perOperator('counter', 'tidemark_dead_letters_total', 'Dead letters per operator', (s) => operators(s, 'deadLettered'));
  perOperator('gauge', 'tidemark_open_windows', 'Windows holding state now, per window operator', (s) => operators(s, 'openWindows'));
  perOperator('gauge', 'tidemark_watermark_ms', "Each operator's output watermark (event time, epoch ms)", (s) => operators(s, 'watermark'));
  perOperator('gauge', 'tidemark_watermark_lag_seconds', 'Wall clock minus the output watermark, per operator', function* (s) {
    const t = now();
    for (const [labels, w] of operators(s, 'watermark')) yield [labels, w === undefined ? undefined : (t - w) / 1000];
  });
  perOperator('counter', 'tidemark_source_records_read_total', 'Records read per source', (s) => sources(s, 'read'), ['source']);
  perOperator('counter', 'tidemark_source_dead_letters_total', 'Dead letters per source (bad timestamps, undecodable input)', (s) => sources(s, 'deadLettered'), ['source']);
  perOperator('gauge', 'tidemark_source_watermark_ms', "Each source's watermark (epoch ms)", (s) => sources(s, 'watermark'), ['source']);
  perOperator('gauge', 'tidemark_source_watermark_lag_seconds', 'Wall clock minus the source watermark', function* (s) {
    const t = now();
    for (const [labels, w] of sources(s, 'watermark')) yield [labels, w === undefined ? undefined : (t - w) / 1000];
  }, ['source']);
  perOperator('gauge', 'tidemark_consumer_lag_records', 'Records behind the head of the input, per source (sources that report it)', (s) => sources(s, 'lagRecords'), ['source']);
  perOperator('gauge', 'tidemark_consumer_lag_seconds', 'Event time behind the head of the input, per source (sources that report it)', function* (s) {
    for (const [labels, v] of sources(s, 'lagEventTime')) yield [labels, v === undefined ? undefined : v / 1000];
  }, ['source']);
  perOperator('gauge', 'tidemark_dead_letters', 'Dead letters over the whole pipeline', (s) => [[{}, s.deadLetters]], []);
  perOperator('gauge', 'tidemark_late_records', 'Late records over the whole pipeline', (s) => [[{}, s.lateRecords]], []);

  const duration = new Histogram({
    name: 'tidemark_checkpoint_duration_seconds',
    help: 'Time to take a checkpoint (cut, encode, durable write, sink commits)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const size = new Histogram({
    name: 'tidemark_checkpoint_size_bytes',
    help: 'Encoded size of each checkpoint',
    buckets: [1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9],
    registers,
  });
  const checkpoints = new Counter({ name: 'tidemark_checkpoints_total', help: 'Checkpoints by result', labelNames: ['result', 'type'], registers });
  const lastId = new Gauge({ name: 'tidemark_checkpoint_last_id', help: 'Id of the last completed checkpoint', registers });
  const restores = new Counter({ name: 'tidemark_restores_total', help: 'Runs restored from a checkpoint or savepoint', registers });
  const restarts = new Counter({ name: 'tidemark_restarts_total', help: 'Restarts of a failed run from its last checkpoint', registers });
  const retries = new Counter({ name: 'tidemark_sink_retries_total', help: 'Retried sink writes, per sink', labelNames: ['sink'], registers });

  return {
    registry,
    record(event) {
      switch (event.type) {
        case 'checkpoint-completed':
          duration.observe(event.durationMs / 1000);
          size.observe(event.checkpoint.bytes);
          checkpoints.inc({ result: 'completed', type: event.checkpoint.type });
          lastId.set(event.checkpoint.id);
          break;
        case 'checkpoint-failed':
          checkpoints.inc({ result: 'failed', type: 'checkpoint' });
          break;
        case 'restored':
          restores.inc();
          break;
        case 'restart':
          restarts.inc();
          break;
        case 'sink-retry':
          retries.inc({ sink: event.sink });
          break;
        case 'stopping':
          break;
      }
    },
  };
}
