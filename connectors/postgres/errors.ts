/**
 * Errors of the PostgreSQL sink, with credentials scrubbed: the message never contains the
 * password or the connection string, and the driver's error is not attached (only its SQLSTATE
 * code and detail are kept).
 */
import { TidemarkError } from '../../engine/errors.js';

/** A PostgreSQL sink failed (connection, statement, transaction). `code` is the SQLSTATE when the server answered. */
export class PostgresError extends TidemarkError {
  override name = 'PostgresError';
  constructor(
    message: string,
    /** SQLSTATE, e.g. `'23505'`, when the server reported the error. */
    readonly code?: string,
    /** The server's detail line, if any. */
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** Secrets to scrub from messages: passwords and connection strings found in `connection` and the environment. */
export function secretsOf(connection: unknown): string[] {
  const secrets: string[] = [];
  const add = (s: unknown): void => {
    if (typeof s === 'string' && s.length >= 3) secrets.push(s, encodeURIComponent(s));
  };
  const fromUrl = (url: string): void => {
    add(url);
    const m = /^[a-z][a-z0-9+.-]*:\/\/([^:@/]*):([^@/]*)@/i.exec(url);
    if (m !== null) {
      add(m[2]);
      try {
        add(decodeURIComponent(m[2] as string));
      } catch {
        // not percent-encoded
      }
    }
    const pw = /(?:^|[\s&?])password=([^\s&]+)/i.exec(url);
    if (pw !== null) add(pw[1]);
  };
  if (typeof connection === 'string') fromUrl(connection);
  else if (connection !== null && typeof connection === 'object') {
    const c = connection as { password?: unknown; connectionString?: unknown };
    if (typeof c.password === 'string') add(c.password);
    if (typeof c.connectionString === 'string') fromUrl(c.connectionString);
  }
  add(process.env['PGPASSWORD']);
  if (typeof process.env['DATABASE_URL'] === 'string') fromUrl(process.env['DATABASE_URL']);
  // longest first, so a connection string is replaced whole before its password
  return [...new Set(secrets)].sort((a, b) => b.length - a.length);
}

/** `text` with every secret replaced by `***`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}

/** A {@link PostgresError} for `what` failing with `e`, credentials scrubbed, the driver error not attached. */
export function postgresError(where: string, what: string, e: unknown, secrets: readonly string[]): PostgresError {
  if (e instanceof PostgresError) return e;
  const err = e as { message?: unknown; code?: unknown; detail?: unknown } | null;
  const message = typeof err?.message === 'string' ? err.message : String(e);
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const detail = typeof err?.detail === 'string' ? scrub(err.detail, secrets) : undefined;
  return new PostgresError(scrub(`${where}: ${what} failed: ${message}${code === undefined ? '' : ` (${code})`}`, secrets), code, detail);
}
