/**
 * Connecting to NATS for the JetStream source and sink: server list and credentials (from options
 * or the environment), reconnection policy, and redaction, so that a password or token never
 * appears in an error message, a log line or a dead letter.
 */
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { PlanError, describeError } from '../../engine/errors.js';

/** Connection options shared by `fromJetStream` and `toJetStream`. */
export interface JetStreamConnectionOptions {
  /** `'127.0.0.1:4222'`, `'nats://host:4222'` or a list of them. */
  readonly servers: string | readonly string[];
  /** User name; defaults to the `NATS_USER` environment variable. */
  readonly user?: string;
  /** Password; defaults to `NATS_PASSWORD`. Never logged, never in errors. */
  readonly pass?: string;
  /** Token; defaults to `NATS_TOKEN`. Never logged, never in errors. */
  readonly token?: string;
  /** Client name shown by the server (default `tidemark`). */
  readonly name?: string;
  /**
   * Reconnection after the server goes away: `maxAttempts` (default 120; −1 = forever) spaced
   * `waitMs` apart (default 500). When they run out, the connection closes and the run fails.
   */
  readonly reconnect?: { readonly maxAttempts?: number; readonly waitMs?: number };
}

/** Validated connection settings (secrets kept apart so they can be redacted). */
export interface JetStreamConnection {
  readonly servers: string[];
  readonly options: ConnectionOptions;
  /** Strings that must never appear in a message. */
  readonly secrets: readonly string[];
}

/** Validates the connection options eagerly; `where` names the factory. */
export function connectionOf(o: JetStreamConnectionOptions, where: string): JetStreamConnection {
  const list = typeof o.servers === 'string' ? [o.servers] : Array.isArray(o.servers) ? [...(o.servers as readonly unknown[])] : undefined;
  if (list === undefined || list.length === 0 || list.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new PlanError(`${where}: servers must be a non-empty string or list of strings such as '127.0.0.1:4222'`);
  }
  const servers = list as string[];
  const env = process.env;
  const user = o.user ?? env['NATS_USER'];
  const pass = o.pass ?? env['NATS_PASSWORD'];
  const token = o.token ?? env['NATS_TOKEN'];
  for (const [k, v] of [['user', user], ['pass', pass], ['token', token]] as const) {
    if (v !== undefined && typeof v !== 'string') throw new PlanError(`${where}: ${k} must be a string`);
  }
  const maxAttempts = o.reconnect?.maxAttempts ?? 120;
  const waitMs = o.reconnect?.waitMs ?? 500;
  if (!Number.isInteger(maxAttempts) || maxAttempts < -1) throw new PlanError(`${where}: reconnect.maxAttempts must be an integer ≥ −1`);
  if (!Number.isFinite(waitMs) || waitMs < 0) throw new PlanError(`${where}: reconnect.waitMs must be a number ≥ 0`);
  if (o.name !== undefined && typeof o.name !== 'string') throw new PlanError(`${where}: name must be a string`);
  const secrets = [pass, token, ...servers.flatMap(urlSecrets)].filter((s): s is string => typeof s === 'string' && s.length > 0);
  const options: ConnectionOptions = {
    servers,
    name: o.name ?? 'tidemark',
    maxReconnectAttempts: maxAttempts,
    reconnectTimeWait: waitMs,
    reconnectJitter: Math.min(100, waitMs),
    ...(user !== undefined ? { user } : {}),
    ...(pass !== undefined ? { pass } : {}),
    ...(token !== undefined ? { token } : {}),
  };
  return { servers, options, secrets };
}

/** The user-info parts of a server URL (`nats://user:pass@host`), which are secrets too. */
function urlSecrets(server: string): string[] {
  const m = /^[a-z]+:\/\/([^@/]*)@/i.exec(server);
  if (m === null || m[1] === undefined) return [];
  return [m[1], ...m[1].split(':')].filter((s) => s.length > 0);
}

/** `text` with every secret replaced by `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('***');
  return out.replace(/([a-z]+:\/\/)[^@/\s]*@/gi, '$1***@');
}

/** A short, redacted description of an error. */
export function describeRedacted(e: unknown, secrets: readonly string[]): string {
  return redact(describeError(e), secrets);
}

/**
 * Connects, or throws `makeError(message)` with a redacted message (the client's own error is not
 * kept as `cause`, since it could carry the connection options).
 */
export async function openConnection(c: JetStreamConnection, where: string, makeError: (message: string) => Error): Promise<NatsConnection> {
  try {
    return await connect(c.options);
  } catch (e) {
    throw makeError(`${where}: cannot connect to ${redact(c.servers.join(', '), c.secrets)}: ${describeRedacted(e, c.secrets)}`);
  }
}
