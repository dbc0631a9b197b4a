/**
 * The one window operator factory: picks the implementation for the assigner (aligned panes,
 * merging sessions, or the global window) and validates the window options when the plan is built.
 */
import type { Aggregate } from '../../engine/aggregate.js';
import { PlanError } from '../../engine/errors.js';
import type { OperatorContext, OperatorFactory, OperatorLogic } from '../../engine/operator.js';
import { type Duration, toMillis } from '../../engine/time.js';
import type { StateLayout } from '../../engine/state-layout.js';
import { ALIGNED_WINDOW_LAYOUT, AlignedWindowLogic } from './aligned.js';
import { STATE_VERSION, aggregateName } from '../snapshot.js';
import { type WindowAssigner, assignerText } from './assigners.js';
import type { ProcessWindowFn, WindowSettings } from './emitter.js';
import { GLOBAL_WINDOW_LAYOUT, GlobalWindowLogic } from './global-windows.js';
import { SESSION_WINDOW_LAYOUT, SessionWindowLogic } from './session-windows.js';
import { TRIGGERED_WINDOW_LAYOUT, TriggeredWindowLogic } from './triggered-windows.js';
import { type TriggerOptions, checkTrigger, isDefaultTrigger, triggerText } from './triggers.js';
import type { Accumulation } from './types.js';

/** Options of `keyed.window(assigner, options)`. */
export interface WindowOptions {
  /** How long after a window's end late records are still admitted (default 0). */
  readonly allowedLateness?: Duration;
  /**
   * `'accumulating'` (default): each pane holds everything so far; `'discarding'`: only what is
   * new; `'retracting'`: like accumulating, and each updated pane is preceded by a retraction of
   * the previous one (merged-away sessions' panes are retracted too).
   */
  readonly accumulation?: Accumulation;
  /** When panes fire: early, on time, late (see `TriggerOptions`). */
  readonly trigger?: TriggerOptions;
  /** `'if-non-empty'` (default): a last pane at purge only if records are pending; `'always'`: a final pane at every purge. */
  readonly closing?: 'if-non-empty' | 'always';
}

const ACCUMULATIONS: readonly string[] = ['accumulating', 'discarding', 'retracting'];

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
export function checkWindowOptions(options: WindowOptions): Omit<WindowSettings, 'aggregate' | 'process' | 'retractInput'> {
  const where = 'tidemark.window';
  if (options === null || typeof options !== 'object') throw new PlanError(`${where}: options must be an object`);
  const L = options.allowedLateness === undefined ? 0 : toMillis(options.allowedLateness, `${where}: allowedLateness`);
  if (L < 0) throw new PlanError(`${where}: allowedLateness must be ≥ 0, got ${L} ms`);
  const acc = options.accumulation ?? 'accumulating';
  if (!ACCUMULATIONS.includes(acc)) {
    throw new PlanError(`${where}: accumulation must be 'accumulating', 'discarding' or 'retracting', got '${String(acc)}'`);
  }
  const closing = options.closing ?? 'if-non-empty';
  if (closing !== 'if-non-empty' && closing !== 'always') throw new PlanError(`${where}: closing must be 'if-non-empty' or 'always', got '${String(closing)}'`);
  return {
    allowedLateness: L,
    discarding: acc === 'discarding',
    retracting: acc === 'retracting',
    closingAlways: closing === 'always',
    trigger: checkTrigger(options.trigger),
  };
}

/** Window options plus what to compute: the settings a window operator runs with. */
export function windowSettings(
  options: WindowOptions,
  aggregate: Aggregate<unknown, unknown, unknown>,
  process: ProcessWindowFn | undefined,
  retractInput: boolean,
): WindowSettings {
  const settings = { ...checkWindowOptions(options), aggregate, process, retractInput };
  if (settings.retracting && process !== undefined) {
    throw new PlanError('tidemark.process: retracting accumulation needs an aggregate (a process function emits free-form outputs that cannot be retracted)');
  }
  if (retractInput && typeof aggregate.retract !== 'function') {
    throw new PlanError(`tidemark.aggregate: the input carries retractions (an upstream window is retracting), so the aggregate${aggregate.name === undefined ? '' : ` '${aggregate.name}'`} needs a retract(acc, value) function`);
  }
  return settings;
}

