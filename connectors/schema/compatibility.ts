/**
 * `checkCompatibility(previous, next)`: can old consumers read new events (forward), and new
 * consumers old events (backward)? Judged structurally over zod (v4) schemas so a project's CI can
 * guard its event contracts.
 *
 * How it judges: "backward" asks whether every value `previous` accepts is accepted by `next`;
 * "forward" the converse. It walks objects field by field (added / removed / optional ↔
 * required / defaults), enums and literals (widened / narrowed), nullability, arrays, records,
 * unions (option by option), strictness (strict objects reject unknown fields; zod's default
 * object strips them, so an added field never breaks a default-object consumer), integer vs
 * number, and type changes.
 *
 * What it cannot judge (reported in `warnings`, not as breaks): refinements and checks
 * (`min`, `max`, regexes, formats, `.refine`) beyond noticing that they changed, transforms
 * (`pipe`: only the input side is compared), lazy, intersection, tuple and custom schemas,
 * and anything semantic — a field that keeps its type but changes meaning (cents → euros) looks
 * compatible.
 */
import { PlanError } from '../../engine/errors.js';
import type { EventSchema } from './contract.js';

/** A direction a change breaks. */
export type CompatibilityDirection = 'backward' | 'forward';

/** One breaking change: where, which direction it breaks, and why. */
export interface CompatibilityIssue {
  /** Dotted path of the field (`''` for the event itself; `items[]` for array elements). */
  readonly path: string;
  readonly breaks: CompatibilityDirection;
  readonly message: string;
}

/** The verdict of {@link checkCompatibility}. */
export interface CompatibilityReport {
  /** New consumers (with `next`) can read events written with `previous`. */
  readonly backward: boolean;
  /** Old consumers (with `previous`) can read events written with `next`. */
  readonly forward: boolean;
  /** Both. */
  readonly full: boolean;
  readonly issues: readonly CompatibilityIssue[];
  /** Changes it noticed but cannot judge (checks, transforms, custom schemas). */
  readonly warnings: readonly string[];
}

interface Def {
  readonly type: string;
  readonly [k: string]: unknown;
}

type Schemaish = { readonly _zod?: { readonly def?: Def } };

function defOf(s: unknown): Def | undefined {
  return (s as Schemaish | null)?._zod?.def;
}

/** Which wrapper-free schema, and whether undefined / null / a missing key are accepted. */
interface Unwrapped {
  readonly def: Def;
  readonly optional: boolean;
  readonly nullable: boolean;
}

function unwrap(s: unknown, warn: (m: string) => void, path: string): Unwrapped {
  let def = defOf(s) as Def;
  let optional = false;
  let nullable = false;
  for (;;) {
    switch (def.type) {
      case 'optional':
      case 'default':
      case 'prefault':
        optional = true;
        def = defOf(def['innerType']) as Def;
        continue;
      case 'nullable':
        nullable = true;
        def = defOf(def['innerType']) as Def;
        continue;
      case 'readonly':
      case 'nonoptional':
        def = defOf(def['innerType']) as Def;
        continue;
      case 'catch':
        // a catch accepts anything; judge the schema it wraps
        def = defOf(def['innerType']) as Def;
        continue;
      case 'pipe':
        warn(`${label(path)}: a transform/pipe — only its input schema is compared`);
        def = defOf(def['in']) as Def;
        continue;
      default:
        return { def, optional, nullable };
    }
  }
}

