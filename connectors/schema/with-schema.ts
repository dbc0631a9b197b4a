/**
 * `withSchema(source, contract)`: a source whose records are checked against a versioned event
 * schema on the way in — valid records of older versions are upcast to the current shape, invalid
 * ones become dead letters with the validation message and their position.
 */
import { PlanError } from '../../engine/errors.js';
import type { Source } from '../../engine/source.js';
import type { EventSchema } from './contract.js';
import { decodingSource } from './decoding-source.js';

/**
 * Wraps `source` so that each record is validated (and upcast) by `contract`. Invalid records
 * become `dead-letters` chunks (`reason` is the validation message, `position` is
 * `{ source, record, partition? }`), so `read = emitted + deadLettered` holds. Timestamps and
 * partitions of the inner source are kept; acknowledgements reach it once its chunk is processed.
 *
 * @example
 * p.source(withSchema(fromArray(raw), orderPlaced), { timestamp: (o) => o.at, name: 'orders' });
 */
export function withSchema<I, T>(source: Source<I>, contract: EventSchema<T>): Source<T> {
  if (contract === null || typeof contract !== 'object' || typeof contract.check !== 'function') {
    throw new PlanError('tidemark.withSchema: expected a schema built by schema({ name, versions })');
  }
  return decodingSource<I, T>(source, {
    kind: `schema:${contract.name}(${typeof source?.kind === 'string' ? source.kind : 'source'})`,
    where: 'tidemark.withSchema',
    timestamps: false,
    decode: (raw) => contract.check(raw),
  });
}
