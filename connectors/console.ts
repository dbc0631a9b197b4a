/**
 * `console()`: a sink that prints each value on its own line.
 */
import type { Sink } from '../engine/sink.js';

/** Options of the console sink. */
export interface ConsoleSinkOptions {
  /** Text before each line (e.g. `'late: '`). */
  readonly prefix?: string;
  /** How to render a value (default: JSON, with bigint as a string). */
  readonly format?: (value: unknown, timestamp: number) => string;
  /** Where lines go (default `globalThis.console.log`). */
  readonly print?: (line: string) => void;
}

const json = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x === Infinity ? 'Infinity' : x === -Infinity ? '-Infinity' : x));

/**
 * Prints values, one per line.
 *
 * @example
 * results.sink(console({ prefix: 'result ' }));
 */
export function toConsole<T>(options: ConsoleSinkOptions = {}): Sink<T> {
  const prefix = options.prefix ?? '';
  const format = options.format ?? json;
  const print = options.print ?? ((line: string) => globalThis.console.log(line));
  return {
    kind: 'console',
    write(values, timestamps) {
      for (let i = 0; i < values.length; i++) print(prefix + format(values[i], timestamps[i] as number));
    },
  };
}

export { toConsole as console };
