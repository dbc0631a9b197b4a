/**
 * How records map to partitions in a multi-process run: key → key group (a stable hash, the same
 * in every process) → partition `group mod P`. Producers publish each record to the partition of
 * its key, so that partition `p` holds exactly the keys of the key groups `g ≡ p (mod P)`, and a
 * task reading partition `p` owns those groups' state.
 */
import { PlanError } from '../../engine/errors.js';
import { DEFAULT_KEY_GROUPS, checkKeyGroups, keyGroupOf, partitionOfKeyGroup } from '../../engine/key-groups.js';
import type { Key } from '../../engine/keys.js';

/**
 * The partition (of `partitions`) that owns `key`: `keyGroupOf(key, keyGroups) mod partitions`.
 * `partitions` must divide `keyGroups` (default {@link DEFAULT_KEY_GROUPS}).
 *
 * @example
 * const subject = `ORDERS.${partitionFor(order.user, 8)}`; // publish where the runner expects it
 */
export function partitionFor(key: Key, partitions: number, keyGroups: number = DEFAULT_KEY_GROUPS): number {
  return partitionOfKeyGroup(keyGroupOf(key, keyGroups), partitions);
}

/** Checks a partition count against a key-group count: P ≥ 1 divides G (so P is a power of two). */
export function checkPartitions(partitions: unknown, keyGroups: unknown, where: string): { partitions: number; keyGroups: number } {
  const g = checkKeyGroups(keyGroups, where);
  if (typeof partitions !== 'number' || !Number.isInteger(partitions) || partitions < 1 || g % partitions !== 0) {
    throw new PlanError(`${where}: partitions must be a positive integer dividing keyGroups (${g}), i.e. a power of two up to ${g}, got ${String(partitions)}`);
  }
  return { partitions, keyGroups: g };
}

/**
 * A `subjectFor` for `toJetStream` that publishes each record to `<prefix>.<partition of its key>`
 * — where a partitioned run (`runPartitioned`, `fromJetStream({ partitions })`) expects it.
 *
 * @example
 * orders.sink(toJetStream({ servers, subjectFor: partitionedSubject('ORDERS', 8, (o) => o.user), msgId: (o) => o.id }));
 */
export function partitionedSubject<T>(prefix: string, partitions: number, key: (record: T) => Key, keyGroups: number = DEFAULT_KEY_GROUPS): (record: T) => string {
  const where = 'tidemark.partitionedSubject';
  if (typeof prefix !== 'string' || !/^[^\s*>]+$/.test(prefix)) throw new PlanError(`${where}: prefix must be a subject without wildcards`);
  checkPartitions(partitions, keyGroups, where);
  if (typeof key !== 'function') throw new PlanError(`${where}: key must be a function (record) => key`);
  return (record) => `${prefix}.${partitionFor(key(record), partitions, keyGroups)}`;
}