function label(path: string): string {
  return path === '' ? 'the event' : `'${path}'`;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function checksOf(def: Def): string {
  const checks = (def['checks'] as { _zod?: { def?: Record<string, unknown> } }[] | undefined) ?? [];
  const sig = checks.map((c) => {
    const d = c._zod?.def ?? {};
    return Object.keys(d).sort().map((k) => {
      const v = d[k];
      return `${k}=${v instanceof RegExp ? v.source : typeof v === 'object' ? '?' : String(v)}`;
    }).join(',');
  });
  return `${String(def['format'] ?? '')}|${sig.join(';')}`;
}

function typeName(def: Def): string {
  if (def.type === 'number' && (def['format'] === 'safeint' || def['format'] === 'int32' || def['format'] === 'uint32')) return 'integer';
  return def.type;
}

function literalValues(def: Def): unknown[] | undefined {
  if (def.type === 'enum') return Object.values(def['entries'] as Record<string, unknown>);
  if (def.type === 'literal') return def['values'] as unknown[];
  return undefined;
}

/** A new-consumer-side word and an old-consumer-side word for messages, by direction. */
interface Ctx {
  readonly dir: CompatibilityDirection;
  readonly issues: CompatibilityIssue[];
  readonly warn: (m: string) => void;
}

function issue(ctx: Ctx, path: string, message: string): void {
  ctx.issues.push({ path, breaks: ctx.dir, message });
}

/**
 * Records why some value accepted by `a` may be rejected by `b`. For `backward`, a = previous,
 * b = next; for `forward`, a = next, b = previous. Messages describe the change from previous to next.
 */
function subset(a: unknown, b: unknown, path: string, ctx: Ctx): void {
  const ua = unwrap(a, ctx.warn, path);
  const ub = unwrap(b, ctx.warn, path);
  const back = ctx.dir === 'backward';
  if (ua.nullable && !ub.nullable) {
    issue(ctx, path, back ? `${label(path)} is no longer nullable: old events may carry null` : `${label(path)} became nullable: old consumers reject null`);
  }
  compareDefs(ua.def, ub.def, path, ctx);
}

function compareDefs(a: Def, b: Def, path: string, ctx: Ctx): void {
  const back = ctx.dir === 'backward';
  if (b.type === 'any' || b.type === 'unknown') return;
  if (a.type === 'any' || a.type === 'unknown') {
    issue(ctx, path, back ? `${label(path)} narrowed from ${a.type} to ${typeName(b)}` : `${label(path)} widened from ${typeName(b)} to ${a.type}`);
    return;
  }
  if (a.type === 'union' || b.type === 'union') {
    compareUnion(a, b, path, ctx);
    return;
  }
  const la = literalValues(a);
  const lb = literalValues(b);
  if (la !== undefined && lb !== undefined) {
    const missing = la.filter((v) => !lb.includes(v));
    if (missing.length > 0) {
      const list = missing.map((v) => JSON.stringify(v)).join(', ');
      issue(ctx, path, back
        ? `${label(path)} was narrowed: ${list} no longer allowed, but old events may carry ${missing.length > 1 ? 'them' : 'it'}`
        : `${label(path)} was widened with ${list}: old consumers reject ${missing.length > 1 ? 'them' : 'it'}`);
    }
    return;
  }
  if (la !== undefined && lb === undefined) {
    // enum/literal of strings into string etc.: fine when every value has b's type
    const ok = la.every((v) => typeof v === b.type || (b.type === 'number' && typeof v === 'number'));
    if (!ok) typeChanged(a, b, path, ctx);
    else if (checksOf(b) !== '|') ctx.warn(`${label(path)}: checks on ${b.type} not judged against the allowed values`);
    return;
  }
  if (la === undefined && lb !== undefined) {
    if (a.type === 'string' || a.type === 'number' || a.type === 'boolean' || a.type === 'bigint') {
      issue(ctx, path, back
        ? `${label(path)} was narrowed from any ${a.type} to ${lb.map((v) => JSON.stringify(v)).join(' | ')}: old events may carry other values`
        : `${label(path)} was widened from ${lb.map((v) => JSON.stringify(v)).join(' | ')} to any ${a.type}: old consumers reject other values`);
    } else typeChanged(a, b, path, ctx);
    return;
  }
  if (a.type !== b.type) {
    typeChanged(a, b, path, ctx);
    return;
  }
  switch (a.type) {
    case 'object':
      compareObjects(a, b, path, ctx);
      return;
    case 'array':
      subset(a['element'], b['element'], `${path}[]`, ctx);
      return;
    case 'record':
      subset(a['valueType'], b['valueType'], `${path}{}`, ctx);
      return;
    case 'number':
      if (typeName(a) === 'number' && typeName(b) === 'integer') {
        issue(ctx, path, back ? `${label(path)} changed from number to integer: old events may carry fractions` : `${label(path)} changed from integer to number: old consumers reject fractions`);
        return;
      }
      break;
    case 'string':
    case 'boolean':
    case 'bigint':
    case 'date':
    case 'null':
    case 'undefined':
      break;
    default:
      ctx.warn(`${label(path)}: ${a.type} schemas are not judged`);
      return;
  }
  if (checksOf(a) !== checksOf(b) && ctx.dir === 'backward') {
    ctx.warn(`${label(path)}: its checks or format changed (${checksOf(a)} → ${checksOf(b)}); not judged`);
  }
}

function typeChanged(a: Def, b: Def, path: string, ctx: Ctx): void {
  const [from, to] = ctx.dir === 'backward' ? [a, b] : [b, a];
  issue(ctx, path, `${label(path)} changed type from ${describe(from)} to ${describe(to)}`);
}

function describe(def: Def): string {
  const lits = literalValues(def);
  return lits === undefined ? typeName(def) : lits.map((v) => JSON.stringify(v)).join(' | ');
}

function compareUnion(a: Def, b: Def, path: string, ctx: Ctx): void {
  const optsA = a.type === 'union' ? (a['options'] as unknown[]) : [undefined];
  const optsB = b.type === 'union' ? (b['options'] as unknown[]) : [undefined];
  const defsA = a.type === 'union' ? optsA.map((o) => unwrap(o, ctx.warn, path).def) : [a];
  const defsB = b.type === 'union' ? optsB.map((o) => unwrap(o, ctx.warn, path).def) : [b];
  for (const da of defsA) {
    // the option of b that accepts da with the fewest problems
    let best: CompatibilityIssue[] | undefined;
    for (const db of defsB) {
      const trial: Ctx = { dir: ctx.dir, issues: [], warn: () => undefined };
      compareDefs(da, db, path, trial);
      if (best === undefined || trial.issues.length < best.length) best = trial.issues;
      if (best.length === 0) break;
    }
    if (best !== undefined && best.length > 0) {
      const back = ctx.dir === 'backward';
      issue(ctx, path, back
        ? `${label(path)}: the ${describe(da)} option of the old schema is not accepted by the new one (${best[0]?.message})`
        : `${label(path)}: the new ${describe(da)} option is not accepted by old consumers (${best[0]?.message})`);
    }
  }
}

function compareObjects(a: Def, b: Def, path: string, ctx: Ctx): void {
  const back = ctx.dir === 'backward';
  const shapeA = a['shape'] as Record<string, unknown>;
  const shapeB = b['shape'] as Record<string, unknown>;
  const catchB = defOf(b['catchall']);
  const bStrict = catchB?.type === 'never';
  for (const key of Object.keys(shapeB)) {
    const p = join(path, key);
    const fb = unwrap(shapeB[key], () => undefined, p);
    if (!Object.hasOwn(shapeA, key)) {
      if (!fb.optional) {
        issue(ctx, p, back ? `field ${label(p)} was added as required: old events lack it (make it optional or give it a default)` : `field ${label(p)} was removed, but old consumers require it`);
      }
      continue;
    }
    const fa = unwrap(shapeA[key], () => undefined, p);
    if (fa.optional && !fb.optional) {
      issue(ctx, p, back ? `field ${label(p)} became required: old events may lack it` : `field ${label(p)} became optional, but old consumers require it`);
    }
    subset(shapeA[key], shapeB[key], p, ctx);
  }
  for (const key of Object.keys(shapeA)) {
    if (Object.hasOwn(shapeB, key)) continue;
    const p = join(path, key);
    if (bStrict) {
      issue(ctx, p, back ? `field ${label(p)} was removed and the new schema is strict: it rejects old events that carry it` : `field ${label(p)} was added, but the old schema is strict and rejects unknown fields`);
    } else if (catchB !== undefined && catchB.type !== 'unknown' && catchB.type !== 'any') {
      subset(shapeA[key], b['catchall'], p, ctx);
    }
  }
}

function topLevel(s: unknown, which: string): unknown {
  const contract = s as Partial<EventSchema<unknown>> | null;
  if (contract !== null && typeof contract === 'object' && contract.validators instanceof Map && typeof contract.latest === 'number') {
    return contract.validators.get(contract.latest);
  }
  const def = defOf(s);
  if (def === undefined) {
    throw new PlanError(`tidemark.checkCompatibility: ${which} must be a zod schema (or a schema({ … }) contract, judged by its latest version); other Standard Schema validators cannot be inspected`);
  }
  return s;
}

/**
 * Compares two versions of an event schema (zod v4 schemas, or `schema(…)` contracts judged by
 * their latest versions). `backward`: consumers using `next` can read events written with
 * `previous`; `forward`: consumers using `previous` can read events written with `next`.
 *
 * @example
 * const v1 = z.object({ id: z.string(), status: z.enum(['new', 'paid']) });
 * const v2 = z.object({ id: z.string(), status: z.enum(['new', 'paid', 'refunded']), note: z.string().optional() });
 * const r = checkCompatibility(v1, v2);
 * r.backward; // true — every v1 event is a valid v2 event
 * r.forward;  // false — "'status' was widened with \"refunded\": old consumers reject it"
 */
export function checkCompatibility(previous: unknown, next: unknown): CompatibilityReport {
  const prev = topLevel(previous, 'previous');
  const nxt = topLevel(next, 'next');
  const issues: CompatibilityIssue[] = [];
  const warnings = new Set<string>();
  const warn = (m: string): void => void warnings.add(m);
  subset(prev, nxt, '', { dir: 'backward', issues, warn });
  subset(nxt, prev, '', { dir: 'forward', issues, warn });
  const backward = !issues.some((i) => i.breaks === 'backward');
  const forward = !issues.some((i) => i.breaks === 'forward');
  return { backward, forward, full: backward && forward, issues, warnings: [...warnings] };
}

/**
 * Throws a `PlanError` listing the breaking changes unless `next` is compatible with `previous` in
 * the required direction(s) — for a CI test guarding an event contract.
 *
 * @example
 * assertCompatible(orderPlacedV1, orderPlacedV2, 'backward');
 */
export function assertCompatible(previous: unknown, next: unknown, mode: CompatibilityDirection | 'full' = 'full'): CompatibilityReport {
  const report = checkCompatibility(previous, next);
  const relevant = report.issues.filter((i) => mode === 'full' || i.breaks === mode);
  if (relevant.length > 0) {
    throw new PlanError(`tidemark.assertCompatible: not ${mode} compatible:\n${relevant.map((i) => `- [${i.breaks}] ${i.message}`).join('\n')}`);
  }
  return report;
}
