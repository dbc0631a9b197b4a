/** Temporary log directories for the event log tests (under the OS temp dir, removed after). */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xxh32Reference } from './xxh32-reference.js';

const made: string[] = [];

/** A fresh temporary directory (removed by `removeTempDirs`). */
export async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'tidemark-log-'));
  made.push(d);
  return d;
}

/** Removes every directory `tempDir` made. */
export async function removeTempDirs(): Promise<void> {
  for (const d of made.splice(0)) await rm(d, { recursive: true, force: true });
}

/** Every record of an async iterable, in order. */
export async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Polls `check` until it returns true (bounded by `timeoutMs`). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Inverts the bits of the byte at `position` of `file` (a bit-rot simulation). */
export async function flipByte(file: string, position: number): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, position);
    b[0] = (b[0] as number) ^ 0xff;
    await fh.write(b, 0, 1, position);
  } finally {
    await fh.close();
  }
}

/**
 * A format-2 frame built by hand from the format description (checksum from the reference xxHash32).
 *
 * @example
 * await appendFile(segmentFile, forgeFrame(2, 1_700_000_000_000, Buffer.from([0xa1, 0x61]), Buffer.from([0x01])));
 */
export function forgeFrame(offset: number, timestamp: number, key: Buffer, value: Buffer): Buffer {
  const len = 24 + key.length + value.length;
  const b = Buffer.alloc(4 + len);
  b.writeUInt32LE(len, 0);
  b.writeDoubleLE(offset, 8);
  b.writeDoubleLE(timestamp, 16);
  b.writeUInt32LE(key.length, 24);
  key.copy(b, 28);
  value.copy(b, 28 + key.length);
  b.writeUInt32LE(xxh32Reference(b.subarray(8)), 4);
  return b;
}