/** True when the settings need per-(key, window) trigger state (not the shared-pane fast path). */
export function needsPaneState(settings: WindowSettings): boolean {
  return !isDefaultTrigger(settings.trigger) || settings.retracting || settings.closingAlways || settings.retractInput;
}

/** Checks an assigner descriptor (from tumbling/sliding/session/globalWindow). */
export function checkAssigner(assigner: unknown): WindowAssigner {
  const kind = (assigner as { kind?: unknown } | null)?.kind;
  if (kind !== 'tumbling' && kind !== 'sliding' && kind !== 'session' && kind !== 'global' && kind !== 'calendar') {
    throw new PlanError('tidemark.window: the assigner must come from tumbling(), sliding(), session(), calendar() or globalWindow()');
  }
  return assigner as WindowAssigner;
}

/**
 * The state signature of a window operator: assigner, what it computes, accumulation, and a
 * non-default trigger or closing — e.g. `window tumbling(10000) count accumulating`.
 */
export function windowSignature(assigner: WindowAssigner, settings: WindowSettings): string {
  const what = settings.process === undefined ? aggregateName(settings.aggregate) : 'process';
  const mode = settings.retracting ? 'retracting' : settings.discarding ? 'discarding' : 'accumulating';
  const extra = [triggerText(settings.trigger), settings.closingAlways ? 'closing always' : '', settings.retractInput ? 'retracting input' : '']
    .filter((x) => x.length > 0);
  return `window ${assignerText(assigner)} ${what} ${mode}${needsPaneState(settings) ? ' per-window' : ''}${extra.length > 0 ? ` (${extra.join('; ')})` : ''}`;
}

/** The operator factory for a keyed window with `settings`. */
export function windowOperator(assigner: WindowAssigner, settings: WindowSettings): OperatorFactory {
  const impl = implementation(assigner, settings);
  return {
    kind: `window:${assigner.kind}`,
    // early panes (by count, or continuous in event time) see records that arrive before the next
    // watermark step: deliver every advance before the next record
    interleavesWithWatermarks: settings.trigger.earlyRecords > 0 || settings.trigger.earlyEvery > 0,
    stateVersion: STATE_VERSION,
    stateSignature: windowSignature(assigner, settings),
    keyedState: impl.layout,
    build(ctx, resume) {
      const logic = impl.create(ctx);
      if (resume !== undefined) logic.restore(resume);
      return logic;
    },
  };
}

/** The implementation for the assigner and settings: its logic and the layout of its state. */
function implementation(assigner: WindowAssigner, settings: WindowSettings): {
  layout: StateLayout;
  create(ctx: OperatorContext): OperatorLogic & { restore(resume: unknown): void };
} {
  const perWindow = needsPaneState(settings);
  switch (assigner.kind) {
    case 'tumbling':
    case 'sliding': {
      const { size, offset } = assigner;
      const slide = assigner.kind === 'tumbling' ? size : assigner.slide;
      return perWindow
        ? { layout: TRIGGERED_WINDOW_LAYOUT, create: (ctx) => new TriggeredWindowLogic(ctx, size, slide, offset, settings) }
        : { layout: ALIGNED_WINDOW_LAYOUT, create: (ctx) => new AlignedWindowLogic(ctx, size, slide, offset, settings) };
    }
    case 'session':
      return { layout: SESSION_WINDOW_LAYOUT, create: (ctx) => new SessionWindowLogic(ctx, assigner.gap, assigner.gapOf as ((r: unknown) => number) | undefined, settings, assigner.maxLength) };
    case 'calendar':
      return { layout: TRIGGERED_WINDOW_LAYOUT, create: (ctx) => new TriggeredWindowLogic(ctx, NaN, Infinity, 0, settings, assigner) };
    case 'global':
      return perWindow
        ? { layout: TRIGGERED_WINDOW_LAYOUT, create: (ctx) => new TriggeredWindowLogic(ctx, Infinity, Infinity, 0, settings) }
        : { layout: GLOBAL_WINDOW_LAYOUT, create: (ctx) => new GlobalWindowLogic(ctx, settings) };
  }
}
