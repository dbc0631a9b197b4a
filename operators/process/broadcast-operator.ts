/**
 * `keyed.connect(rules.broadcast()).process({ onRecord, onBroadcast, onTimer })`: a keyed process
 * function whose second input — a low-volume stream of rules or configuration — updates state
 * that every key sees.
 *
 * The order is fixed by event time, not by arrival, so the result does not depend on how the two
 * inputs interleave:
 * - elements of both inputs wait until the combined watermark passes them (`W ≥ t`) and are then
 *   applied in timestamp order; at equal timestamps broadcast elements come first, then keyed
 *   records (each input in arrival order), then due event-time timers, then TTL expiries — so a
 *   record at `t` sees every broadcast element at or before `t` and none after;
 * - an element that arrives at or behind the combined watermark is applied at once (counted in
 *   `behindWatermark`); only for those does the state they see depend on how far the other input
 *   had got.
 * The output watermark is held at (earliest waiting element or pending timer − 1). On several
 * workers (`OperatorContext.worker`) every worker applies every broadcast element, but only the
 * first (index 0) forwards what `onBroadcast` emits (main and side outputs), reports its errors
 * and counts it, so the result is the same at any parallelism. A broadcast
 * input that sends no watermark holds every keyed record until its end: give a rules source a
 * watermark (or an `idleTimeout`).
 */
import { UserFunctionError } from '../../engine/errors.js';
import { MinHeap } from '../../engine/heap.js';
import type { Key } from '../../engine/keys.js';
import type { OperatorFactory } from '../../engine/operator.js';
import { STATE_VERSION, StateReader } from '../snapshot.js';
import { BroadcastStore } from './broadcast-state.js';
import { PROCESS_STATE_LAYOUT, ProcessCore, type ProcessCtx } from './core.js';
import { type ProcessSettings, stateText } from './process-operator.js';
import { entriesProblem } from './state.js';

/** The validated parts of a connected process function. */
export interface BroadcastProcessSettings extends ProcessSettings {
  readonly onBroadcast: (element: unknown, ctx: ProcessCtx) => unknown;
}

interface Waiting {
  readonly t: number;
  /** 0: broadcast element, 1: keyed record. */
  readonly input: number;
  readonly seq: number;
  readonly value: unknown;
  readonly key: Key | undefined;
}

const before = (a: Waiting, b: Waiting): boolean =>
  a.t < b.t || (a.t === b.t && (a.input < b.input || (a.input === b.input && a.seq < b.seq)));

const NO_STATE = Object.freeze({});

/**
 * The connected (keyed + broadcast) process operator: input 0 is keyed, input 1 is broadcast.
 *
 * @example
 * clicks.keyBy((c) => c.user).connect(rules.broadcast()).process({
 *   onBroadcast(rule, ctx) { ctx.broadcast.set(rule.name, rule.limit); },
 *   onRecord(c, ctx) { if (c.n > (ctx.broadcast.get('limit') ?? Infinity)) ctx.emit(c); } });
 */
