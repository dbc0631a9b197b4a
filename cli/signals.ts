/**
 * Clean shutdown on SIGINT/SIGTERM: the first signal stops the pipeline (sources stop, a final
 * checkpoint is taken, sinks commit and close — optionally after a savepoint); a second signal
 * exits at once with code 130.
 */
import type { Logger } from 'pino';
import type { Pipeline } from '../index.js';
import { errorFields } from './logger.js';

/** Code of an exit forced by a second signal. */
export const FORCED_EXIT_CODE = 130;

/**
 * Installs the handlers; the returned function removes them.
 *
 * @example
 * const uninstall = handleSignals(p, log, { savepoint: false, abort: controller });
 */
export function handleSignals(
  p: Pick<Pipeline, 'stop' | 'savepoint'>,
  log: Logger,
  options: { readonly savepoint: boolean; readonly abort: AbortController; readonly exit: (code: number) => void },
): () => void {
  let received: string | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (received !== undefined) {
      log.warn({ signal, first: received }, `received ${signal} while stopping: exiting now without waiting for the final checkpoint`);
      options.exit(FORCED_EXIT_CODE);
      return;
    }
    received = signal;
    log.info({ signal }, `received ${signal}: stopping cleanly (send it again to exit at once)`);
    const stop = (): void => {
      p.stop(signal);
      options.abort.abort(new Error(`stopped by ${signal}`));
    };
    if (!options.savepoint) {
      stop();
      return;
    }
    p.savepoint().then(
      (info) => {
        log.info({ event: 'savepoint', id: info.id, location: info.location, bytes: info.bytes }, `savepoint ${info.id} taken before stopping`);
        stop();
      },
      (error: unknown) => {
        log.error({ error: errorFields(error) }, 'the savepoint before stopping failed; stopping with the final checkpoint only');
        stop();
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
