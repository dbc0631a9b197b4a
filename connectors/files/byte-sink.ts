/**
 * The generic sink writing a format to a byte target. Each `write` encodes its batch and resolves
 * once the bytes are written (so the runtime's backpressure reaches the file or stream). The
 * target is opened at the first write or at close, whichever comes first, so a failed run that
 * never wrote does not create or truncate the file.
 *
 * Guarantee: at-least-once. Records whose write resolved are in the OS (and on disk under
 * `fsync: 'always'`, or after a clean close otherwise); a restarted run that re-reads its input
 * writes them again. Exactly-once file output is `epoch-sink.ts` (`delivery: 'exactly-once'`).
 */
import { TidemarkError, describeError } from '../../engine/errors.js';
import type { Sink } from '../../engine/sink.js';
import type { ByteTarget } from './byte-target.js';
import type { Encoding } from './format.js';

/** What `byteSink` needs. */
export interface ByteSinkSpec<T> {
  readonly kind: string;
  readonly factory: string;
  readonly encoding: Encoding<T>;
  readonly target: () => Promise<ByteTarget>;
}

/**
 * A sink encoding values with a format onto a target.
 *
 * @example
 * byteSink({ kind: 'json-lines', factory: 'tidemark.toJsonLines', encoding: jsonLinesEncoding('tidemark.toJsonLines'),
 *   target: () => fileTarget('out.jsonl', { append: false, atomic: false, fsync: 'close' }) });
 */
export function byteSink<T>(spec: ByteSinkSpec<T>): Sink<T> {
  const { encoding, factory } = spec;
  let target: Promise<ByteTarget> | undefined;
  const opened = (): Promise<ByteTarget> => {
    target ??= spec.target().then(async (t) => {
      const header = t.nonEmpty ? undefined : encoding.header?.();
      if (header !== undefined) await t.write(header);
      return t;
    }, (e: unknown) => {
      throw new TidemarkError(`${factory}: cannot open the output: ${describeError(e)}`, { cause: e });
    });
    return target;
  };
  return {
    kind: spec.kind,
    open() {
      target = undefined; // a fresh output per run
    },
    async write(values) {
      if (values.length === 0) return;
      const bytes = encoding.encode(values);
      await (await opened()).write(bytes);
    },
    async close() {
      await (await opened()).close();
    },
    async abort() {
      if (target !== undefined) await (await target.catch(() => undefined))?.abort();
    },
  };
}
