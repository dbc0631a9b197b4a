/**
 * The three benchmark jobs written with Tidemark's public API (spec/decisions/0001-public-api.md),
 * exactly as a user would write them: array source with a bounded-out-of-orderness watermark,
 * keyBy user, one window, count().
 */
import {
  Pipeline,
  boundedOutOfOrderness,
  collect,
  count,
  forEach,
  fromArray,
  session,
  sliding,
  tumbling,
} from 'tidemark';
import type { Stream, WindowResult } from 'tidemark';
import type { Click } from './generator.js';
import type { JobParams, Workload } from './jobs.js';
import type { WindowCount } from './results.js';

export type CountResult = WindowResult<string, number>;

/** The name of the window operator in the run summary. */
export const WINDOW_NAME = 'window';
export const SOURCE_NAME = 'clicks';

export interface BuildOptions {
  /** Event-time extractor; defaults to `(r) => r.ts`. Overridden only by the heap probe. */
  readonly timestamp?: (r: Click) => number;
}

const byTs = (r: Click): number => r.ts;

type Output = { readonly kind: 'forEach'; readonly fn: (r: CountResult) => void } | { readonly kind: 'collect'; readonly out: CountResult[] };

/**
 * The job's windowed count over a stream of clicks: `keyBy(user)`, the workload's window,
 * `count()` (shared by the timed pipeline and the latency run).
 */
export function windowCounts(workload: Workload, clicks: Stream<Click>, params: JobParams): Stream<CountResult> {
  const keyed = clicks.keyBy((r) => r.user);
  return workload === 'tumbling'
    ? keyed.window(tumbling(params.size), { name: WINDOW_NAME }).aggregate(count())
    : workload === 'sliding'
      ? keyed.window(sliding(params.size, params.slide), { name: WINDOW_NAME }).aggregate(count())
      : keyed.window(session(params.gap), { name: WINDOW_NAME }).aggregate(count());
}

/** Builds the job's pipeline, ending in the given sink. */
function build(workload: Workload, records: readonly Click[], params: JobParams, output: Output, options: BuildOptions): Pipeline {
  const p = new Pipeline();
  const clicks = p.source(fromArray(records as Click[]), {
    timestamp: options.timestamp ?? byTs,
    watermark: boundedOutOfOrderness(params.bound),
    name: SOURCE_NAME,
    ordering: 'none',
  });
  const results = windowCounts(workload, clicks, params);
  if (output.kind === 'forEach') results.sink(forEach(output.fn));
  else results.sink(collect(output.out));
  return p;
}

export type RunSummary = Awaited<ReturnType<Pipeline['run']>>;

/** Runs the job, handing every window result to `onResult` (the timed runs use this). */
export async function runTidemark(
  workload: Workload,
  records: readonly Click[],
  params: JobParams,
  onResult: (r: CountResult) => void,
  options: BuildOptions = {},
): Promise<RunSummary> {
  const p = build(workload, records, params, { kind: 'forEach', fn: onResult }, options);
  return p.run();
}

/** Runs the job and returns its results normalised to `WindowCount` (for verification). */
export async function collectTidemark(
  workload: Workload,
  records: readonly Click[],
  params: JobParams,
): Promise<{ results: WindowCount[]; raw: CountResult[]; summary: RunSummary }> {
  const raw: CountResult[] = [];
  const p = build(workload, records, params, { kind: 'collect', out: raw }, {});
  const summary = await p.run();
  const results = raw
    .filter((r) => r.retraction !== true)
    .map((r) => ({ key: r.key, start: r.window.start, end: r.window.end, count: r.value }));
  return { results, raw, summary };
}
