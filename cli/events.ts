/**
 * A run's events (checkpoints, restores, restarts, sink retries, stopping) as structured log
 * lines and metrics.
 */
import type { Logger } from 'pino';
import type { PipelineEvent, PipelineEventListener } from '../index.js';
import { errorFields } from './logger.js';
import type { RunMetrics } from './metrics.js';

/**
 * The listener the CLI passes as `PipelineOptions.onEvent`.
 *
 * @example
 * new Pipeline({ onEvent: eventListener(log, metrics) });
 */
export function eventListener(log: Logger, metrics: RunMetrics | undefined): PipelineEventListener {
  return (event: PipelineEvent) => {
    metrics?.record(event);
    switch (event.type) {
      case 'checkpoint-completed': {
        const c = event.checkpoint;
        log.info({ event: event.type, id: c.id, type: c.type, bytes: c.bytes, durationMs: event.durationMs, location: c.location }, `${c.type} ${c.id} completed`);
        break;
      }
      case 'checkpoint-failed':
        log.error({ event: event.type, id: event.id, error: errorFields(event.error) }, `checkpoint ${event.id} failed`);
        break;
      case 'restored':
        log.info({ event: event.type, id: event.id, type: event.checkpointType, takenAt: event.takenAt }, `restored from ${event.checkpointType} ${event.id}`);
        break;
      case 'restart':
        log.warn({ event: event.type, attempt: event.attempt, delayMs: event.delayMs, error: errorFields(event.error) }, `run failed; restart ${event.attempt} from the last checkpoint in ${event.delayMs} ms`);
        break;
      case 'sink-retry':
        log.warn({ event: event.type, sink: event.sink, attempt: event.attempt, delayMs: event.delayMs, error: errorFields(event.error) }, `sink '${event.sink}' failed; retry ${event.attempt} in ${event.delayMs} ms`);
        break;
      case 'stopping':
        log.info({ event: event.type, reason: event.reason }, `stopping (${event.reason}): final checkpoint, then exit`);
        break;
    }
  };
}
