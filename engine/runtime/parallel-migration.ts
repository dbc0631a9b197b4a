/**
 * State migrations of a parallel run's restore, done once by its coordinator: the workers report
 * the plan's layout (each node's name, whether it is a source, its operator's state identity) as
 * plain data, and the coordinator — which holds the user's migration functions — checks the
 * checkpoint against it with the same rules as a single-process restore (`restoredOperators`),
 * migrates what changed and drops what `allowNonRestoredState` lets it drop. The result is an
 * ordinary checkpoint in the plan's current format, which every worker then restores its share of.
 */
import type { Checkpoint, OperatorCheckpoint, SourceCheckpoint, StateMigration } from '../checkpoint.js';
import type { Plan } from '../plan.js';
import { type RestorableNode, restoredOperators } from './restore.js';

/** A plan as a restore sees it (plain data: it crosses threads). */
export interface PlanLayout {
  readonly nodes: readonly {
    readonly name: string;
    readonly source?: true;
    readonly factory?: { readonly kind: string; readonly stateVersion?: number; readonly stateSignature?: string };
  }[];
}

/**
 * The layout of `plan`.
 *
 * @example
 * worker.postMessage({ type: 'ready', layout: planLayout(pipeline.plan) });
 */
export function planLayout(plan: Plan): PlanLayout {
  return {
    nodes: plan.nodes.map((n) => {
      const f = n.factory;
      const factory = f === undefined ? undefined : {
        kind: f.kind,
        ...(f.stateVersion === undefined ? {} : { stateVersion: f.stateVersion }),
        ...(f.stateSignature === undefined ? {} : { stateSignature: f.stateSignature }),
      };
      return { name: n.name, ...(n.source === undefined ? {} : { source: true as const }), ...(factory === undefined ? {} : { factory }) };
    }),
  };
}

/**
 * `checkpoint` made restorable by the plan of `layout`: refused (a `CheckpointError`, as a
 * single-process restore refuses it) when state does not fit and no migration converts it;
 * migrated state is stamped with the operator's current kind, version and signature; state of
 * operators and sources the plan lacks is dropped when `allowNonRestoredState`.
 *
 * @example
 * const restorable = migrateCheckpoint(checkpoint, layout, { perUser: (s) => upgrade(s) }, false);
 */
export function migrateCheckpoint(
  checkpoint: Checkpoint,
  layout: PlanLayout,
  migrations: Readonly<Record<string, StateMigration>>,
  allowNonRestoredState: boolean,
): Checkpoint {
  const states = restoredOperators(layout as { readonly nodes: readonly RestorableNode[] }, checkpoint, migrations, allowNonRestoredState);
  const byName = new Map(layout.nodes.map((n) => [n.name, n]));
  const operators: Record<string, OperatorCheckpoint> = {};
  for (const [name, state] of Object.entries(states)) {
    const f = byName.get(name)?.factory;
    if (f === undefined) continue;
    operators[name] = { kind: f.kind, version: f.stateVersion ?? 1, ...(f.stateSignature === undefined ? {} : { signature: f.stateSignature }), state };
  }
  const sources: Record<string, SourceCheckpoint> = {};
  for (const [name, saved] of Object.entries(checkpoint.sources)) if (byName.get(name)?.source === true) sources[name] = saved;
  return { ...checkpoint, operators, sources };
}
