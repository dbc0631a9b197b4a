/**
 * Keys: what `keyBy` may return, how keys are compared (by value), hashed (one stable hash used
 * wherever keys are partitioned) and interned into small integers so that keyed state lives in
 * arrays indexed by number instead of maps keyed by objects or strings.
 */

/** A key element: a primitive compared by value (`1`, `'1'` and `1n` are different keys). */
export type KeyPrimitive = string | number | bigint | boolean;
/** A key: a primitive, or an array of primitives compared element by element. */
export type Key = KeyPrimitive | readonly KeyPrimitive[];

function isPrimitiveKey(k: unknown): boolean {
  const t = typeof k;
  return t === 'string' || t === 'number' || t === 'bigint' || t === 'boolean';
}

/**
 * Why `k` cannot be a key, or `undefined` when it can.
 *
 * @example
 * keyProblem(['u1', 3]); // undefined
 * keyProblem({ id: 1 }); // 'key must be a string, number, bigint, boolean or an array of those; got object'
 */
export function keyProblem(k: unknown): string | undefined {
  if (isPrimitiveKey(k)) return undefined;
  if (Array.isArray(k)) {
    for (let i = 0; i < k.length; i++) {
      if (!isPrimitiveKey(k[i])) {
        return `key element ${i} must be a string, number, bigint or boolean; got ${describe(k[i])}`;
      }
    }
    return undefined;
  }
  return `key must be a string, number, bigint, boolean or an array of those; got ${describe(k)}`;
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

// ---- stable hash (murmur3_x86_32 over a canonical encoding) --------------------------------
//
// The canonical encoding, so that any runtime can reproduce the hash: a key is a sequence of
// 32-bit words mixed by murmur3 (seed 0x9747b28c), then murmur3's finaliser with a length word.
//   string s (alone)  : word 1, then the UTF-16 code units of s two per word (little-endian:
//                       unit i in the low half, unit i+1 in the high half; an odd last unit is
//                       murmur3's 2-byte tail), finalised with 2·s.length — i.e. murmur3_x86_32 of
//                       the string's UTF-16LE bytes, seeded with the state after word 1;
//   number (alone)    : word 2 then the int32 for integers in int32 range, else word 3 then the
//                       float64's low and high words (−0 as 0: it is an integer; NaN canonical),
//                       finalised with 1;
//   bigint / boolean  : as the array element below, finalised with 1;
//   array a           : word 7, then each element: its type word, then a string's units as
//                       above (tail included) and the word s.length / a number's words / a
//                       bigint's hex digits as a string's units and their count (type word 4) /
//                       nothing for a boolean (type word 5 for true, 6 for false); finalised
//                       with a.length + 1.
// Strings cost one mix per two characters; the type word of a key alone is precomputed.

const SEED = 0x9747b28c;
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mix(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number, len: number): number {
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Mixes the UTF-16 code units of `s` into `h`, two per word; an odd last unit as murmur3's tail. */
function mixUnits(h: number, s: string): number {
  const n = s.length;
  const even = n & ~1;
  for (let i = 0; i < even; i += 2) {
    let k = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (even !== n) {
    let k = s.charCodeAt(even);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
  }
  return h;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function mixNumber(h: number, k: number): number {
  // Integers in int32 range (−0 included: −0 | 0 is 0, and −0 === 0).
  if ((k | 0) === k) return mix(mix(h, 2), k | 0);
  f64[0] = k !== k ? NaN : k;
  return mix(mix(mix(h, 3), u32[0] as number), u32[1] as number);
}

/** An element of an array key. */
function mixElement(h: number, k: KeyPrimitive): number {
  switch (typeof k) {
    case 'string':
      return mix(mixUnits(mix(h, 1), k), k.length);
    case 'number':
      return mixNumber(h, k);
    case 'bigint': {
      const hex = k.toString(16);
      return mix(mixUnits(mix(h, 4), hex), hex.length);
    }
    default:
      return mix(h, k ? 5 : 6);
  }
}

/** The state after the type word of a string key alone. */
const STRING_SEED = mix(SEED, 1);

/**
 * The stable 32-bit hash of a key, the same in every process and runtime: used wherever keys are
 * partitioned (key groups, exchanges). `0` and `-0` hash alike, as they compare alike. Strings
 * cost one murmur3 step per two characters (the encoding is described in this module).
 *
 * @example
 * hashKey(['u1', 'home']) === hashKey(['u1', 'home']); // true
 */
export function hashKey(key: Key): number {
  if (typeof key === 'string') return finish(mixUnits(STRING_SEED, key), key.length << 1);
  if (typeof key === 'number') return finish(mixNumber(SEED, key), 1);
  if (Array.isArray(key)) {
    let h = mix(SEED, 7);
    for (let i = 0; i < key.length; i++) h = mixElement(h, key[i] as KeyPrimitive);
    return finish(h, key.length + 1);
  }
  return finish(mixElement(SEED, key as KeyPrimitive), 1);
}

// ---- maps keyed by value ------------------------------------------------------------------

type Trie<V> = Map<unknown, Trie<V> | Leaf<V>>;
interface Leaf<V> {
  value: V;
}

const EMPTY = Symbol('empty-key');

/**
 * A map whose keys are {@link Key}s compared by value. Primitive keys cost one `Map` operation;
 * array keys walk a trie of maps (one level per element), so no string is built per lookup.
 * Keyed state lives in these maps and goes away with them — there is no global key table that
 * grows with every key ever seen.
 *
 * @example
 * const m = new KeyMap<number>();
 * m.set(['u1', 'home'], 1);
 * m.get(['u1', 'home']); // 1 (a different array with the same elements)
 */
export class KeyMap<V> {
  private readonly primitives = new Map<unknown, V>();
  private arrays: Trie<V> | undefined;
  private arrayCount = 0;

  /** Number of keys. */
  get size(): number {
    return this.primitives.size + this.arrayCount;
  }

  get(key: Key): V | undefined {
    if (!Array.isArray(key)) return this.primitives.get(key);
    return this.leaf(key, false)?.value;
  }

  set(key: Key, value: V): void {
    if (!Array.isArray(key)) {
      this.primitives.set(key, value);
      return;
    }
    (this.leaf(key, true) as Leaf<V>).value = value;
  }

  delete(key: Key): boolean {
    if (!Array.isArray(key)) return this.primitives.delete(key);
    const path: Trie<V>[] = [];
    let node: Trie<V> | Leaf<V> | undefined = this.arrays?.get(key.length);
    for (let i = 0; i < key.length && node !== undefined; i++) {
      path.push(node as Trie<V>);
      node = (node as Trie<V>).get(key[i]);
    }
    if (key.length === 0 && node !== undefined) {
      path.push(node as Trie<V>);
      node = (node as Trie<V>).get(EMPTY);
    }
    if (node === undefined) return false;
    const last = path.length - 1;
    (path[last] as Trie<V>).delete(key.length === 0 ? EMPTY : key[key.length - 1]);
    for (let i = last; i > 0 && (path[i] as Trie<V>).size === 0; i--) (path[i - 1] as Trie<V>).delete(key[i - 1]);
    if ((path[0] as Trie<V>).size === 0) this.arrays?.delete(key.length);
    this.arrayCount--;
    return true;
  }

  /** Every key and value, primitives first, each group in insertion order. */
  forEach(fn: (value: V, key: Key) => void): void {
    this.primitives.forEach((v, k) => fn(v, k as Key));
    if (this.arrays === undefined) return;
    const walk = (node: Trie<V>, prefix: KeyPrimitive[], depth: number, len: number): void => {
      node.forEach((child, element) => {
        if (depth === len - 1 || len === 0) fn((child as Leaf<V>).value, len === 0 ? [] : [...prefix, element as KeyPrimitive]);
        else walk(child as Trie<V>, [...prefix, element as KeyPrimitive], depth + 1, len);
      });
    };
    this.arrays.forEach((root, len) => walk(root as Trie<V>, [], 0, len as number));
  }

  private leaf(key: readonly KeyPrimitive[], create: boolean): Leaf<V> | undefined {
    let node = this.arrays?.get(key.length) as Trie<V> | undefined;
    if (node === undefined) {
      if (!create) return undefined;
      this.arrays ??= new Map();
      node = new Map();
      this.arrays.set(key.length, node);
    }
    const last = key.length - 1;
    for (let i = 0; i < last; i++) {
      let next = node.get(key[i]) as Trie<V> | undefined;
      if (next === undefined) {
        if (!create) return undefined;
        next = new Map();
        node.set(key[i], next);
      }
      node = next;
    }
    const element = last < 0 ? EMPTY : key[last];
    let leaf = node.get(element) as Leaf<V> | undefined;
    if (leaf === undefined && create) {
      leaf = { value: undefined as V };
      node.set(element, leaf);
      this.arrayCount++;
    }
    return leaf;
  }
}

/**
 * A key safe to keep: primitives as they are, arrays copied and frozen (the record's own array
 * may be reused or mutated by the user).
 */
export function ownKey(key: Key): Key {
  return Array.isArray(key) ? Object.freeze(key.slice()) : key;
}
