/**
 * Service availability for connector tests: a test file asks for the services it needs; when one
 * is absent the tests skip with the reason — except under `CI=true`, where `.ci/run` has started
 * them and an absent service is a failure.
 */
import { createConnection } from 'node:net';

/** Resolves when something accepts TCP connections on 127.0.0.1:`port` (bounded by `timeoutMs`). */
export function tcpProbe(port: number, timeoutMs = 2_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer on 127.0.0.1:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.end();
      resolve();
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** The well-known local services (see shared/design/services.md). */
export const SERVICES = {
  postgres: 5432,
  redis: 6379,
  nats: 4222,
  rabbitmq: 5672,
  mosquitto: 1883,
  mariadb: 3306,
} as const;

/**
 * True when `name` is reachable. Absent: logs why and returns false (tests skip), or throws under
 * CI=true. Use with `describe.skipIf(!(await available('redis')))`.
 */
export async function available(name: keyof typeof SERVICES): Promise<boolean> {
  try {
    await tcpProbe(SERVICES[name]);
    return true;
  } catch (e) {
    const why = `${name} is not reachable on 127.0.0.1:${SERVICES[name]} (${e instanceof Error ? e.message : String(e)})`;
    if (process.env['CI'] === 'true') throw new Error(`${why}; CI=true requires it (.ci/run starts it)`);
    console.warn(`skipping ${name} tests: ${why}`);
    return false;
  }
}

/** A name unique to this test run, for streams, consumers, keys and tables. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
}
