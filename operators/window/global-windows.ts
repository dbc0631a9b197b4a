/**
 * The window operator for the global window: one accumulator per key, fired once at end of input
 * (watermark `+∞`) in the order keys first arrived.
 */
import type { Batch } from '../../engine/batch.js';
import { UserFunctionError } from '../../engine/errors.js';
import { type Key, KeyMap, ownKey } from '../../engine/keys.js';
import type { OperatorContext, OperatorLogic } from '../../engine/operator.js';
import type { StateLayout } from '../../engine/state-layout.js';
import { StateReader, accOut } from '../snapshot.js';
import { WindowEmitter, type WindowSettings } from './emitter.js';

/** The key-group layout of `GlobalWindowLogic.snapshot()`. */
export const GLOBAL_WINDOW_LAYOUT: StateLayout = { fields: { keys: 'keyed' } };

/** Running state of one global window operator. */
export class GlobalWindowLogic implements OperatorLogic {
  private readonly slots = new KeyMap<number>();
  private keys: Key[] = [];
  private accs: unknown[] = [];
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
          const key = keys[i] as Key;
          let slot = this.slots.get(key);
          if (slot === undefined) {
            slot = accs.length;
            this.slots.set(key, slot);
            this.keys.push(ownKey(key));
            accs.push(agg.create());
          }
          accs[slot] = agg.add(accs[slot], values[i]);
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
    for (let j = 0; j < this.accs.length; j++) {
      this.emit.pane(this.keys[j] as Key, -Infinity, Infinity, this.accs[j], 'on-time', 0, true);
    }
    this.keys = [];
    this.accs = [];
  }

  /** `{ keys: [[key, acc], …] }` in first-arrival order. */
  snapshot(): unknown {
    const agg = this.settings.aggregate;
    return { keys: this.keys.map((k, j) => [k, accOut(agg, this.accs[j])]) };
  }

  /** Restores what `snapshot()` returned (called once, right after construction). */
  restore(resume: unknown): void {
    const r = new StateReader(this.ctx, 'window');
    const rows = r.keyed(r.object(resume, 'the state')['keys'], 'keys', 2);
    const agg = this.settings.aggregate;
    const accs = rows.map(({ row }, i) => r.acc(agg, row[1], `keys[${i}] accumulator`));
    for (let j = 0; j < rows.length; j++) {
      const key = (rows[j] as { key: Key }).key;
      if (this.slots.get(key) !== undefined) r.fail(`key ${String(key)} appears twice`);
      this.slots.set(key, j);
      this.keys.push(key);
    }
    this.accs = accs;
  }

  describeWindow(key: Key): string | undefined {
    return this.slots.get(key) === undefined ? undefined : 'holds state for it in the global window, which fires only at end of input';
  }

  stats(): Record<string, number> {
    return this.emit.stats(this.accs.length);
  }
}