export function broadcastProcessOperator(settings: BroadcastProcessSettings): OperatorFactory {
  return {
    kind: 'broadcastProcess',
    interleavesWithWatermarks: true,
    stateVersion: STATE_VERSION,
    stateSignature: `broadcastProcess ${stateText(settings.state)}`,
    // broadcast state and waiting broadcast elements are on every worker; keyed records with their key
    keyedState: { fields: { core: PROCESS_STATE_LAYOUT, seq: 'max', broadcast: 'broadcast', rules: 'broadcast', waiting: 'keyed' } },
    build(octx, resume) {
      const core = new ProcessCore(octx, settings.state, settings.onRecord, settings.onTimer);
      const ctx = core.ctx;
      let store = new BroadcastStore<unknown, unknown>();
      ctx.broadcast = store;
      const waiting = new MinHeap<Waiting>(before);
      let seq = 0;
      if (resume !== undefined) seq = restore(new StateReader(octx, 'broadcastProcess'), resume, core, store, waiting);

      const applyBroadcast = (value: unknown, t: number): void => {
        core.enter(undefined, t, t);
        ctx.state = NO_STATE;
        // every worker applies the element; the first forwards its output and reports its errors
        core.muted = !core.leader;
        try {
          const r = settings.onBroadcast(value, ctx);
          if (r instanceof Promise) octx.fail('process onBroadcast returned a promise; process functions are synchronous', t);
          if (core.leader) core.accepted++;
        } catch (e) {
          if (e instanceof UserFunctionError) throw e;
          if (core.leader) octx.userError(e, value, t, 'process onBroadcast threw');
        } finally {
          core.muted = false;
          core.leave(undefined);
        }
      };

      const hold = (): number => {
        const h = waiting.peek();
        const timer = core.earliestTimer();
        return (h !== undefined && h.t < timer ? h.t : timer) - 1;
      };

      core.hold = hold;
      return {
        onBatch({ values, times, keys }, input) {
          const w = octx.watermark;
          const n = values.length;
          for (let i = 0; i < n; i++) {
            const t = times[i] as number;
            const late = t <= w;
            if (late && (input === 0 || core.leader)) core.behindWatermark++;
            if (input === 1) {
              if (late) applyBroadcast(values[i], t);
              else waiting.push({ t, input: 0, seq: seq++, value: values[i], key: undefined });
            } else {
              const key = (keys as readonly Key[])[i] as Key;
              if (late) core.processRecord(values[i], t, key);
              else waiting.push({ t, input: 1, seq: seq++, value: values[i], key });
            }
          }
        },
        onWatermark(w) {
          if (w === Infinity) core.ending = true;
          for (let h = waiting.peek(); h !== undefined && h.t <= w; h = waiting.peek()) {
            core.fireDue(h.t - 1);
            waiting.pop();
            if (h.input === 0) applyBroadcast(h.value, h.t);
            else core.processRecord(h.value, h.t, h.key as Key);
          }
          core.onWatermark(w);
          core.settle();
        },
        holdWatermark: hold,
        onEnd() {
          core.clear();
          store = new BroadcastStore<unknown, unknown>();
          ctx.broadcast = store;
        },
        /**
         * `{ core, seq, broadcast: [[key, value], …], rules: [[t, seq, value], …], waiting: [[key, t, seq, value], …] }`:
         * the keyed state (see `ProcessCore.snapshot`), the broadcast state, and the broadcast
         * elements and keyed records waiting for the watermark.
         */
        snapshot(): unknown {
          const rules: unknown[] = [];
          const keyed: unknown[] = [];
          for (const h of waiting.toArray().sort((a, b) => (before(a, b) ? -1 : 1))) {
            if (h.input === 0) rules.push([h.t, h.seq, h.value]);
            else keyed.push([h.key, h.t, h.seq, h.value]);
          }
          return { core: core.snapshot(), seq, broadcast: [...store.entries()], rules, waiting: keyed };
        },
        stats: () => ({ ...core.stats(), buffered: waiting.size, broadcastEntries: store.size }),
      };
    },
  };
}

/** Restores a broadcast process operator's state; returns the next sequence number. */
function restore(r: StateReader, resume: unknown, core: ProcessCore, store: BroadcastStore<unknown, unknown>, waiting: MinHeap<Waiting>): number {
  const o = r.object(resume, 'the state');
  const seq = r.count(o['seq'], 'seq');
  const problem = entriesProblem(o['broadcast']);
  if (problem !== undefined) r.fail(`broadcast state ${problem}`);
  const items: Waiting[] = r.array(o['rules'], 'rules').map((v, i) => {
    const x = r.array(v, `rules[${i}]`, 3);
    return { t: r.number(x[0], `rules[${i}] timestamp`), input: 0, seq: r.count(x[1], `rules[${i}] seq`), value: x[2], key: undefined };
  });
  for (const { key, row } of r.keyed(o['waiting'], 'waiting', 4)) {
    items.push({ t: r.number(row[1], 'waiting record timestamp'), input: 1, seq: r.count(row[2], 'waiting record seq'), value: row[3], key });
  }
  core.restore(r, o['core']);
  for (const [k, v] of o['broadcast'] as [unknown, unknown][]) store.set(k, v);
  for (const w of items) waiting.push(w);
  return seq;
}
