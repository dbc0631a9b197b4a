/**
 * The one window operator factory: picks the implementation for the assigner (aligned panes,
 * merging sessions, or the global window) and validates the window options when the plan is built.
 */
import type { Aggregate } from '../../engine/aggregate.js';
import { PlanError } from '../../engine/errors.js';
import type { OperatorFactory } from '../../engine/operator.js';
import { type Duration, toMillis } from '../../engine/time.js';
import { AlignedWindowLogic } from './aligned.js';
import type { WindowAssigner } from './assigners.js';
import type { ProcessWindowFn, WindowSettings } from './emitter.js';
import { GlobalWindowLogic } from './global-windows.js';
import { SessionWindowLogic } from './session-windows.js';
import type { Accumulation } from './types.js';

/** Options of `keyed.window(assigner, options)`. */
export interface WindowOptions {
  /** How long after a window's end late records are still admitted (default 0). */
  readonly allowedLateness?: Duration;
  /** `'accumulating'` (default): each pane holds everything so far; `'discarding'`: only what is new. */
  readonly accumulation?: Accumulation;
}

const ACCUMULATIONS: readonly string[] = ['accumulating', 'discarding'];

/** Checks that `agg` has the aggregate shape, naming `where` otherwise. */
export function checkAggregate(agg: unknown, where: string): Aggregate<unknown, unknown, unknown> {
  const a = agg as Record<string, unknown> | null;
  for (const m of ['create', 'add', 'merge', 'result']) {
    if (a === null || typeof a !== 'object' || typeof a[m] !== 'function') {
      throw new PlanError(`${where}: an aggregate needs functions create, add, merge and result (missing ${m})`);
    }
  }
  return agg as Aggregate<unknown, unknown, unknown>;
}

/** Validates window options (when `.window()` is called), naming the factory on failure. */
export function checkWindowOptions(options: WindowOptions): Pick<WindowSettings, 'allowedLateness' | 'discarding'> {
  const where = 'tidemark.window';
  if (options === null || typeof options !== 'object') throw new PlanError(`${where}: options must be an object`);
  const L = options.allowedLateness === undefined ? 0 : toMillis(options.allowedLateness, `${where}: allowedLateness`);
  if (L < 0) throw new PlanError(`${where}: allowedLateness must be ≥ 0, got ${L} ms`);
  const acc = options.accumulation ?? 'accumulating';
  if (!ACCUMULATIONS.includes(acc)) {
    throw new PlanError(`${where}: accumulation must be 'accumulating' or 'discarding', got '${String(acc)}'`);
  }
  return { allowedLateness: L, discarding: acc === 'discarding' };
}

/** Window options plus what to compute: the settings a window operator runs with. */
export function windowSettings(
  options: WindowOptions,
  aggregate: Aggregate<unknown, unknown, unknown>,
  process: ProcessWindowFn | undefined,
): WindowSettings {
  return { ...checkWindowOptions(options), aggregate, process };
}

/** Checks an assigner descriptor (from tumbling/sliding/session/globalWindow). */
export function checkAssigner(assigner: unknown): WindowAssigner {
  const kind = (assigner as { kind?: unknown } | null)?.kind;
  if (kind !== 'tumbling' && kind !== 'sliding' && kind !== 'session' && kind !== 'global') {
    throw new PlanError('tidemark.window: the assigner must come from tumbling(), sliding(), session() or globalWindow()');
  }
  return assigner as WindowAssigner;
}

/** The operator factory for a keyed window with `settings`. */
export function windowOperator(assigner: WindowAssigner, settings: WindowSettings): OperatorFactory {
  return {
    kind: `window:${assigner.kind}`,
    build(ctx) {
      switch (assigner.kind) {
        case 'tumbling':
          return new AlignedWindowLogic(ctx, assigner.size, assigner.size, assigner.offset, settings);
        case 'sliding':
          return new AlignedWindowLogic(ctx, assigner.size, assigner.slide, assigner.offset, settings);
        case 'session':
          return new SessionWindowLogic(ctx, assigner.gap, assigner.gapOf as ((r: unknown) => number) | undefined, settings);
        case 'global':
          return new GlobalWindowLogic(ctx, settings);
      }
    },
  };
}
