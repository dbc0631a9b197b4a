/**
 * The window operator for the global window: one accumulator per key, fired once at end of input
 * (watermark `+∞`) in the order keys first arrived.
 */
import type { Batch } from '../../engine/batch.js';
import { UserFunctionError } from '../../engine/errors.js';
import { KeyInterner, type Key } from '../../engine/keys.js';
import type { OperatorContext, OperatorLogic } from '../../engine/operator.js';
import { WindowEmitter, type WindowSettings } from './emitter.js';

/** Running state of one global window operator. */
export class GlobalWindowLogic implements OperatorLogic {
  private readonly keys = new KeyInterner();
  private readonly accs: unknown[] = [];
  private readonly emit: WindowEmitter;

  constructor(private readonly ctx: OperatorContext, private readonly settings: WindowSettings) {
    this.emit = new WindowEmitter(ctx, settings);
  }

  onBatch(batch: Batch): void {
    const { values, times } = batch;
    const keys = batch.keys as readonly Key[];
    const agg = this.settings.aggregate;
    const accs = this.accs;
    const n = values.length;
    let i = 0;
    while (i < n) {
      try {
        for (; i < n; i++) {
          const id = this.keys.intern(keys[i] as Key);
          if (id === accs.length) accs.push(agg.create());
          accs[id] = agg.add(accs[id], values[i]);
          this.emit.accepted++;
        }
      } catch (e) {
        if (e instanceof UserFunctionError) throw e;
        this.ctx.userError(e, values[i], times[i], 'aggregate add() threw');
        i++;
      }
    }
  }

  onWatermark(W: number): void {
    if (W !== Infinity) return;
    for (let id = 0; id < this.accs.length; id++) {
      this.emit.pane(this.keys.keyOf(id), -Infinity, Infinity, this.accs[id], 'on-time', 0, true);
    }
    this.accs.length = 0;
  }

  stats(): Record<string, number> {
    return this.emit.stats(this.accs.length);
  }
}
