/**
 * Errors of multi-process runs.
 */
import { TidemarkError } from '../../engine/errors.js';

/**
 * A keyed operator of the task for partition `partition` met a key whose key group another
 * partition owns: the source is not partitioned by this key. The task stops instead of processing
 * it (its state would be split across processes); declare the keyBy in `repartition`.
 *
 * @example
 * runPartitioned({ …, onEvent: (e) => { if (e.type === 'failed' && e.error instanceof PartitioningError) console.error(e.error.operator); } });
 */
export class PartitioningError extends TidemarkError {
  override name = 'PartitioningError';
  constructor(message: string, readonly operator: string, readonly partition: number, readonly owner: number) {
    super(message);
  }
}
