/**
 * Redis connections for the stream source and sink: where to connect (a URL, host/port, or the
 * `REDIS_URL` environment variable), eager validation, and error messages that name the server
 * by host and port only — passwords and URLs never reach errors, logs or dead letters.
 */
import { createRequire } from 'node:module';
import type { Redis, RedisOptions } from 'ioredis';
import { PlanError, SourceError, TidemarkError } from '../../engine/errors.js';

/**
 * ioredis is loaded on first use, not when 'tidemark' is imported: merely loading it makes
 * msgpackr's encoder (checkpoints, the event log, files) 1.5–3× slower in the whole process, and
 * most pipelines never talk to Redis.
 */
const requireCjs = createRequire(import.meta.url);
let RedisClass: (typeof import('ioredis'))['Redis'] | undefined;
function redisClass(): (typeof import('ioredis'))['Redis'] {
  RedisClass ??= (requireCjs('ioredis') as typeof import('ioredis')).Redis;
  return RedisClass;
}

/** ioredis options that may be passed through (the reply mapping is fixed: RESP2 shapes). */
export type RedisClientOptions = Omit<RedisOptions, 'replyMapping' | 'protocol' | 'lazyConnect'>;

/** Where a Redis source or sink connects. Credentials come from here or from `REDIS_URL`. */
export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` (default: `process.env.REDIS_URL`, else host/port). */
  readonly url?: string;
  /** Host (default `127.0.0.1`); ignored when a URL is given. */
  readonly host?: string;
  /** Port (default 6379); ignored when a URL is given. */
  readonly port?: number;
  readonly username?: string;
  readonly password?: string;
  /** Database index (default 0). */
  readonly db?: number;
  /** Further ioredis options (timeouts, TLS, retry strategy…), passed through. */
  readonly client?: RedisClientOptions;
}

/** A validated connection target. */
export interface RedisTarget {
  /** `host:port`, safe to print. */
  readonly label: string;
  /** Strings that must never appear in a message (passwords, the URL). */
  readonly secrets: readonly string[];
  /** Creates a client (not yet connected). */
  create(): Redis;
}

/**
 * Validates connection options eagerly (messages name `where`) and returns a target.
 *
 * @example
 * const target = redisTarget({ url: 'redis://127.0.0.1:6379' }, 'tidemark.fromRedisStream');
 */
export function redisTarget(options: RedisConnectionOptions, where: string): RedisTarget {
  const url = options.url ?? (options.host === undefined && options.port === undefined ? process.env['REDIS_URL'] : undefined);
  const secrets: string[] = [];
  if (options.password !== undefined) {
    if (typeof options.password !== 'string') throw new PlanError(`${where}: password must be a string`);
    if (options.password !== '') secrets.push(options.password);
  }
  if (options.username !== undefined && typeof options.username !== 'string') throw new PlanError(`${where}: username must be a string`);
  if (options.db !== undefined && (!Number.isInteger(options.db) || options.db < 0)) {
    throw new PlanError(`${where}: db must be a non-negative integer, got ${String(options.db)}`);
  }
  if (options.client !== undefined && (options.client === null || typeof options.client !== 'object')) {
    throw new PlanError(`${where}: client must be an object of ioredis options`);
  }
  const base: RedisClientOptions & { lazyConnect: true; protocol: 2 } = {
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(options.db !== undefined ? { db: options.db } : {}),
    ...options.client,
    lazyConnect: true,
    protocol: 2,
  };
  if (url !== undefined) {
    if (typeof url !== 'string') throw new PlanError(`${where}: url must be a string`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new PlanError(`${where}: url is not a valid URL (expected redis://host:port)`);
    }
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
      throw new PlanError(`${where}: url must start with redis:// or rediss://, got ${parsed.protocol}//`);
    }
    secrets.push(url);
    if (parsed.password !== '') secrets.push(parsed.password, decodeURIComponent(parsed.password));
    const label = `${parsed.hostname}:${parsed.port === '' ? '6379' : parsed.port}`;
    return { label, secrets, create: () => new (redisClass())(url, base) };
  }
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 6379;
  if (typeof host !== 'string' || host === '') throw new PlanError(`${where}: host must be a non-empty string`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new PlanError(`${where}: port must be an integer in 1..65535, got ${String(port)}`);
  return { label: `${host}:${port}`, secrets, create: () => new (redisClass())({ ...base, host, port }) };
}

/** `message` with every secret replaced by `***`. */
export function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const s of secrets) if (s !== '') out = out.split(s).join('***');
  return out;
}

/** The message of an unknown thrown value, redacted. */
export function safeMessage(e: unknown, secrets: readonly string[]): string {
  return redact(e instanceof Error ? e.message : String(e), secrets);
}

/**
 * Creates and connects a client; failures become errors that name the server by `label` only.
 * The client's `error` events are swallowed (ioredis retries by itself); a failed command rejects.
 */
export async function connectRedis(target: RedisTarget, where: string, kind: 'source' | 'sink'): Promise<Redis> {
  const client = target.create();
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    client.disconnect();
    const message = `${where}: cannot connect to Redis at ${target.label}: ${safeMessage(e, target.secrets)}`;
    throw kind === 'source' ? new SourceError(message) : new TidemarkError(message);
  }
  return client;
}
