/**
 * Node stream interop: `fromReadable` reads only as fast as the pipeline consumes (backpressure),
 * joins records split across chunks (even inside a UTF-8 character), and names the stream in
 * positions; `toWritable` waits for the writable and ends it (or leaves it open).
 */
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ManualClock, Pipeline, PlanError, SourceError, fromArray, forEach } from 'tidemark';
import { fromReadable, toWritable } from 'tidemark';
import { drain } from './helpers.js';

/** One event-loop turn, without timers. */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (condition()) return;
    await tick();
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('fromReadable', () => {
  it('pulls from the stream only as the pipeline consumes it', async () => {
    const total = 1000;
    let produced = 0;
    const readable = new Readable({
      highWaterMark: 1024,
      read() {
        produced++;
        this.push(Buffer.from(Array.from({ length: 50 }, (_, i) => `{"n":${(produced - 1) * 50 + i}}\n`).join('')));
        if (produced === total) this.push(null);
      },
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let writes = 0;
    let seen = 0;
    const p = new Pipeline({ clock: new ManualClock(), batchSize: 50 });
    p.source(fromReadable<{ n: number }>(readable, { format: 'json-lines' }), { timestamp: (r) => r.n, name: 'src' })
      .sink(forEach(async (r) => {
        if (r.n !== seen) throw new Error(`out of order: ${r.n} after ${seen}`);
        seen++;
        if (writes++ === 0) await gate;
      }));
    const run = p.run();
    await waitFor(() => writes > 0, 'the first write');
    for (let i = 0; i < 20; i++) await tick();
    const whileBlocked = produced;
    for (let i = 0; i < 20; i++) await tick();
    expect(produced).toBe(whileBlocked);
    expect(produced).toBeLessThan(10);
    release();
    const summary = await run;
    expect(seen).toBe(total * 50);
    expect(summary.sources['src']).toMatchObject({ read: total * 50, emitted: total * 50 });
  });

  it('joins records split across chunks, even inside a UTF-8 character, and names the stream in positions', async () => {
    const bytes = Buffer.from('{"s":"é☃"}\nnope\n{"s":"ok"}\n');
    const chunks = Array.from(bytes, (b) => Buffer.from([b])); // one byte per chunk
    const { records, dead } = await drain(fromReadable(Readable.from(chunks), { format: 'json-lines', name: 'stdin' }));
    expect(records).toEqual([{ s: 'é☃' }, { s: 'ok' }]);
    expect(dead).toMatchObject([{ value: 'nope', position: { stream: 'stdin', line: 2, offset: 14 } }]);
  });

  it('reads CSV and msgpack streams, and strings from a text-mode readable', async () => {
    const csv = await drain(fromReadable(Readable.from(['a,b\n1,"x\n', 'y"\n']), { format: 'csv', columns: { a: 'integer' } }));
    expect(csv.records).toEqual([{ a: 1, b: 'x\ny' }]);
    const mp = await drain(fromReadable(Readable.from([Buffer.from([0x81, 0xa1, 0x61]), Buffer.from([0x01, 0x02])]), { format: 'msgpack' }));
    expect(mp.records).toEqual([{ a: 1 }, 2]);
  });

  it('fails the run on an object-mode stream, and validates options eagerly', async () => {
    await expect(drain(fromReadable(Readable.from([{ not: 'bytes' }]), { format: 'json-lines' }))).rejects.toThrow(SourceError);
    expect(() => fromReadable({} as Readable, { format: 'json-lines' })).toThrow(/tidemark\.fromReadable: expected a Node Readable/);
    expect(() => fromReadable(Readable.from([]), { format: 'xml' as 'csv' })).toThrow(PlanError);
  });
});

/** A writable that completes each write on a later turn, recording what it got. */
function slowWritable(): { writable: Writable; got: Buffer[]; ended: () => boolean } {
  const got: Buffer[] = [];
  let finished = false;
  const writable = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _enc, cb) {
      got.push(chunk);
      setImmediate(cb);
    },
    final(cb) {
      finished = true;
      cb();
    },
  });
  return { writable, got, ended: () => finished };
}

describe('toWritable', () => {
  it('writes every record in order, waiting for the writable, and ends it', async () => {
    const { writable, got, ended } = slowWritable();
    const p = new Pipeline({ clock: new ManualClock(), batchSize: 7 });
    const rows = Array.from({ length: 100 }, (_, i) => ({ i }));
    p.source(fromArray(rows), { timestamp: (r) => r.i }).sink(toWritable(writable, { format: 'json-lines' }));
    await p.run();
    expect(Buffer.concat(got).toString('utf8')).toBe(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    expect(ended()).toBe(true);
  });

  it('leaves the writable open with end: false, and writes CSV with a header', async () => {
    const { writable, got, ended } = slowWritable();
    const p = new Pipeline({ clock: new ManualClock() });
    p.source(fromArray([{ a: 'x,y', b: 1 }]), { timestamp: () => 0 }).sink(toWritable(writable, { format: 'csv', columns: ['a', 'b'], end: false }));
    await p.run();
    expect(Buffer.concat(got).toString('utf8')).toBe('a,b\r\n"x,y",1\r\n');
    expect(ended()).toBe(false);
    expect(writable.writableEnded).toBe(false);
  });

  it('fails the run when the writable fails', async () => {
    const writable = new Writable({
      write(_chunk, _enc, cb) {
        cb(new Error('disk full'));
      },
    });
    const p = new Pipeline({ clock: new ManualClock() });
    p.source(fromArray([1, 2, 3]), { timestamp: () => 0 }).sink(toWritable(writable, { format: 'msgpack' }));
    await expect(p.run()).rejects.toThrow(/disk full/);
  });
});
