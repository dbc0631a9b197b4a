/**
 * Explanations of a running (or finished) pipeline: the plan as written with each operator's
 * input and output watermark and open state, and for one key and window, why it has not fired
 * yet — which input or partition holds the watermark back, and since when.
 */
import type { Key } from '../keys.js';
import type { Plan, PlanNode } from '../plan.js';
import type { Emitter } from './emitter.js';
import { OperatorNode } from './operator-node.js';
import { SourceDriver } from './source-driver.js';

const wm = (w: number): string => (w === -Infinity ? '-∞' : w === Infinity ? '+∞' : String(w));

/** The plan with live watermarks and counters, one line per node. */
export function explainPlan(plan: Plan, nodeOf: (n: PlanNode) => Emitter | undefined, now: number): string {
  const lines = [`Pipeline plan (processing time ${now}):`];
  for (const n of plan.nodes) {
    const from = n.inputs.length === 0 ? '' : ` ← ${n.inputs.map((i) => (i.port === 'main' ? i.node.name : `${i.node.name}.${i.port}`)).join(', ')}`;
    const e = nodeOf(n);
    let state = '';
    if (e instanceof SourceDriver) {
      const parts = e.partitions();
      const shown = parts.length > 1 ? ` partitions: ${parts.map((p) => `${p.id}=${wm(p.w)}${p.idle ? ' (idle)' : ''}`).join(', ')};` : '';
      state = ` watermark ${wm(e.outWatermark)};${shown} read ${e.read}, dead letters ${e.deadLettered}`;
    } else if (e instanceof OperatorNode) {
      const stats = e.logic.stats?.() ?? {};
      const extra = Object.entries(stats).filter(([, v]) => v !== 0).map(([k, v]) => `${k} ${v}`).join(', ');
      state = ` in watermark ${wm(e.watermark)}, out ${wm(e.outWatermark)}; records in ${e.recordsIn}, out ${e.out.count}${extra === '' ? '' : `; ${extra}`}`;
    } else {
      state = ' (not started)';
    }
    lines.push(`  ${n.kind} '${n.name}'${from} —${state}`);
  }
  return lines.join('\n');
}

/** Follows the input holding `node`'s watermark back, up to a source partition. */
function holder(plan: Plan, node: PlanNode, nodeOf: (n: PlanNode) => Emitter | undefined): string {
  const e = nodeOf(node);
  if (e instanceof SourceDriver) {
    const parts = e.partitions().filter((p) => p.joined && !p.idle);
    if (parts.length === 0) return `source '${node.name}' (no active partition: every partition is idle or catching up)`;
    const slow = parts.reduce((a, b) => (b.w < a.w ? b : a));
    const which = parts.length > 1 || slow.id !== -1 ? ` partition ${slow.id}` : '';
    return `source '${node.name}'${which} at watermark ${wm(slow.w)} since processing time ${slow.since}`;
  }
  if (!(e instanceof OperatorNode) || node.inputs.length === 0) return `'${node.name}'`;
  const ins = e.inputs();
  let best = -1;
  for (let i = 0; i < ins.length; i++) {
    const x = ins[i] as (typeof ins)[number];
    if (x.idle || !x.joined) continue;
    if (best < 0 || x.watermark < (ins[best] as (typeof ins)[number]).watermark) best = i;
  }
  if (best < 0) return `'${node.name}' (every input is idle)`;
  const input = node.inputs[best] as PlanNode['inputs'][number];
  const x = ins[best] as (typeof ins)[number];
  const via = node.inputs.length > 1 ? `input ${best} of '${node.name}' (watermark ${wm(x.watermark)} since processing time ${x.since}) ← ` : '';
  return `${via}${holder(plan, input.node, nodeOf)}`;
}

/** Why `[start, end)` of `key` has not fired: per window operator, its state and what holds its watermark. */
export function explainWindow(plan: Plan, nodeOf: (n: PlanNode) => Emitter | undefined, key: Key, start: number, end: number): string {
  const lines: string[] = [];
  for (const n of plan.nodes) {
    const e = nodeOf(n);
    if (!(e instanceof OperatorNode) || !n.kind.startsWith('window:')) continue;
    const held = e.logic.describeWindow?.(key, start, end);
    if (held === undefined) {
      lines.push(`'${n.name}': no state for key ${JSON.stringify(key, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))} in [${start}, ${end}) — no record was admitted to it, or it has fired and been purged`);
      continue;
    }
    const input = n.inputs[0] as PlanNode['inputs'][number];
    const waiting = e.watermark >= end - 1 ? '' : `; the input watermark is ${wm(e.watermark)}, held back by ${holder(plan, input.node, nodeOf)}`;
    lines.push(`'${n.name}': ${held}${waiting}`);
  }
  return lines.length === 0 ? 'the pipeline has no window operator' : lines.join('\n');
}
