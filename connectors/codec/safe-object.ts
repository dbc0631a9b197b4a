/**
 * Building plain objects from untrusted keys. Assigning `obj[key] = v` with `key === '__proto__'`
 * would replace the object's prototype; `setOwn` always creates an own data property instead, so
 * `__proto__`, `constructor` and `prototype` stay ordinary data.
 */

/**
 * Sets `key` on `target` as an own, enumerable, writable data property (never a prototype change).
 *
 * @example
 * const o: Record<string, unknown> = {};
 * setOwn(o, '__proto__', { polluted: 1 }); // own property; Object.getPrototypeOf(o) is unchanged
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}
