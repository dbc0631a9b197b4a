/**
 * `lintEventNames(names)`: a lint-style check that event names read as facts (`EmailSent`,
 * `CustomerCharged`, `order.created`) rather than commands (`SendEmail`, `ChargeCustomer`).
 * Events record what happened; a command-shaped name usually means a request is being modelled
 * as an event. A heuristic: a small list of imperative verbs plus a past-participle test.
 */
import { PlanError } from '../../engine/errors.js';

/** One flagged name. */
export interface EventNameFinding {
  readonly name: string;
  /** `'error'`: reads as a command; `'warning'`: does not read as a past-tense fact either. */
  readonly severity: 'error' | 'warning';
  readonly message: string;
  /** A fact-shaped alternative, when one can be guessed (`SendEmail` → `EmailSent`). */
  readonly suggestion?: string;
}

/**
 * Imperative verbs that start command names, with their past participles. Words more often nouns
 * at the start of an event name (order, invoice, purchase, credit, log, post) are left out.
 */
const VERBS: Readonly<Record<string, string>> = {
  accept: 'accepted', activate: 'activated', add: 'added', allocate: 'allocated', apply: 'applied',
  approve: 'approved', archive: 'archived', assign: 'assigned', authorize: 'authorized', book: 'booked',
  calculate: 'calculated', cancel: 'cancelled', capture: 'captured', change: 'changed', charge: 'charged',
  check: 'checked', close: 'closed', complete: 'completed', confirm: 'confirmed', create: 'created',
  deactivate: 'deactivated', debit: 'debited', delete: 'deleted', deliver: 'delivered', deposit: 'deposited',
  disable: 'disabled', dispatch: 'dispatched', do: 'done', enable: 'enabled', execute: 'executed', fetch: 'fetched',
  fulfill: 'fulfilled', generate: 'generated', get: 'got', give: 'given', grant: 'granted', import: 'imported',
  insert: 'inserted', invite: 'invited', issue: 'issued', join: 'joined', load: 'loaded', lock: 'locked',
  make: 'made', mark: 'marked', merge: 'merged', move: 'moved', notify: 'notified', open: 'opened',
  pay: 'paid', place: 'placed', process: 'processed', publish: 'published',
  put: 'put', refund: 'refunded', register: 'registered', reject: 'rejected', release: 'released',
  remove: 'removed', rename: 'renamed', renew: 'renewed', request: 'requested', reserve: 'reserved', reset: 'reset',
  resend: 'resent', restore: 'restored', retry: 'retried', revoke: 'revoked', run: 'run', save: 'saved', schedule: 'scheduled',
  sell: 'sold', send: 'sent', set: 'set', ship: 'shipped', sign: 'signed', start: 'started', stop: 'stopped',
  submit: 'submitted', subscribe: 'subscribed', suspend: 'suspended', sync: 'synced', transfer: 'transferred',
  trigger: 'triggered', unlock: 'unlocked', unsubscribe: 'unsubscribed', update: 'updated', upload: 'uploaded',
  validate: 'validated', verify: 'verified', withdraw: 'withdrawn', write: 'written',
};

/** Irregular past participles (and past-tense words) that read as facts. */
const IRREGULAR = new Set([
  'sent', 'paid', 'made', 'done', 'built', 'sold', 'bought', 'taken', 'given', 'written', 'begun', 'broken', 'chosen',
  'drawn', 'driven', 'fallen', 'forgotten', 'frozen', 'gone', 'held', 'hidden', 'known', 'laid', 'led', 'left', 'lost',
  'met', 'seen', 'shown', 'shut', 'spent', 'split', 'spoken', 'stolen', 'sworn', 'thrown', 'told', 'understood', 'won',
  'withdrawn', 'found', 'kept', 'meant', 'resent', 'rebuilt', 'undone', 'overridden', 'got', 'gotten', 'began', 'came', 'become',
  'arisen', 'bound', 'dealt', 'fed', 'felt', 'hung', 'lent', 'lit', 'read', 'rung', 'risen', 'struck', 'woken', 'worn',
  'happened', 'occurred',
]);

