/**
 * The sink contract. A sink receives batches of values with their timestamps; a write may return
 * a promise, and the runtime awaits outstanding writes before reading more input (backpressure).
 */

/** What a sink sees of the run. */
export interface SinkContext {
  readonly name: string;
}

/**
 * A sink of values `T`.
 *
 * @example
 * const printer: Sink<string> = { kind: 'printer', write: (values) => values.forEach((v) => console.log(v)) };
 */
export interface Sink<T> {
  readonly kind: string;
  open?(ctx: SinkContext): void | Promise<void>;
  write(values: readonly T[], timestamps: readonly number[]): void | Promise<void>;
  /** Called once after the last write, when the run completes. */
  close?(): void | Promise<void>;
  /** Called when the run fails, instead of `close`. */
  abort?(error: unknown): void | Promise<void>;
}
