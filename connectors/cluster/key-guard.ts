/**
 * The partition guard of a multi-process task: placed after every keyBy of a task's plan, it
 * checks that each key belongs to a key group the task's partition owns (`g ≡ p (mod P)`) and
 * passes the batch on unchanged; a key owned by another partition stops the task with a
 * `PartitioningError` — never processed in the wrong process.
 */
import { keyGroupOf } from '../../engine/key-groups.js';
import type { Key } from '../../engine/keys.js';
import type { OperatorFactory } from '../../engine/operator.js';
import { PartitioningError } from './errors.js';

/**
 * A guard for the task of `partition` (of `partitions`, over `keyGroups` groups) after the keyBy `keyBy`.
 *
 * @example
 * const guard = partitionGuard('byUser', 3, 8, 128);
 */
export function partitionGuard(keyBy: string, partition: number, partitions: number, keyGroups: number): OperatorFactory {
  return {
    kind: 'partition-guard',
    build(ctx) {
      const out = ctx.out;
      return {
        onBatch(batch) {
          const keys = batch.keys;
          if (keys !== undefined) {
            for (let i = 0; i < keys.length; i++) {
              const owner = keyGroupOf(keys[i] as Key, keyGroups) % partitions;
              if (owner !== partition) {
                throw new PartitioningError(
                  `keyBy '${keyBy}': key ${JSON.stringify(keys[i])} belongs to partition ${owner} of ${partitions}, but this task reads partition ${partition}: `
                    + `the source is not partitioned by this key (publish with partitionFor(key, ${partitions}), or declare repartition: ['${keyBy}'])`,
                  keyBy, partition, owner,
                );
              }
            }
          }
          out.emitBatch(batch);
        },
      };
    },
  };
}
