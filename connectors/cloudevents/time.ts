/**
 * RFC 3339 timestamps (the CloudEvents `time` attribute) to epoch milliseconds — strictly: no
 * locale formats, no missing offsets, no impossible dates (`Date.parse` would roll Feb 30 into
 * March).
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * The epoch milliseconds of an RFC 3339 timestamp (fractions beyond milliseconds truncated,
 * i.e. rounded down), or `undefined` when `text` is not one. Leap seconds (`:60`) are rejected.
 *
 * @example
 * rfc3339ToMillis('2024-05-01T12:00:00.250+02:00'); // 1714557600250
 * rfc3339ToMillis('2024-02-30T00:00:00Z');          // undefined
 */
export function rfc3339ToMillis(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const probe = new Date(Date.UTC(2000, mo - 1, d));
  probe.setUTCFullYear(y);
  if (probe.getUTCDate() !== d || probe.getUTCMonth() !== mo - 1) return undefined;
  const ms = Number((m[7] ?? '').slice(0, 3).padEnd(3, '0'));
  let offset = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offset = (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const local = new Date(0);
  local.setUTCFullYear(y, mo - 1, d);
  local.setUTCHours(h, mi, s, ms);
  return local.getTime() - offset;
}