/** Words ending in -ed that are not past participles. */
const NOT_PARTICIPLES = new Set(['feed', 'seed', 'need', 'speed', 'bed', 'red', 'shed', 'bleed', 'breed', 'creed', 'greed', 'weed', 'embed', 'hundred', 'sled']);

/** Splits `SendEmail`, `send_email`, `com.acme.order.created`, `order-placed` into lower-case words. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase());
}

/** Verbs whose past participle is the verb itself: facts only after a noun (`PasswordReset`). */
const SAME_FORM = new Set(['put', 'set', 'reset', 'run', 'read', 'cut', 'shut', 'split', 'hit', 'quit', 'upset', 'broadcast']);

function isParticiple(w: string, i: number): boolean {
  if (IRREGULAR.has(w)) return true;
  if (i > 0 && SAME_FORM.has(w)) return true;
  return w.length > 3 && w.endsWith('ed') && !NOT_PARTICIPLES.has(w);
}

function participle(verb: string): string {
  const known = VERBS[verb];
  if (known !== undefined) return known;
  if (verb.endsWith('e')) return `${verb}d`;
  if (/[^aeiou]y$/.test(verb)) return `${verb.slice(0, -1)}ied`;
  return `${verb}ed`;
}

const cap = (w: string): string => w.charAt(0).toUpperCase() + w.slice(1);

/** The last segment of a dotted / slashed type (`com.acme.orders.place` → `place`), or the name. */
function lastSegment(name: string): string {
  const parts = name.split(/[./:]/).filter((p) => p !== '');
  return parts[parts.length - 1] ?? name;
}

/** The name rewritten as a fact, in its own style: `SendEmail` → `EmailSent`, `orders.place` → `orders.placed`. */
function suggest(name: string, rest: string[], done: string): string {
  const segment = lastSegment(name);
  const prefix = name.slice(0, name.length - segment.length);
  const sep = /[_-]/.exec(segment)?.[0];
  const parts = [...rest, done];
  const styled = sep !== undefined || segment === segment.toLowerCase()
    ? parts.join(sep ?? '_')
    : segment.charAt(0) === segment.charAt(0).toLowerCase()
      ? parts[0] + parts.slice(1).map(cap).join('')
      : parts.map(cap).join('');
  return prefix + styled;
}

/**
 * Flags event names that read like commands (an imperative verb first: `SendEmail`,
 * `charge_customer`, `com.acme.orders.place`) as errors, and names with no past-tense word
 * (`OrderPlacement`, `Heartbeat`) as warnings. Names that contain a past participle
 * (`EmailSent`, `CustomerCharged`, `order.created`, `UserLoggedIn`) pass. Returns only the
 * flagged names, in input order. Dotted names (CloudEvents types) are judged by their last segment.
 *
 * @example
 * lintEventNames(['EmailSent', 'SendEmail']);
 * // [{ name: 'SendEmail', severity: 'error', message: "…reads as a command…", suggestion: 'EmailSent' }]
 */
export function lintEventNames(names: Iterable<string>): EventNameFinding[] {
  if (names === null || typeof (names as Iterable<string> | undefined)?.[Symbol.iterator] !== 'function' || typeof names === 'string') {
    throw new PlanError('tidemark.lintEventNames: expected an array (or iterable) of event names');
  }
  const findings: EventNameFinding[] = [];
  for (const name of names) {
    if (typeof name !== 'string' || name.trim() === '') {
      findings.push({ name: String(name), severity: 'error', message: `'${String(name)}' is not a usable event name` });
      continue;
    }
    const all = words(name);
    const seg = words(lastSegment(name));
    if (all.some(isParticiple)) continue;
    const first = seg[0];
    if (first !== undefined && Object.hasOwn(VERBS, first)) {
      const suggestion = suggest(name, seg.slice(1), participle(first));
      findings.push({
        name,
        severity: 'error',
        message: `'${name}' reads as a command ('${first}' …); events are facts about what happened — name it in the past tense, e.g. '${suggestion}'`,
        suggestion,
      });
      continue;
    }
    findings.push({
      name,
      severity: 'warning',
      message: `'${name}' has no past-tense verb; event names should state a fact that happened (e.g. 'OrderPlaced', not 'OrderPlacement')`,
    });
  }
  return findings;
}
