/**
 * Structured logs: pino, one JSON object per line on stderr (stdout stays free for a progress
 * bar and for what the pipeline prints). Errors are logged with their name and message.
 */
import { pino, type Logger } from 'pino';

/**
 * The CLI's logger at `level`, writing synchronously to stderr (so the last lines before an exit
 * are never lost).
 *
 * @example
 * const log = createLogger('info', 'run'); log.info({ id: 3 }, 'checkpoint completed');
 */
export function createLogger(level: string, command: string): Logger {
  return pino(
    { level, base: { pid: process.pid, command }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd: 2, sync: true }),
  );
}

/** An error as log fields: `{ name, message, cause? }` (stack at debug level only). */
export function errorFields(error: unknown, withStack = false): Record<string, unknown> {
  if (!(error instanceof Error)) return { name: typeof error, message: String(error) };
  return {
    name: error.name,
    message: error.message,
    ...(error.cause === undefined ? {} : { cause: errorFields(error.cause) }),
    ...(withStack && error.stack !== undefined ? { stack: error.stack } : {}),
  };
}

/** `Name: message` of an error, for a log line's text. */
export function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
