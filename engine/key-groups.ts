/**
 * Key groups: the fixed, power-of-two number of shares that keyed state is divided into. A key's
 * group is a stable hash of the key, the same in every process and runtime, so state, timers and
 * checkpoints organised by group can move between workers — and the number of workers can change —
 * without re-hashing any key. Partition `p` of `P` (a power of two dividing the group count) owns
 * the groups `g ≡ p (mod P)`.
 */
import { type Key, hashKey } from './keys.js';

/** The number of key groups when a pipeline does not choose one. */
export const DEFAULT_KEY_GROUPS = 128;

/** The largest number of key groups (state of a key group must stay meaningful). */
export const MAX_KEY_GROUPS = 1 << 15;

/**
 * Checks a key-group count: a power of two from 1 to {@link MAX_KEY_GROUPS}; errors name `where`.
 *
 * @example
 * checkKeyGroups(128, 'tidemark.Pipeline'); // 128
 */
export function checkKeyGroups(n: unknown, where: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_KEY_GROUPS || (n & (n - 1)) !== 0) {
    throw new RangeError(`${where}: keyGroups must be a power of two from 1 to ${MAX_KEY_GROUPS}, got ${String(n)}`);
  }
  return n;
}

/**
 * The key group of `key` among `keyGroups` (a power of two): `hashKey(key) & (keyGroups − 1)`.
 *
 * @example
 * keyGroupOf('user-1', 128); // a number in [0, 128), the same everywhere
 */
export function keyGroupOf(key: Key, keyGroups: number): number {
  return hashKey(key) & (keyGroups - 1);
}

/**
 * The partition (of `partitions`) that owns `group`: `group mod partitions`. With `partitions`
 * dividing `keyGroups`, partition `p` owns exactly the groups `g ≡ p (mod partitions)`.
 *
 * @example
 * partitionOfKeyGroup(13, 4); // 1
 */
export function partitionOfKeyGroup(group: number, partitions: number): number {
  return group % partitions;
}
