/**
 * `keyed.process({ state, onRecord, onTimer })`: per-key logic with typed state and timers.
 *
 * - Records are handled on arrival, in arrival order. A record at or behind the watermark is
 *   handled like any other (the function decides; `ctx.timestamp <= ctx.watermark` tells it) and
 *   counted in `behindWatermark`.
 * - Event-time timers fire when the watermark reaches them (`W ≥ t`), in timestamp order (ties in
 *   registration order), before that watermark is forwarded; a timer registered at or behind the
 *   watermark fires at the next advance. At end of input every timer fires; timers that a timer
 *   registers during that last pass beyond its key's horizon — the key's largest record timestamp
 *   or event-time timer set before that pass — are dropped (`timersDroppedAtEnd`), so
 *   self-renewing timers end. Processing-time timers fire through the pipeline clock.
 * - The output watermark is held at (earliest pending event-time timer − 1). An emission at or
 *   behind the input watermark of the last completed advance goes to `late()`.
 * - A key's results depend only on its records and timers and on the watermarks, so they are the
 *   same at any parallelism.
 * - The operator asks its sources to deliver each watermark advance before the next record, so
 *   its output does not depend on batching.
 */
import type { Key } from '../../engine/keys.js';
import type { OperatorFactory } from '../../engine/operator.js';
import { PROCESS_STATE_LAYOUT, ProcessCore, type ProcessCtx, type ResolvedState } from './core.js';
import { STATE_VERSION, StateReader } from '../snapshot.js';
import type { TimerInfo } from './types.js';

/** The state descriptors as signature text, e.g. `state(n: value, seen: list)`. */
export function stateText(state: readonly ResolvedState[]): string {
  return `state(${state.map((d) => `${d.name}: ${d.kind}`).join(', ')})`;
}

/** The validated parts of a process function. */
export interface ProcessSettings {
  readonly state: readonly ResolvedState[];
  readonly onRecord: (record: unknown, ctx: ProcessCtx) => unknown;
  readonly onTimer: ((timer: TimerInfo, ctx: ProcessCtx) => unknown) | undefined;
}

/**
 * The keyed process operator.
 *
 * @example
 * keyed.process({ state: { n: valueState<number>() },
 *   onRecord(r, ctx) { ctx.state.n.set((ctx.state.n.get() ?? 0) + 1); ctx.timers.registerEventTime(ctx.timestamp + 1000); },
 *   onTimer(t, ctx) { ctx.emit({ key: ctx.key, n: ctx.state.n.get() }); ctx.state.n.clear(); } });
 */
export function processOperator(settings: ProcessSettings): OperatorFactory {
  return {
    kind: 'process',
    interleavesWithWatermarks: true,
    stateVersion: STATE_VERSION,
    stateSignature: `process ${stateText(settings.state)}`,
    keyedState: PROCESS_STATE_LAYOUT,
    build(ctx, resume) {
      const core = new ProcessCore(ctx, settings.state, settings.onRecord, settings.onTimer);
      if (resume !== undefined) core.restore(new StateReader(ctx, 'process'), resume);
      return {
        onBatch({ values, times, keys }) {
          const n = values.length;
          const w = ctx.watermark;
          for (let i = 0; i < n; i++) {
            const t = times[i] as number;
            if (t <= w) core.behindWatermark++;
            core.processRecord(values[i], t, (keys as readonly Key[])[i] as Key);
          }
        },
        onWatermark(w) {
          core.onWatermark(w);
          core.settle();
        },
        holdWatermark: () => core.hold(),
        onEnd() {
          core.clear();
        },
        snapshot: () => core.snapshot(),
        stats: () => core.stats(),
      };
    },
  };
}
