/**
 * The declared layout of an operator's snapshot, so that generic code can split it by key group
 * (each worker restores only the keys it owns) and merge the snapshots of several workers into one
 * (as if one worker had run every key). An operator states it as `OperatorFactory.keyedState`; the
 * functions that read it live in `key-group-state.ts`.
 */

/**
 * How one part of a snapshot splits by key and merges across workers:
 *
 * - `'keyed'` — a list of rows `[key, …]` holding everything about their key (its state *and*
 *   its event- and processing-time timers; a key may have several rows, e.g. one per buffered
 *   record): splitting keeps the rows of owned keys; merging concatenates the parts' rows (a key
 *   in two parts is an error).
 * - `{ groups: i }` — a list of groups `[id, …, rows, …]` whose element `i` is a `'keyed'` list
 *   (e.g. a window's keys: `[start, end, [[key, …], …]]` is `{ groups: 2 }`). Element 0 identifies
 *   the group: groups with the same id merge (their rows concatenated, the other elements must
 *   agree); splitting drops groups left without rows.
 * - `'max'` / `'min'` — a number, or an array of numbers taken element by element (sequence
 *   counters: `'max'`, so numbers handed out later stay above every restored one).
 * - `'same'` — equal on every worker at a consistent cut (e.g. the last watermark a window
 *   operator fired at): merging checks that the parts agree.
 * - `'broadcast'` — the same on every worker by construction (state built from a broadcast
 *   input): merging takes the first part's, unchecked (parts may number it differently).
 * - `{ fields: { … } }` — a plain object: each field by its own layout. A field the layout does
 *   not name is an error, so a changed snapshot cannot slip through unsplit.
 *
 * Splitting keeps every part that is not keyed as it is (each worker continues from the shared
 * counters, watermarks and broadcast state).
 *
 * @example
 * // `{ seq, prevW, windows: [[start, end, [[key, …], …]], …] }`
 * const layout: StateLayout = { fields: { seq: 'max', prevW: 'same', windows: { groups: 2 } } };
 */
export type StateLayout =
  | 'keyed'
  | 'max'
  | 'min'
  | 'same'
  | 'broadcast'
  | { readonly groups: number }
  | { readonly fields: { readonly [field: string]: StateLayout } };

/**
 * What an operator factory declares about its state and key groups: a {@link StateLayout} (its
 * state is organised by key; it may run on several workers, each with its key groups),
 * `'stateless'` (no state: it may run anywhere, nothing to split), or `'not-keyed'` (state over
 * the whole stream, e.g. `asyncMap`'s pending calls: it runs on a single worker).
 *
 * @example
 * const scan: OperatorFactory = { kind: 'scan', keyedState: { fields: { keys: 'keyed' } }, build };
 */
export type KeyedStateDeclaration = StateLayout | 'stateless' | 'not-keyed';
