/**
 * CloudEvents 1.0: structured and binary round trips, event time from `time`, ids kept, invalid
 * events as dead-letter-ready results, prototype-pollution safety, and the source / sink wrappers
 * in a pipeline.
 */
import { describe, expect, it } from 'vitest';
import {
  ManualClock,
  Pipeline,
  PlanError,
  boundedOutOfOrderness,
  collect,
  count,
  fromArray,
  tumbling,
  type DeadLetter,
  type Source,
} from 'tidemark';
import {
  CloudEventError,
  cloudEvents,
  decodeCloudEvent,
  decodeCloudEventOrThrow,
  encodeCloudEvent,
  fromCloudEvents,
  rfc3339ToMillis,
  toCloudEvents,
  type CloudEventRecord,
  type EncodedBinaryCloudEvent,
} from 'tidemark';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const structured = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  specversion: '1.0', id: 'evt-1', source: '/shop/orders', type: 'com.shop.order.placed', time: '2024-05-01T12:00:00Z', data: { total: 5 }, ...extra,
});

describe('CloudEvents codec', () => {
  it('structured mode round trip: id, attributes, extensions and data kept; time → epoch ms', () => {
    const json = encodeCloudEvent({ id: 'o-42', source: '/shop/orders', type: 'com.shop.order.placed', time: T0 + 250, subject: 'order/42', data: { total: 5, items: ['a'] }, extensions: { tenant: 'acme', attempt: 2 } });
    expect(typeof json).toBe('string');
    const r = decodeCloudEvent<{ total: number }>(json);
    expect(r).toEqual({
      ok: true,
      timestamp: T0 + 250,
      value: {
        id: 'o-42', source: '/shop/orders', type: 'com.shop.order.placed', specversion: '1.0',
        time: '2024-05-01T12:00:00.250Z', timestamp: T0 + 250, subject: 'order/42',
        data: { total: 5, items: ['a'] }, extensions: { tenant: 'acme', attempt: 2 },
      },
    });
    // bytes decode the same as text
    expect(decodeCloudEvent(new TextEncoder().encode(json))).toEqual(r);
    // an already-parsed object too (e.g. from a JSON-lines source)
    expect(decodeCloudEvent(JSON.parse(json))).toEqual(r);
  });

  it('binary mode round trip: ce-* headers plus the data as body', () => {
    const msg = encodeCloudEvent({ id: 'b-1', source: 'urn:shop', type: 'order.paid', time: '2024-05-01T14:00:00.123456+02:00', data: { paid: true }, extensions: { region: 'eu' } }, 'binary');
    expect(msg.headers['ce-id']).toBe('b-1');
    expect(msg.headers['ce-specversion']).toBe('1.0');
    expect(msg.headers['ce-region']).toBe('eu');
    expect(msg.body).toBe('{"paid":true}');
    const r = decodeCloudEventOrThrow(msg);
    expect(r).toMatchObject({ id: 'b-1', source: 'urn:shop', type: 'order.paid', data: { paid: true }, extensions: { region: 'eu' }, timestamp: T0 + 123 });
    // header names are case-insensitive; text and bytes bodies
    const upper = { headers: { 'CE-ID': 'x', 'Ce-Source': '/s', 'ce-type': 't', 'ce-specversion': '1.0', 'ce-time': '2024-05-01T12:00:00Z', 'Content-Type': 'text/plain' }, body: new TextEncoder().encode('héllo') };
    expect(decodeCloudEventOrThrow(upper)).toMatchObject({ id: 'x', data: 'héllo', datacontenttype: 'text/plain', timestamp: T0 });
    const bin = encodeCloudEvent({ source: '/s', type: 't', time: T0, data: new Uint8Array([0, 1, 255]) }, 'binary');
    expect(bin.headers['content-type']).toBe('application/octet-stream');
    expect(decodeCloudEventOrThrow(bin).data).toEqual(new Uint8Array([0, 1, 255]));
    // header values are percent-encoded (HTTP binding): non-ASCII, space, '"' and '%'
    const odd = encodeCloudEvent({ source: '/s', type: 't', time: T0, subject: 'café "x" 100%', data: 1 }, 'binary');
    expect(odd.headers['ce-subject']).toBe('caf%C3%A9%20%22x%22%20100%25');
    expect(decodeCloudEventOrThrow(odd).subject).toBe('café "x" 100%');
    const text = encodeCloudEvent({ source: '/s', type: 't', time: T0, data: 'just text' }, 'binary');
    expect(decodeCloudEventOrThrow(text).data).toBe('just text');
    // a structured message with headers: the body is the event
    expect(decodeCloudEventOrThrow({ headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(structured()) }).id).toBe('evt-1');
  });

  it('binary data in structured mode travels as data_base64', () => {
    const json = encodeCloudEvent({ source: '/s', type: 't', time: T0, data: new Uint8Array([1, 2, 3]) });
    expect(JSON.parse(json)).toHaveProperty('data_base64', 'AQID');
    expect(decodeCloudEventOrThrow(json).data).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('event time: RFC 3339 with offsets, fractions truncated to ms; anything else is rejected', () => {
    expect(rfc3339ToMillis('2024-05-01T12:00:00Z')).toBe(T0);
    expect(rfc3339ToMillis('2024-05-01t14:00:00.9999+02:00')).toBe(T0 + 999);
    expect(rfc3339ToMillis('2024-05-01T11:30:00-00:30')).toBe(T0);
    expect(rfc3339ToMillis('1969-12-31T23:59:59.5Z')).toBe(-500);
    for (const bad of ['2024-02-30T00:00:00Z', '2024-05-01 12:00:00', '2024-05-01T12:00:00', 'May 1, 2024', '2024-05-01T24:00:00Z', '2024-05-01T12:00:60Z', '']) {
      expect(rfc3339ToMillis(bad), bad).toBeUndefined();
    }
    expect(rfc3339ToMillis('2023-02-29T00:00:00Z')).toBeUndefined();
    expect(rfc3339ToMillis('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
  });

  it('invalid events answer { ok: false, reason } — never throw, never invent an id or a time', () => {
    const cases: [unknown, RegExp][] = [
      ['not json', /not valid JSON/],
      ['[1,2]', /must be a JSON object/],
      [structured({ specversion: '0.3' }), /specversion must be "1.0"/],
      [structured({ id: '' }), /'id' is required/],
      [structured({ id: undefined }), /'id' is required/],
      [structured({ source: 5 }), /'source' is required/],
      [structured({ time: undefined }), /'time' is missing/],
      [structured({ time: '2024-05-01' }), /not an RFC 3339 timestamp/],
      [structured({ time: 1714564800000 }), /RFC 3339 string/],
      [structured({ BadName: 1 }), /invalid attribute name/],
      [structured({ ext: { nested: true } }), /extension 'ext'/],
      [structured({ dataschema: 'not a uri' }), /invalid CloudEvent/],
      [{ headers: { 'ce-id': 'x' }, body: '{}' }, /specversion/],
      [{ headers: { 'ce-id': 'x', 'ce-specversion': '1.0', 'ce-source': '/s', 'ce-type': 't', 'ce-time': '2024-05-01T12:00:00Z', 'content-type': 'application/json' }, body: '{oops' }, /JSON body is not valid JSON/],
      [{ headers: { 'content-type': 'application/cloudevents-batch+json' }, body: '[]' }, /batch mode/],
      [{ headers: {}, body: 42 }, /no CloudEvent/],
      [null, /must be a JSON object/],
      ['x'.repeat(2_000), /exceeds maxRecordBytes \(1000\)/],
      [JSON.stringify(structured({ data: JSON.parse('['.repeat(300) + ']'.repeat(300)) })), /nested deeper than 256/],
      [new Uint8Array([0x7b, 0xff, 0x7d]), /not valid UTF-8/],
    ];
    for (const [input, reason] of cases) {
      const r = decodeCloudEvent(input, { maxRecordBytes: 1_000 });
      expect(r.ok, String(reason)).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(reason);
    }
    expect(() => decodeCloudEventOrThrow('nope')).toThrow(CloudEventError);
  });

  it('hostile payloads stay data: __proto__ and constructor keys pollute nothing', () => {
    const hostile = '{"specversion":"1.0","id":"p","source":"/s","type":"t","time":"2024-05-01T12:00:00Z",'
      + '"data":{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"a":1}}';
    const r = decodeCloudEventOrThrow<Record<string, unknown>>(hostile);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf(r.data)).toBe(Object.prototype);
    expect(Object.hasOwn(r.data as object, '__proto__')).toBe(true);
    expect((r.data as Record<string, unknown>)['polluted']).toBeUndefined();
    // as an attribute name it is rejected, before anything is copied
    const bad = decodeCloudEvent('{"specversion":"1.0","id":"p","source":"/s","type":"t","time":"2024-05-01T12:00:00Z","__proto__":{"polluted":"yes"}}');
    expect(bad.ok).toBe(false);
    const header = decodeCloudEvent({ headers: { 'ce-id': 'p', 'ce-specversion': '1.0', 'ce-source': '/s', 'ce-type': 't', 'ce-time': '2024-05-01T12:00:00Z', 'ce-__proto__': 'x' }, body: '' });
    expect(header.ok).toBe(false);
    // `constructor` is a valid extension name: it stays an own string property
    const ctor = decodeCloudEventOrThrow(structured({ constructor: 'x' }));
    expect(Object.getOwnPropertyDescriptor(ctor.extensions, 'constructor')?.value).toBe('x');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('random bytes and mangled documents always end decoded or rejected', () => {
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const base = JSON.stringify(structured());
    for (let i = 0; i < 500; i++) {
      const bytes = new Uint8Array(rand(64)).map(() => rand(256));
      const r1 = decodeCloudEvent(bytes);
      const chars = base.split('');
      for (let j = 0; j < 3; j++) chars[rand(chars.length)] = String.fromCharCode(rand(128));
      const r2 = decodeCloudEvent(chars.join(''));
      for (const r of [r1, r2]) expect(r.ok ? typeof r.value.id : r.reason.length > 0).toBeTruthy();
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('encode rejects invalid events with a typed error', () => {
    expect(() => encodeCloudEvent({ source: '', type: 't' })).toThrow(CloudEventError);
    expect(() => encodeCloudEvent({ source: '/s', type: 't', time: 'yesterday' })).toThrow(/RFC 3339/);
    expect(() => encodeCloudEvent({ source: '/s', type: 't', extensions: { Bad: 'x' } })).toThrow(/invalid extension name/);
    expect(() => encodeCloudEvent({ source: '/s', type: 't', data: { n: 1n } })).toThrow(CloudEventError);
    expect(() => encodeCloudEvent({ source: '/s', type: 't' }, 'xml' as never)).toThrow(PlanError);
    expect(cloudEvents.decode).toBe(decodeCloudEvent);
  });
});

describe('fromCloudEvents / toCloudEvents', () => {
  it('a source of raw events: event time from `time`, invalid events dead-lettered with positions, read = emitted + deadLettered', async () => {
    const raw: unknown[] = [
      JSON.stringify(structured({ id: 'a', time: '2024-05-01T12:00:00.100Z' })),
      JSON.stringify(structured({ id: 'b', time: '2024-05-01T12:00:00.900Z' })),
      '{broken',
      encodeCloudEvent({ id: 'c', source: '/shop/orders', type: 'com.shop.order.placed', time: T0 + 1_500, data: { total: 1 } }, 'binary'),
      JSON.stringify(structured({ id: 'd', time: undefined })),
    ];
    const p = new Pipeline({ clock: new ManualClock(), batchSize: 2 });
    const out: unknown[] = [];
    const dead: DeadLetter[] = [];
    const events = p.source(fromCloudEvents<{ total: number }>(fromArray(raw)), { watermark: boundedOutOfOrderness(0), name: 'ce' });
    events.keyBy((e) => e.type).window(tumbling(1_000)).aggregate(count()).sink(collect(out));
    p.deadLetters().sink(collect(dead));
    const summary = await p.run();
    expect(out.map((r) => [(r as { window: { start: number } }).window.start - T0, (r as { value: number }).value])).toEqual([[0, 2], [1_000, 1]]);
    expect(summary.sources['ce']).toMatchObject({ read: 5, emitted: 3, deadLettered: 2 });
    expect(dead.map((d) => [d.reason, (d as { position?: unknown }).position])).toEqual([
      [expect.stringContaining('not valid JSON'), { source: 'array', record: 2 }],
      [expect.stringContaining("'time' is missing"), { source: 'array', record: 4 }],
    ]);
  });

  it('passes partitions and acknowledgements through to the inner source', async () => {
    const acked: unknown[] = [];
    const chunks = [
      { kind: 'records' as const, partition: 3, values: [JSON.stringify(structured({ id: 'x' })), 'bad'] },
    ];
    const inner: Source<string> = {
      kind: 'partitioned', providesTimestamps: false, providesWatermarks: false,
      open: () => ({ partitions: [3], next: () => chunks.shift() ?? null, ack: (c) => void acked.push(c) }),
    };
    const reader = fromCloudEvents(inner).open({ name: 'x', batchSize: 10, clock: new ManualClock() });
    expect(reader.partitions).toEqual([3]);
    const c1 = await reader.next();
    const c2 = await reader.next();
    expect(c1).toMatchObject({ kind: 'records', partition: 3, timestamps: [T0] });
    expect(c2).toMatchObject({ kind: 'dead-letters', letters: [{ value: 'bad', position: { source: 'partitioned', partition: 3, record: 1 } }] });
    await reader.ack?.(c1 as never);
    expect(acked).toHaveLength(0); // its dead letters are not processed yet
    await reader.ack?.(c2 as never);
    expect(acked).toHaveLength(1);
    expect(await reader.next()).toBeNull();
  });

  it('toCloudEvents writes values as events stamped with their event time, structured or binary', async () => {
    const json: string[] = [];
    const bin: EncodedBinaryCloudEvent[] = [];
    const p = new Pipeline({ clock: new ManualClock() });
    const s = p.source(fromArray([{ id: 1, ts: T0 }, { id: 2, ts: T0 + 5 }]), { timestamp: (r) => r.ts });
    s.sink(toCloudEvents(collect(json), 'structured', { source: '/test', type: 'com.test.thing.happened', id: (v) => `thing-${v.id}` }));
    s.sink(toCloudEvents(collect(bin), 'binary', { source: '/test', type: (v) => `t${v.id}`, subject: (v) => String(v.id), extensions: () => ({ tenant: 'acme' }) }));
    await p.run();
    const back = json.map((j) => decodeCloudEventOrThrow<{ id: number }>(j));
    expect(back.map((e) => [e.id, e.timestamp, e.data?.id])).toEqual([['thing-1', T0, 1], ['thing-2', T0 + 5, 2]]);
    const backBin = bin.map((m) => decodeCloudEventOrThrow(m) as CloudEventRecord);
    expect(backBin.map((e) => [e.type, e.subject, e.timestamp, e.extensions['tenant']])).toEqual([['t1', '1', T0, 'acme'], ['t2', '2', T0 + 5, 'acme']]);
    expect(() => toCloudEvents(collect(json), 'structured', { source: '', type: 't' })).toThrow(/tidemark\.toCloudEvents/);
    expect(() => fromCloudEvents(fromArray([]), { maxRecordBytes: -1 })).toThrow(PlanError);
  });
});
