/**
 * Helpers shared by the spec/api tests: a deferred (a promise a test resolves by hand), bounded
 * polling of the event loop (no timers, no real time), and a watermark/record probe operator.
 */
import type { OperatorFactory, Stream } from 'tidemark';

/** A promise with its resolve/reject exposed. */
export interface Deferred<T = void> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** One turn of the event loop (macrotask), without any timer. */
export function tick(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Polls `condition` once per event-loop turn, at most `maxTurns` times; throws if it never holds.
 * Then lets `settleTurns` more turns pass so that in-flight synchronous work completes.
 */
export async function waitFor(condition: () => boolean, what: string, maxTurns = 500, settleTurns = 5): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (condition()) {
      for (let j = 0; j < settleTurns; j++) await tick();
      return;
    }
    await tick();
  }
  throw new Error(`waitFor: ${what} did not happen within ${maxTurns} event-loop turns`);
}

/** Reports whether a promise has settled, without waiting for it. */
export function track<T>(p: Promise<T>): { readonly settled: boolean; readonly promise: Promise<T> } {
  const state = { settled: false, promise: p };
  p.then(() => (state.settled = true), () => (state.settled = true));
  return state;
}

/** An event seen by a probe: a watermark or a record, tagged with the probe's label. */
export type ProbeEvent =
  | { readonly tag: string; readonly kind: 'watermark'; readonly w: number }
  | { readonly tag: string; readonly kind: 'record'; readonly t: number; readonly watermark: number };

/** A pass-through operator that logs every watermark and record it sees into `log`. */
export function probe(tag: string, log: ProbeEvent[]): OperatorFactory {
  return {
    kind: 'probe',
    build(ctx) {
      return {
        onBatch({ values, times }) {
          for (let i = 0; i < values.length; i++) {
            const t = times[i] as number;
            log.push({ tag, kind: 'record', t, watermark: ctx.watermark });
            ctx.out.emit(values[i], t);
          }
        },
        onWatermark(w) {
          log.push({ tag, kind: 'watermark', w });
        },
      };
    },
  };
}

/** Inserts a probe after `s`. */
export function tap<T>(s: Stream<T>, tag: string, log: ProbeEvent[]): Stream<T> {
  return s.transform<T>(probe(tag, log), { name: `probe:${tag}` });
}

/** The watermarks a probe saw, in order. */
export function watermarksOf(log: readonly ProbeEvent[], tag: string): number[] {
  return log.flatMap((e) => (e.tag === tag && e.kind === 'watermark' ? [e.w] : []));
}
