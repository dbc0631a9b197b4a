/**
 * `toObservable()`: a sink that is also an RxJS Observable of the pipeline's output.
 */
import { Subject, type Observable } from 'rxjs';
import type { Sink } from '../engine/sink.js';

/** A sink whose values are re-emitted by `observable` (completes with the run, errors with it). */
export interface ObservableSink<T> extends Sink<T> {
  readonly observable: Observable<T>;
}

/**
 * Bridges a pipeline's output into RxJS. Subscribe before `run()`; values are delivered hot.
 *
 * @example
 * const results = toObservable<WindowResult<string, number>>();
 * stream.sink(results);
 * results.observable.pipe(filter((r) => r.value > 100)).subscribe(alert);
 * await p.run();
 */
export function toObservable<T>(): ObservableSink<T> {
  const subject = new Subject<T>();
  return {
    kind: 'observable',
    observable: subject.asObservable(),
    write(values) {
      for (let i = 0; i < values.length; i++) subject.next(values[i] as T);
    },
    close() {
      subject.complete();
    },
    abort(error) {
      subject.error(error);
    },
  };
}
