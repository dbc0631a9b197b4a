/**
 * The partition guard of a multi-process task: placed after every keyBy of a task's plan, it
 * checks that each key belongs to a key group the task's partition owns (`g ≡ p (mod P)`) and
 * passes the batch on; a record whose key another partition owns is never processed in the wrong
 * process. A few such records (a producer that mis-published some) go to the dead letters with the
 * reason; when they are more than a tenth of what the guard has checked (after 20 records) — the
 * source is not partitioned by this key at all — the task stops with a `PartitioningError`.
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
      let checked = 0;
      let foreign = 0;
      const describe = (key: Key, owner: number): string => `keyBy '${keyBy}': key ${JSON.stringify(key)} belongs to partition ${owner} of ${partitions}, but this task reads partition ${partition}: `
        + `the source is not partitioned by this key (publish with partitionFor(key, ${partitions}), or declare repartition: ['${keyBy}'])`;
      return {
        onBatch(batch) {
          const keys = batch.keys;
          if (keys === undefined) {
            out.emitBatch(batch);
            return;
          }
          let first = -1;
          for (let i = 0; i < keys.length; i++) {
            if (keyGroupOf(keys[i] as Key, keyGroups) % partitions !== partition) {
              first = i;
              break;
            }
          }
          checked += keys.length;
          if (first < 0) {
            out.emitBatch(batch);
            return;
          }
          // (rare path) split off the records of other partitions
          const values: unknown[] = [];
          const times: number[] = [];
          const kept: Key[] = [];
          for (let i = 0; i < keys.length; i++) {
            const key = keys[i] as Key;
            const owner = keyGroupOf(key, keyGroups) % partitions;
            if (owner === partition) {
              values.push(batch.values[i]);
              times.push(batch.times[i] as number);
              kept.push(key);
              continue;
            }
            foreign++;
            if (checked >= 20 && foreign * 10 > checked) throw new PartitioningError(describe(key, owner), keyBy, partition, owner);
            ctx.deadLetter(batch.values[i], describe(key, owner), batch.times[i]);
          }
          if (values.length > 0) out.emitBatch({ values, times, keys: kept });
        },
      };
    },
  };
}
