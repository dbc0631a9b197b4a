/**
 * Fencing in PostgreSQL: a row per scope (`tidemark_fences (scope, token)`) holding the newest
 * fencing token seen for it — in a multi-process run, the lease revision of the partition's
 * current owner. A new owner advances the row before it restores; every later write of a store or
 * sink that carries a token checks the row in the same transaction and is refused with a
 * {@link FencedError} when a newer owner has advanced it. Row locks order a check against an
 * advance: a write either commits before the new owner's advance (and its restore then sees it) or
 * is refused after it. A writer paused inside such a transaction would block the new owner: the
 * transaction sets `idle_in_transaction_session_timeout` (the fence's `holdMs`), so the server
 * ends it — rolled back — once it has been idle that long.
 */

/** `holdMs` when a fence does not give it. */
export const DEFAULT_FENCE_HOLD_MS = 10_000;
import type pg from 'pg';
import { PlanError, TidemarkError } from '../../engine/errors.js';
import type { FenceToken } from '../../engine/sink.js';
import { quoteTable, type TableName } from './sql.js';

/**
 * A write carrying fencing token `token` for `scope` was refused: a newer owner (token `current`)
 * has taken the scope over. The writer must stop at once; its work since its last commit is redone
 * by the new owner.
 *
 * @example
 * try { await handle.stop(); } catch (e) { if (e instanceof FencedError) console.log(e.scope, e.token, e.current); }
 */
export class FencedError extends TidemarkError {
  override name = 'FencedError';
  constructor(message: string, readonly scope: string, readonly token: number, readonly current: number) {
    super(message);
  }
}

/** Checks a fence option eagerly (`where` names the factory). */
export function checkFence(fence: unknown, where: string): FenceToken | undefined {
  if (fence === undefined) return undefined;
  const f = fence as Partial<FenceToken> | null;
  if (f === null || typeof f !== 'object' || typeof f.scope !== 'string' || f.scope.length === 0 || typeof f.token !== 'number' || !Number.isSafeInteger(f.token) || f.token < 0
    || (f.holdMs !== undefined && (!Number.isSafeInteger(f.holdMs) || f.holdMs < 1))) {
    throw new PlanError(`${where}: fence must be { scope: non-empty string, token: integer ≥ 0, holdMs?: positive integer }, got ${JSON.stringify(fence)}`);
  }
  return { scope: f.scope, token: f.token, ...(f.holdMs === undefined ? {} : { holdMs: f.holdMs }) };
}

/** The quoted fence table next to `table` (same schema). */
export function fenceTableFor(table: TableName, where: string): string {
  const schema = typeof table === 'object' && table !== null ? table.schema : undefined;
  return quoteTable(schema === undefined ? 'tidemark_fences' : { schema, name: 'tidemark_fences' }, where);
}

/** `CREATE TABLE IF NOT EXISTS` of a fence table. */
export function fenceTableDdl(fences: string): string {
  return `CREATE TABLE IF NOT EXISTS ${fences} ("scope" text PRIMARY KEY, "token" bigint NOT NULL, "updated_at" timestamptz NOT NULL DEFAULT now())`;
}

/**
 * Inside a transaction on `client`: refuses with a {@link FencedError} when the scope's row holds
 * a token newer than `fence.token`; with `advance`, raises the row to `fence.token` (locking it
 * until the transaction ends), else takes a shared lock so that an advance waits for this
 * transaction. `what` names the refused write in the message.
 */
export async function enforceFence(client: pg.PoolClient, fences: string, fence: FenceToken, advance: boolean, what: string): Promise<void> {
  await client.query(`SET LOCAL idle_in_transaction_session_timeout = ${Math.floor(fence.holdMs ?? DEFAULT_FENCE_HOLD_MS)}`);
  await client.query(`INSERT INTO ${fences} ("scope", "token") VALUES ($1, $2) ON CONFLICT ("scope") DO NOTHING`, [fence.scope, fence.token]);
  const row = await client.query<{ token: string }>(`SELECT "token" FROM ${fences} WHERE "scope" = $1 ${advance ? 'FOR UPDATE' : 'FOR SHARE'}`, [fence.scope]);
  const current = Number(row.rows[0]?.token ?? fence.token);
  if (current > fence.token) {
    throw new FencedError(`${what} was refused: scope '${fence.scope}' is fenced at token ${current}, newer than this writer's ${fence.token} (another owner took it over)`, fence.scope, fence.token, current);
  }
  if (advance && current < fence.token) {
    await client.query(`UPDATE ${fences} SET "token" = $2, "updated_at" = now() WHERE "scope" = $1`, [fence.scope, fence.token]);
  }
}

/**
 * True for the errors of a `CREATE TABLE IF NOT EXISTS` that lost a race with another session
 * creating the same table (unique violation on `pg_type`, duplicate table, duplicate type): the
 * table exists.
 */
export function isConcurrentCreate(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === '23505' || code === '42P07' || code === '42710';
}
