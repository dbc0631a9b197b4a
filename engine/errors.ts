/**
 * Typed errors. Every error names where it came from: the factory that rejected an option, the
 * operator whose user function failed (with its position and the record's timestamp).
 */

/** Base class of every error Tidemark throws on purpose. */
export class TidemarkError extends Error {
  override name = 'TidemarkError';
}

/**
 * An invalid pipeline: bad options, a wrong shape, an ordering contract that cannot hold.
 * Thrown when the plan is built (by the factory or `keyBy`/`window`/…), never mid-run.
 *
 * @example
 * try { tumbling(-1); } catch (e) { e instanceof PlanError; } // true
 */
export class PlanError extends TidemarkError {
  override name = 'PlanError';
}

/** A plan whose ordering contract cannot hold (e.g. `scan` over an unordered stream). */
export class OrderingError extends PlanError {
  override name = 'OrderingError';
}

/**
 * A user function (map, filter, key extractor, aggregate…) threw, or returned a promise where a
 * value was required. Carries the operator name, its position in the pipeline and the record's
 * event timestamp; the original error is `cause`.
 */
export class UserFunctionError extends TidemarkError {
  override name = 'UserFunctionError';
  constructor(
    message: string,
    readonly operator: string,
    readonly position: string,
    readonly timestamp: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A source overflowed its bounded buffer under the `'fail'` overflow policy, or failed. */
export class SourceError extends TidemarkError {
  override name = 'SourceError';
}

/**
 * A checkpoint could not be taken, stored or restored: a corrupt or incompatible checkpoint (the
 * message names the operator or source and why), or a store that failed.
 *
 * @example
 * try { await p.run(); } catch (e) { if (e instanceof CheckpointError) console.error(e.message); }
 */
export class CheckpointError extends TidemarkError {
  override name = 'CheckpointError';
}

/** A sink kept failing after its retries; names the sink (the last error is `cause`). */
export class SinkError extends TidemarkError {
  override name = 'SinkError';
  constructor(message: string, readonly sink: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Records could not be sent to another parallel worker (a value structured cloning rejects, such as
 * a function, or a transport that failed). Names the edge's target operator, the destination
 * worker and, when found, the record and field at fault; the run fails and the records stay unsent
 * (counted in the message), never dropped silently. The transport's error is `cause`.
 *
 * @example
 * try { await runParallel(module, { parallelism: 2 }); } catch (e) { if (e instanceof ExchangeError) console.error(e.message); }
 */
export class ExchangeError extends TidemarkError {
  override name = 'ExchangeError';
  constructor(message: string, readonly operator: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Renders an unknown thrown value as a short message. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}
