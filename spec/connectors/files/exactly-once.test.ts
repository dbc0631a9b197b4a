/**
 * Checkpoint support of the file connectors: the sources are replayable (every chunk carries the
 * position after it; reopening with `resume` continues right after it, with no overlap and no
 * gap), and `toJsonLines` / `toMsgpack` with `delivery: 'exactly-once'` follow the two-phase
 * protocol (stage per epoch, commit idempotently, restore re-commits and discards later epochs).
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { PlanError, type Sink, type Source, fromCsv, fromJsonLines, fromMsgpack, fromReadable, toJsonLines, toMsgpack, encodeMsgpack } from 'tidemark';
import { Readable } from 'node:stream';
import { tempDir } from './helpers.js';
import { readChunks } from '../checkpoints/read-chunks.js';

const tmp = tempDir('exactly-once');
afterAll(tmp.cleanup);

/** Reads part of a source, resumes from the last chunk's position, and checks the union is the whole. */
async function checkResume<T>(make: () => Source<T>, expected: T[], chunks: number): Promise<void> {
  const first = await readChunks(make(), undefined, chunks, 7);
  expect(first.values.length).toBeGreaterThan(0);
  expect(first.values.length).toBeLessThan(expected.length);
  const rest = await readChunks(make(), first.positions.at(-1), Infinity, 7);
  expect([...first.values, ...rest.values]).toEqual(expected);
}

const lines = Array.from({ length: 100 }, (_, i) => ({ i, s: `r${i}` }));

describe('file sources are replayable', () => {
  it('fromJsonLines resumes after a chunk position (byte offset and line), with blank and bad lines in between', async () => {
    const file = tmp.path('in.jsonl');
    writeFileSync(file, lines.map((r, i) => (i % 10 === 3 ? `${JSON.stringify(r)}\n\n` : `${JSON.stringify(r)}\n`)).join(''));
    expect(fromJsonLines(file).replayable).toBe(true);
    for (const chunks of [1, 3, 8]) await checkResume(() => fromJsonLines<(typeof lines)[number]>(file, { readChunkBytes: 50 }), lines, chunks);
    const first = await readChunks(fromJsonLines(file), undefined, 1);
    expect(first.positions[0]).toMatchObject({ offset: expect.any(Number), line: expect.any(Number) });
  });

  it('fromCsv resumes mid-file and keeps the header read by the first run', async () => {
    const file = tmp.path('in.csv');
    writeFileSync(file, `i,s\r\n${lines.map((r) => `${r.i},${r.s}`).join('\r\n')}\r\n`);
    await checkResume(() => fromCsv<{ i: number; s: string }>(file, { columns: { i: 'integer' } }), lines, 4);
  });

  it('fromMsgpack resumes after a chunk position (byte offset and record count)', async () => {
    const file = tmp.path('in.msgpack');
    writeFileSync(file, Buffer.concat(lines.map((r) => encodeMsgpack(r))));
    await checkResume(() => fromMsgpack<(typeof lines)[number]>(file, { readChunkBytes: 64 }), lines, 5);
  });

  it('refuses to resume past the end of a file that was truncated', async () => {
    const file = tmp.path('shrinks.jsonl');
    writeFileSync(file, lines.map((r) => `${JSON.stringify(r)}\n`).join(''));
    const first = await readChunks(fromJsonLines(file), undefined, 10);
    writeFileSync(file, '{"i":0}\n');
    await expect(readChunks(fromJsonLines(file), first.positions.at(-1))).rejects.toThrow(/shorter than the position to continue from/);
  });

  it('fromReadable is not replayable and attaches no positions', async () => {
    const source = fromReadable(Readable.from(['{"a":1}\n']), { format: 'json-lines' });
    expect(source.replayable).not.toBe(true);
    const { positions } = await readChunks(source, undefined);
    expect(positions).toEqual([undefined]);
  });
});

/** Drives a sink through the two-phase protocol by hand. */
async function write<T>(sink: Sink<T>, values: T[]): Promise<void> {
  await sink.write(values, values.map(() => 0));
}

