/**
 * checkCompatibility over zod object schemas: fields added (optional / required / defaulted),
 * removed, made optional or required, types changed, enums widened and narrowed, nullability,
 * nesting, arrays, strict objects — each with the direction it breaks and a clear message; what
 * it cannot judge goes to warnings. And lintEventNames: commands vs facts.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PlanError } from 'tidemark';
import { assertCompatible, checkCompatibility, lintEventNames, schema } from 'tidemark';

const base = z.object({ id: z.string(), status: z.enum(['new', 'paid']), total: z.number() });

/** [backward, forward] and the messages. */
function verdict(prev: z.ZodType, next: z.ZodType) {
  const r = checkCompatibility(prev, next);
  return { bw: r.backward, fw: r.forward, full: r.full, messages: r.issues.map((i) => `[${i.breaks}] ${i.message}`), warnings: r.warnings };
}

describe('checkCompatibility', () => {
  it('identical schemas are fully compatible', () => {
    expect(verdict(base, base)).toEqual({ bw: true, fw: true, full: true, messages: [], warnings: [] });
  });

  it('an optional field added: compatible both ways (default objects ignore unknown fields)', () => {
    const r = verdict(base, base.extend({ note: z.string().optional() }));
    expect([r.bw, r.fw]).toEqual([true, true]);
    expect(verdict(base, base.extend({ note: z.string().default('') }))).toMatchObject({ bw: true, fw: true });
  });

  it('a required field added breaks backward: old events lack it', () => {
    const r = verdict(base, base.extend({ currency: z.string() }));
    expect([r.bw, r.fw]).toEqual([false, true]);
    expect(r.messages).toEqual(["[backward] field 'currency' was added as required: old events lack it (make it optional or give it a default)"]);
  });

  it('a required field removed breaks forward: old consumers require it', () => {
    const r = verdict(base, base.omit({ total: true }));
    expect([r.bw, r.fw]).toEqual([true, false]);
    expect(r.messages).toEqual(["[forward] field 'total' was removed, but old consumers require it"]);
  });

  it('strict objects reject unknown fields, so additions and removals break', () => {
    const strict = z.strictObject(base.shape);
    expect(verdict(strict, z.strictObject({ ...base.shape, note: z.string().optional() })).messages)
      .toEqual(["[forward] field 'note' was added, but the old schema is strict and rejects unknown fields"]);
    expect(verdict(base, z.strictObject({ id: z.string(), status: base.shape.status, total: z.number().optional() }).omit({ total: true })).messages)
      .toEqual(["[backward] field 'total' was removed and the new schema is strict: it rejects old events that carry it", "[forward] field 'total' was removed, but old consumers require it"]);
  });

  it('optional ↔ required', () => {
    const opt = base.extend({ total: z.number().optional() });
    expect(verdict(base, opt)).toMatchObject({ bw: true, fw: false, messages: ["[forward] field 'total' became optional, but old consumers require it"] });
    expect(verdict(opt, base)).toMatchObject({ bw: false, fw: true, messages: ["[backward] field 'total' became required: old events may lack it"] });
  });

  it('a type change breaks both ways', () => {
    const r = verdict(base, base.extend({ total: z.string() }));
    expect([r.bw, r.fw]).toEqual([false, false]);
    expect(r.messages).toEqual(["[backward] 'total' changed type from number to string", "[forward] 'total' changed type from number to string"]);
  });

  it('enum widened breaks forward; narrowed breaks backward', () => {
    const wide = base.extend({ status: z.enum(['new', 'paid', 'refunded']) });
    expect(verdict(base, wide)).toMatchObject({ bw: true, fw: false, messages: ["[forward] 'status' was widened with \"refunded\": old consumers reject it"] });
    expect(verdict(wide, base)).toMatchObject({ bw: false, fw: true, messages: ["[backward] 'status' was narrowed: \"refunded\" no longer allowed, but old events may carry it"] });
    // enum → any string widens; string → enum narrows
    expect(verdict(base, base.extend({ status: z.string() }))).toMatchObject({ bw: true, fw: false });
    expect(verdict(base.extend({ status: z.string() }), base)).toMatchObject({ bw: false, fw: true });
  });

  it('nested objects, arrays, nullability and integers are judged with paths', () => {
    const prev = z.object({ customer: z.object({ id: z.string(), tier: z.enum(['a', 'b']) }), items: z.array(z.object({ sku: z.string(), qty: z.number() })), note: z.string() });
    const next = z.object({ customer: z.object({ id: z.string(), tier: z.enum(['a']) }), items: z.array(z.object({ sku: z.string(), qty: z.int() })), note: z.string().nullable() });
    const r = checkCompatibility(prev, next);
    expect(r.issues.map((i) => [i.path, i.breaks])).toEqual([
      ['customer.tier', 'backward'], ['items[].qty', 'backward'],
      ['note', 'forward'],
    ]);
    expect(r.issues.map((i) => i.message)).toContain("'items[].qty' changed from number to integer: old events may carry fractions");
    expect(r.issues.map((i) => i.message)).toContain("'note' became nullable: old consumers reject null");
  });

  it('unions are compared option by option', () => {
    const prev = z.object({ v: z.union([z.string(), z.number()]) });
    expect(verdict(prev, z.object({ v: z.union([z.string(), z.number(), z.boolean()]) }))).toMatchObject({ bw: true, fw: false });
    expect(verdict(prev, z.object({ v: z.string() }))).toMatchObject({ bw: false, fw: true });
  });

  it('what it cannot judge becomes a warning, not a verdict', () => {
    const r = checkCompatibility(z.object({ n: z.number().min(0) }), z.object({ n: z.number().min(10) }));
    expect(r.full).toBe(true);
    expect(r.warnings.join('\n')).toMatch(/'n': its checks or format changed .* not judged/);
    const t = checkCompatibility(z.object({ s: z.string().transform((x) => x.length) }), z.object({ s: z.string() }));
    expect(t.warnings.join('\n')).toMatch(/only its input schema is compared/);
  });

  it('accepts schema() contracts (judged by their latest versions); other validators are refused', () => {
    const c1 = schema({ name: 'E', versions: { 1: base } });
    const c2 = schema({ name: 'E', versions: { 1: base, 2: base.extend({ currency: z.string() }) }, upcast: { 1: (e) => ({ ...e, currency: 'EUR' }) } });
    expect(checkCompatibility(c1, c2)).toMatchObject({ backward: false, forward: true });
    expect(() => checkCompatibility({ '~standard': { validate: () => ({ value: 1 }) } }, base)).toThrow(PlanError);
  });

  it('assertCompatible throws a PlanError listing the breaking changes', () => {
    expect(() => assertCompatible(base, base.extend({ currency: z.string() }), 'backward')).toThrow(/not backward compatible:\n- \[backward\] field 'currency' was added as required/);
    expect(assertCompatible(base, base.extend({ currency: z.string() }), 'forward').forward).toBe(true);
  });
});

