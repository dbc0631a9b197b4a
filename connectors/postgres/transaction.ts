/**
 * One transaction on a pooled PostgreSQL client, shared by the PostgreSQL sink and the
 * PostgreSQL checkpoint store: BEGIN, the body, COMMIT — or ROLLBACK and rethrow. The client goes
 * back to the pool afterwards; one whose ROLLBACK failed, or whose session the server ended, is
 * discarded instead of reused.
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
  // The server may end the session mid-transaction (e.g. idle_in_transaction_session_timeout
  // after the process was paused): the pending query rejects, and the client's 'error' event
  // must not go unhandled (it would crash the process); the client is then discarded.
  const onError = (e: Error): void => {
    broken = e;
  };
  client.on('error', onError);
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
    client.off('error', onError);
    client.release(broken);
  }
}
