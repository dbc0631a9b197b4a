/**
 * Matches a checkpoint's saved state to a plan before a restore: operators and sources by their
 * stable names, operator state by kind, state version and signature. Anything that does not fit
 * is refused with a `CheckpointError` naming the operator and why — unless a migration converts
 * the state — so that a changed pipeline never starts from half-understood state. The key-group
 * count a restored run uses is the checkpoint's (`restoredKeyGroups`).
 */
import { CHECKPOINT_FORMAT, type Checkpoint, type CheckpointState, type OperatorCheckpoint, type StateMigration } from '../checkpoint.js';
import { CheckpointError, describeError } from '../errors.js';
import { DEFAULT_KEY_GROUPS, checkKeyGroups } from '../key-groups.js';
import type { OperatorFactory } from '../operator.js';

/** What a restore checks of a plan's node: its name, whether it is a source, its operator's state identity. */
export interface RestorableNode {
  readonly name: string;
  readonly source?: unknown;
  readonly factory?: Pick<OperatorFactory, 'kind' | 'stateVersion' | 'stateSignature'>;
}

function describe(kind: string, version: number, signature: string | undefined): string {
  return `${signature ?? kind} (state version ${version})`;
}

/**
 * The operator states to restore from `checkpoint`, by operator name, checked against `plan`.
 *
 * @example
 * const resume = restoredOperators(plan, checkpoint, { perUser: (s) => upgrade(s) }, false);
 */
export function restoredOperators(
  plan: { readonly nodes: readonly RestorableNode[] },
  checkpoint: Checkpoint,
  migrations: Readonly<Record<string, StateMigration>>,
  allowNonRestoredState: boolean,
): Record<string, unknown> {
  const where = `restore from ${checkpoint.type} ${checkpoint.id}`;
  if (checkpoint.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`${where}: checkpoint format ${String(checkpoint.format)} is not supported (this version reads format ${CHECKPOINT_FORMAT})`);
  }
  const byName = new Map(plan.nodes.map((n) => [n.name, n]));
  const hint = 'give operators stable names (the `name` option) so that a changed pipeline still matches, or pass allowNonRestoredState: true to drop it';
  for (const name of Object.keys(checkpoint.sources)) {
    const node = byName.get(name);
    if (node?.source === undefined && !allowNonRestoredState) {
      throw new CheckpointError(`${where}: the checkpoint has a position for source '${name}', which this pipeline does not have; ${hint}`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [name, saved] of Object.entries(checkpoint.operators) as [string, OperatorCheckpoint][]) {
    const node = byName.get(name);
    const factory = node?.factory;
    if (factory === undefined) {
      if (allowNonRestoredState) continue;
      throw new CheckpointError(`${where}: the checkpoint has state for operator '${name}' (${describe(saved.kind, saved.version, saved.signature)}), which this pipeline does not have; ${hint}`);
    }
    const version = factory.stateVersion ?? 1;
    const signature = factory.stateSignature;
    const same = saved.kind === factory.kind && saved.version === version && saved.signature === signature;
    if (same) {
      out[name] = saved.state;
      continue;
    }
    const migrate = migrations[name];
    if (migrate === undefined) {
      throw new CheckpointError(
        `${where}: operator '${name}' cannot read its saved state: it was written by ${describe(saved.kind, saved.version, saved.signature)}, ` +
          `this pipeline has ${describe(factory.kind, version, signature)}; supply migrations['${name}'] to convert it`,
      );
    }
    try {
      out[name] = migrate(saved.state, { kind: saved.kind, version: saved.version, signature: saved.signature });
    } catch (e) {
      throw new CheckpointError(`${where}: the migration of operator '${name}' failed: ${describeError(e)}`, { cause: e });
    }
  }
  return out;
}

/**
 * The key-group count of a run: the checkpoint's when it restores one that recorded it (the count
 * is fixed when a pipeline first starts, whatever the number of workers), else `requested`, else
 * {@link DEFAULT_KEY_GROUPS}. An explicit `requested` count that differs from the checkpoint's is
 * refused with a `CheckpointError` naming `where`; an invalid one with a `RangeError`.
 *
 * @example
 * restoredKeyGroups(undefined, undefined, 'tidemark.runParallel'); // 128 (a fresh start)
 * restoredKeyGroups({ keyGroups: 64 }, undefined, 'tidemark.runParallel'); // 64
 * restoredKeyGroups({ keyGroups: 64 }, 128, 'tidemark.runParallel'); // throws CheckpointError
 */
export function restoredKeyGroups(checkpoint: Pick<CheckpointState, 'keyGroups'> | undefined, requested: number | undefined, where: string): number {
  if (requested !== undefined) checkKeyGroups(requested, where);
  const saved = checkpoint?.keyGroups;
  if (saved === undefined) return requested ?? DEFAULT_KEY_GROUPS;
  try {
    checkKeyGroups(saved, where);
  } catch (e) {
    throw new CheckpointError(`${where}: the checkpoint records an invalid key-group count (${describeError(e)})`, { cause: e });
  }
  if (requested !== undefined && requested !== saved) {
    throw new CheckpointError(
      `${where}: keyGroups is ${requested}, but the checkpoint was written by a pipeline first started with ${saved} key groups; ` +
        `the key-group count is fixed when a pipeline first starts (only the number of workers may change) — omit keyGroups or pass ${saved}`,
    );
  }
  return saved;
}