describe("file sinks with delivery: 'exactly-once'", () => {
  const open = async <T>(sink: Sink<T>, restored?: { checkpointId: number; handle: unknown }): Promise<Sink<T>> => {
    await sink.open?.(restored === undefined ? { name: 'out' } : { name: 'out', restored });
    return sink;
  };
  const jsonl = (values: unknown[]): string => values.map((v) => `${JSON.stringify(v)}\n`).join('');
  const staged = (file: string): string[] => {
    const dir = `${tmp.dir}/.${file.split('/').at(-1) as string}.epochs`;
    return existsSync(dir) ? readdirSync(dir) : [];
  };

  it('declares its guarantee; the default stays at-least-once', () => {
    expect(toJsonLines(tmp.path('g.jsonl'), { delivery: 'exactly-once' }).guarantee).toBe('exactly-once');
    expect(toJsonLines(tmp.path('g.jsonl')).guarantee).toBe('at-least-once');
  });

  it('validates delivery eagerly, naming the function', () => {
    expect(() => toJsonLines('x', { delivery: 'maybe' as never })).toThrow(PlanError);
    expect(() => toJsonLines('x', { delivery: 'exactly-once', atomic: true })).toThrow(/tidemark.toJsonLines: .*atomic/);
    expect(() => toJsonLines('x', { delivery: 'exactly-once', fsync: 'never' })).toThrow(/tidemark.toJsonLines/);
  });

  it('makes nothing visible before commit, and commits idempotently', async () => {
    const file = tmp.path('two-phase.jsonl');
    const sink = await open(toJsonLines<number>(file, { delivery: 'exactly-once' }));
    await write(sink, [1, 2]);
    await write(sink, [3]);
    const h1 = await sink.preCommit?.(1);
    expect(existsSync(file)).toBe(false);
    await sink.commit?.(1, h1);
    await sink.commit?.(1, h1); // twice: no duplicate
    expect(readFileSync(file, 'utf8')).toBe(jsonl([1, 2, 3]));
    await write(sink, [4]);
    const h2 = await sink.preCommit?.(2);
    await sink.commit?.(2, h2);
    await sink.commit?.(2, h2);
    expect(readFileSync(file, 'utf8')).toBe(jsonl([1, 2, 3, 4]));
    await sink.close?.();
    expect(staged(file)).toEqual([]);
  });

  it('after a crash between pre-commit and commit, a restore commits the epoch and discards later writes', async () => {
    const file = tmp.path('crash.jsonl');
    writeFileSync(file, 'old content\n');
    const a = await open(toJsonLines<number>(file, { delivery: 'exactly-once' }));
    await write(a, [1, 2]);
    const h1 = await a.preCommit?.(1);
    await a.commit?.(1, h1);
    await write(a, [3, 4]);
    const h2 = await a.preCommit?.(2);
    await write(a, [5, 6]); // after checkpoint 2: must be discarded
    const h3 = await a.preCommit?.(3); // pre-committed, but checkpoint 3 never became durable
    expect(h3).toBeDefined();
    // crash: `a` is dropped without commit(2), abort or close
    expect(readFileSync(file, 'utf8')).toBe(jsonl([1, 2]));
    const b = await open(toJsonLines<number>(file, { delivery: 'exactly-once' }), { checkpointId: 2, handle: h2 });
    expect(readFileSync(file, 'utf8')).toBe(jsonl([1, 2, 3, 4]));
    expect(staged(file)).toEqual([]);
    await write(b, [5, 6]);
    const h3b = await b.preCommit?.(3);
    await b.commit?.(3, h3b);
    await b.close?.();
    expect(readFileSync(file, 'utf8')).toBe(jsonl([1, 2, 3, 4, 5, 6]));
  });

  it('a restore from an older checkpoint trims epochs committed after it', async () => {
    const file = tmp.path('older.jsonl');
    const a = await open(toJsonLines<number>(file, { delivery: 'exactly-once', append: true }));
    await write(a, [1]);
    const h1 = await a.preCommit?.(1);
    await a.commit?.(1, h1);
    await write(a, [2]);
    const h2 = await a.preCommit?.(2);
    await a.commit?.(2, h2);
    const b = await open(toJsonLines<number>(file, { delivery: 'exactly-once', append: true }), { checkpointId: 1, handle: h1 });
    expect(readFileSync(file, 'utf8')).toBe(jsonl([1]));
    await b.close?.();
  });

  it('a commit interrupted mid-append is redone from the epoch base', async () => {
    const file = tmp.path('torn.jsonl');
    const a = await open(toJsonLines<number>(file, { delivery: 'exactly-once' }));
    await write(a, [1]);
    const h1 = await a.preCommit?.(1);
    await a.commit?.(1, h1);
    await write(a, [2, 3]);
    const h2 = await a.preCommit?.(2);
    writeFileSync(file, `${jsonl([1])}[2`); // a torn append
    const b = await open(toJsonLines<number>(file, { delivery: 'exactly-once' }), { checkpointId: 2, handle: h2 });
    expect(readFileSync(file, 'utf8')).toBe(jsonl([1, 2, 3]));
    await b.close?.();
  });

  it('toMsgpack supports exactly-once too', async () => {
    const file = tmp.path('eo.msgpack');
    const a = await open(toMsgpack<number>(file, { delivery: 'exactly-once' }));
    await write(a, [1, 2]);
    const h1 = await a.preCommit?.(1);
    const b = await open(toMsgpack<number>(file, { delivery: 'exactly-once' }), { checkpointId: 1, handle: h1 });
    await b.close?.();
    expect(readFileSync(file)).toEqual(Buffer.concat([encodeMsgpack(1), encodeMsgpack(2)]));
  });
});
