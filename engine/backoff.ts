/**
 * Backoff policies shared by sink retries and pipeline restarts: a fixed delay or an exponential
 * one (doubling from `initialDelay` up to `maxDelay`), for at most `attempts` retries.
 */
import { PlanError } from './errors.js';
import { type Duration, toMillis } from './time.js';

/** How often and how soon to try again. */
export interface BackoffOptions {
  /** `fixed-delay` (every retry waits `delay`) or `exponential` (default). */
  readonly strategy?: 'fixed-delay' | 'exponential';
  /** Retries after the first failure (0 = none). */
  readonly attempts: number;
  /** The first (or every, for `fixed-delay`) delay (default 100 ms). */
  readonly delay?: Duration;
  /** The largest delay of `exponential` (default 30 s). */
  readonly maxDelay?: Duration;
}

/** A validated backoff policy. */
export interface Backoff {
  readonly attempts: number;
  /** The delay before retry `attempt` (1-based), in ms. */
  delayFor(attempt: number): number;
}

/**
 * Validates `options` eagerly (errors name `where`).
 *
 * @example
 * backoff({ attempts: 5, delay: 100, maxDelay: 5_000 }, 'run').delayFor(3); // 400
 */
export function backoff(options: BackoffOptions, where: string): Backoff {
  if (options === null || typeof options !== 'object') throw new PlanError(`${where}: expected { attempts, delay?, maxDelay?, strategy? }`);
  const { attempts } = options;
  if (!Number.isInteger(attempts) || attempts < 0) throw new PlanError(`${where}: attempts must be an integer ≥ 0, got ${String(attempts)}`);
  const strategy = options.strategy ?? 'exponential';
  if (strategy !== 'fixed-delay' && strategy !== 'exponential') throw new PlanError(`${where}: strategy must be 'fixed-delay' or 'exponential', got '${String(strategy)}'`);
  const delay = options.delay === undefined ? 100 : toMillis(options.delay, `${where}: delay`);
  const maxDelay = options.maxDelay === undefined ? 30_000 : toMillis(options.maxDelay, `${where}: maxDelay`);
  if (delay < 0 || maxDelay < delay) throw new PlanError(`${where}: need 0 ≤ delay ≤ maxDelay, got ${delay} and ${maxDelay} ms`);
  return {
    attempts,
    delayFor: (attempt) => (strategy === 'fixed-delay' ? delay : Math.min(maxDelay, delay * 2 ** Math.max(0, attempt - 1))),
  };
}

/** Resolves after `ms` of the clock's time (a `Clock.schedule` wrapper). */
export function sleepOn(clock: { now(): number; schedule(at: number, cb: () => void): unknown }, ms: number): Promise<void> {
  if (!(ms > 0)) return Promise.resolve();
  return new Promise((resolve) => {
    clock.schedule(clock.now() + ms, resolve);
  });
}
