/**
 * Why a record cannot cross to another worker: the first value structured cloning rejects (a
 * function, a symbol, …) and where it sits in the record. Only used once a send has failed, to
 * name the culprit in the error — never on the per-record path.
 */

/** Where `v` holds a value structured cloning rejects, e.g. `function at field user.onClick`. */
function find(v: unknown, path: string, seen: Set<object>): string | undefined {
  const at = path === '' ? 'the record itself' : `field ${path}`;
  if (typeof v === 'function') return `function at ${at}`;
  if (typeof v === 'symbol') return `symbol at ${at}`;
  if (v === null || typeof v !== 'object' || seen.has(v)) return undefined;
  seen.add(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const why = find(v[i], `${path}[${i}]`, seen);
      if (why !== undefined) return why;
    }
    return undefined;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return undefined;
  for (const k of Object.keys(v)) {
    const why = find((v as Record<string, unknown>)[k], path === '' ? k : `${path}.${k}`, seen);
    if (why !== undefined) return why;
  }
  return undefined;
}

/**
 * `undefined` when `value` survives structured cloning, else why not ("function at field x", or
 * the cloning error's message for values the walk does not recognise, such as class instances
 * holding a function).
 *
 * @example
 * whyUncloneable({ user: 'a', f: () => 1 }); // 'function at field f'
 */
export function whyUncloneable(value: unknown): string | undefined {
  const found = find(value, '', new Set());
  if (found !== undefined) return found;
  try {
    structuredClone(value);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
