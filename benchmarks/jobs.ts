/**
 * The benchmark workloads and their parameters, shared by both contenders.
 */
export type Workload = 'tumbling' | 'sliding' | 'session';
export const WORKLOADS: readonly Workload[] = ['tumbling', 'sliding', 'session'];

export interface JobParams {
  /** Tumbling and sliding window size (ms). */
  readonly size: number;
  /** Sliding window slide (ms). */
  readonly slide: number;
  /** Session gap (ms). */
  readonly gap: number;
  /** Bounded out-of-orderness of the watermark (ms): W = maxTs − bound − 1. */
  readonly bound: number;
}

export const DEFAULT_PARAMS: JobParams = {
  size: 10_000,
  slide: 2_000,
  gap: 5_000,
  bound: 1_000,
};

export function describeJob(workload: Workload, p: JobParams): string {
  switch (workload) {
    case 'tumbling':
      return `keyed tumbling ${p.size / 1000} s count`;
    case 'sliding':
      return `keyed sliding ${p.size / 1000} s / ${p.slide / 1000} s count`;
    case 'session':
      return `keyed session (gap ${p.gap / 1000} s) count`;
  }
}