describe('lintEventNames', () => {
  it('flags commands, passes facts', () => {
    const facts = ['EmailSent', 'CustomerCharged', 'OrderPlaced', 'order.created', 'com.acme.payment.failed', 'UserLoggedIn', 'PasswordReset', 'invoice_paid', 'shipment-delivered', 'FundsWithdrawn'];
    const commands = ['SendEmail', 'ChargeCustomer', 'PlaceOrder', 'create_user', 'com.acme.orders.cancel', 'sendWelcomeEmail', 'ProcessPayment', 'reset-password'];
    expect(lintEventNames(facts)).toEqual([]);
    const found = lintEventNames(commands);
    expect(found.map((f) => [f.name, f.severity, f.suggestion])).toEqual([
      ['SendEmail', 'error', 'EmailSent'],
      ['ChargeCustomer', 'error', 'CustomerCharged'],
      ['PlaceOrder', 'error', 'OrderPlaced'],
      ['create_user', 'error', 'user_created'],
      ['com.acme.orders.cancel', 'error', 'com.acme.orders.cancelled'],
      ['sendWelcomeEmail', 'error', 'welcomeEmailSent'],
      ['ProcessPayment', 'error', 'PaymentProcessed'],
      ['reset-password', 'error', 'password-reset'],
    ]);
    expect(found[0]?.message).toBe("'SendEmail' reads as a command ('send' …); events are facts about what happened — name it in the past tense, e.g. 'EmailSent'");
  });

  it('names with no past-tense verb are warnings; junk is an error', () => {
    expect(lintEventNames(['OrderPlacement', 'Heartbeat', 'EmailSent', '', 'PriceChange']).map((f) => [f.name, f.severity])).toEqual([
      ['OrderPlacement', 'warning'], ['Heartbeat', 'warning'], ['', 'error'], ['PriceChange', 'warning'],
    ]);
    expect(() => lintEventNames('SendEmail' as never)).toThrow(PlanError);
  });
});
