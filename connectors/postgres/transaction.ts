/**
 * One transaction on a pooled PostgreSQL client, shared by the PostgreSQL sink and the
 * PostgreSQL checkpoint store: BEGIN, the body, COMMIT — or ROLLBACK and rethrow. The client goes
 * back to the pool afterwards; one whose ROLLBACK failed is discarded instead of reused.
 */
import type pg from 'pg';

/**
 * Runs `body` in a transaction on `client` and releases the client.
 *
 * @example
 * await inTransaction(await pool.connect(), (c) => c.query('INSERT INTO t VALUES (1)').then(() => undefined));
 */
export async function inTransaction(client: pg.PoolClient, body: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await body(client);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch((r: unknown) => {
      broken = r instanceof Error ? r : new Error(String(r));
    });
    throw e;
  } finally {
    client.release(broken);
  }
}
