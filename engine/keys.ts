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

// ---- stable hash (murmur3-style mixing over a canonical encoding) ---------------------------

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
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

function hashString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = mix(h, s.charCodeAt(i));
  return mix(h, s.length);
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function hashPrimitive(h: number, k: KeyPrimitive): number {
  switch (typeof k) {
    case 'string':
      return hashString(mix(h, 1), k);
    case 'number':
      if (Number.isInteger(k) && k >= -0x80000000 && k <= 0x7fffffff) return mix(mix(h, 2), k | 0);
      f64[0] = Number.isNaN(k) ? NaN : k;
      return mix(mix(mix(h, 3), u32[0] ?? 0), u32[1] ?? 0);
    case 'bigint':
      return hashString(mix(h, 4), k.toString(16));
    default:
      return mix(h, k ? 5 : 6);
  }
}

/**
 * The stable 32-bit hash of a key, the same in every process and runtime: used wherever keys are
 * partitioned (key groups, exchanges). `0` and `-0` hash alike, as they compare alike.
 *
 * @example
 * hashKey(['u1', 'home']) === hashKey(['u1', 'home']); // true
 */
export function hashKey(key: Key): number {
  if (Array.isArray(key)) {
    let h = mix(0x9747b28c, 7);
    for (let i = 0; i < key.length; i++) h = hashPrimitive(h, key[i] as KeyPrimitive);
    return finish(h, key.length + 1);
  }
  return finish(hashPrimitive(0x9747b28c, key as KeyPrimitive), 1);
}

// ---- interning ---------------------------------------------------------------------------

type Trie = Map<unknown, Trie | number>;

/**
 * Maps keys (compared by value) to small, reusable integer ids. Primitive keys cost one `Map`
 * lookup; array keys walk a trie of maps, so no string is built per record. Ids are released
 * when their state is gone and reused, so memory follows the live keys, not every key ever seen.
 *
 * @example
 * const keys = new KeyInterner();
 * const a = keys.intern(['u1', 'home']);
 * keys.intern(['u1', 'home']) === a; // true
 * keys.keyOf(a); // ['u1', 'home']
 */
export class KeyInterner {
  private readonly primitives = new Map<unknown, number>();
  private readonly arrays: Trie = new Map();
  private readonly keys: Key[] = [];
  private readonly free: number[] = [];
  private live = 0;

  /** The id of `key`, assigning one if the key is new. The key must be valid ({@link keyProblem}). */
  intern(key: Key): number {
    if (!Array.isArray(key)) {
      const id = this.primitives.get(key);
      if (id !== undefined) return id;
      const fresh = this.allocate(key);
      this.primitives.set(key, fresh);
      return fresh;
    }
    return this.internArray(key);
  }

  /** The id of `key` if it is interned, else -1. */
  lookup(key: Key): number {
    if (!Array.isArray(key)) return this.primitives.get(key) ?? -1;
    let node: Trie | number | undefined = this.arrays.get(key.length);
    for (let i = 0; i < key.length && node !== undefined; i++) node = (node as Trie).get(key[i]);
    if (key.length === 0) node = node === undefined ? undefined : (node as Trie).get(EMPTY);
    return typeof node === 'number' ? node : -1;
  }

  private internArray(key: readonly KeyPrimitive[]): number {
    let node = this.arrays.get(key.length) as Trie | undefined;
    if (node === undefined) {
      node = new Map();
      this.arrays.set(key.length, node);
    }
    const last = key.length - 1;
    for (let i = 0; i < last; i++) {
      let next = node.get(key[i]) as Trie | undefined;
      if (next === undefined) {
        next = new Map();
        node.set(key[i], next);
      }
      node = next;
    }
    const leaf = last < 0 ? EMPTY : key[last];
    const id = node.get(leaf);
    if (typeof id === 'number') return id;
    const fresh = this.allocate(Object.freeze(key.slice()));
    node.set(leaf, fresh);
    return fresh;
  }

  private allocate(key: Key): number {
    this.live++;
    const id = this.free.pop();
    if (id !== undefined) {
      this.keys[id] = key;
      return id;
    }
    this.keys.push(key);
    return this.keys.length - 1;
  }

  /** The key with id `id`. */
  keyOf(id: number): Key {
    return this.keys[id] as Key;
  }

  /** Forgets `id`'s key; the id may be handed to another key later. */
  release(id: number): void {
    const key = this.keys[id] as Key;
    if (!Array.isArray(key)) {
      this.primitives.delete(key);
    } else {
      const path: Trie[] = [];
      let node = this.arrays.get(key.length) as Trie;
      for (let i = 0; i < key.length - 1; i++) {
        path.push(node);
        node = node.get(key[i]) as Trie;
      }
      node.delete(key.length === 0 ? EMPTY : key[key.length - 1]);
      for (let i = path.length - 1; i >= 0 && node.size === 0; i--) {
        (path[i] as Trie).delete(key[i]);
        node = path[i] as Trie;
      }
    }
    this.keys[id] = UNUSED as unknown as Key;
    this.free.push(id);
    this.live--;
  }

  private retiredNew: number[] = [];
  private retiredOld: number[] = [];

  /**
   * Marks `id` as holding no state any more. It is released a generation later unless it was
   * used again — keys that come back (the next window of a tumbling count) keep their id, so
   * state churn does not become interning churn. Call {@link sweep} after purging state.
   */
  retire(id: number): void {
    this.retiredNew.push(id);
  }

  /**
   * Releases the ids retired a generation ago for which `isIdle(id)` still holds, and starts a
   * new generation — once enough ids were retired to make it worth it. Memory stays bounded by
   * the live keys plus two generations of retired ones (about three times the live keys).
   */
  sweep(isIdle: (id: number) => boolean): void {
    // A generation lasts until as many ids were retired as there are live keys (at least 1024),
    // so a key that skips a window or two keeps its id.
    if (this.retiredNew.length < 1024 || this.retiredNew.length < this.live) return;
    for (const id of this.retiredOld) {
      if (this.keys[id] !== (UNUSED as unknown as Key) && isIdle(id)) this.release(id);
    }
    this.retiredOld = this.retiredNew;
    this.retiredNew = [];
  }

  /** Number of live (interned, not released) keys. */
  get size(): number {
    return this.live;
  }

  /** One past the largest id handed out so far (for sizing arrays indexed by id). */
  get capacity(): number {
    return this.keys.length;
  }
}

const EMPTY = Symbol('empty-key');
const UNUSED = Symbol('released-key');
