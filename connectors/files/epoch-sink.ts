/**
 * The exactly-once file sink: output is staged per checkpoint epoch and appended to the target
 * only when the checkpoint that covers it is durable (two-phase commit, see `engine/sink.ts`).
 *
 * - Writes go to a part file in the staging directory `.<name>.epochs/` next to the target
 *   (streamed, never held in memory).
 * - `preCommit(id)` seals the current part synchronously (later writes open a new one), fsyncs it
 *   and the directory, and resolves with the handle `{ run, file, base, size }`: `base` is the
 *   target's committed length before the epoch and `size` the epoch's bytes.
 * - `commit(id, handle)` truncates the target to `base`, appends the part, fsyncs, then deletes
 *   the part. Idempotent: a second commit finds the part gone and only checks (and trims to)
 *   `base + size`; a commit interrupted mid-append is redone from `base`.
 * - A restored run commits the checkpoint's epoch again and deletes every other staged part (the
 *   epochs after the checkpoint), so the target holds exactly the output up to the checkpoint —
 *   even if later epochs had already been appended (the target is trimmed to the epoch's end).
 */
import { randomBytes } from 'node:crypto';
import { constants, mkdirSync } from 'node:fs';
import { type FileHandle, open, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TidemarkError, describeError } from '../../engine/errors.js';
import type { Sink, SinkContext } from '../../engine/sink.js';
import { syncDirectory } from './byte-target.js';
import type { Encoding } from './format.js';

/** What `epochFileSink` needs. */
export interface EpochFileSinkSpec<T> {
  readonly kind: string;
  readonly factory: string;
  readonly path: string;
  readonly encoding: Encoding<T>;
  /** Keep the target's existing content (true) or replace it at the first commit (false). */
  readonly append: boolean;
}

/** The handle of a pre-committed epoch (stored in the checkpoint). */
export interface FileEpochHandle {
  /** The run lineage (part files are named after it). */
  readonly run: string;
  /** The part file in the staging directory; `null` for an epoch without output. */
  readonly file: string | null;
  /** The target's committed length before this epoch. */
  readonly base: number;
  /** The epoch's bytes. */
  readonly size: number;
}

const PART = /^[0-9a-f]{16}-\d+\.part$/;

interface Part {
  readonly name: string;
  readonly handle: Promise<FileHandle>;
  size: number;
  tail: Promise<void>;
}

async function writeAll(h: FileHandle, bytes: Uint8Array, position?: number): Promise<void> {
  let at = 0;
  while (at < bytes.length) {
    const { bytesWritten } = await h.write(bytes, at, bytes.length - at, position === undefined ? null : position + at);
    at += bytesWritten;
  }
}

function isHandle(h: unknown): h is FileEpochHandle {
  const x = h as Partial<FileEpochHandle> | null;
  const n = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  return x !== null && typeof x === 'object' && typeof x.run === 'string' && /^[0-9a-f]{16}$/.test(x.run)
    && (x.file === null || (typeof x.file === 'string' && PART.test(x.file))) && n(x.base) && n(x.size);
}

/**
 * An exactly-once sink writing `encoding` to `spec.path` (formats without a header).
 *
 * @example
 * epochFileSink({ kind: 'json-lines', factory: 'tidemark.toJsonLines', path: 'out.jsonl',
 *   encoding: jsonLinesEncoding('tidemark.toJsonLines'), append: false });
 */
export function epochFileSink<T>(spec: EpochFileSinkSpec<T>): Sink<T> {
  const { factory, path, encoding } = spec;
  const staging = join(dirname(path), `.${basename(path)}.epochs`);
  let run = '';
  let seq = 0;
  /** Target length once every sealed epoch is committed. */
  let expected = 0;
  let current: Part | undefined;
  let failure: unknown;

  const fail = (what: string, e: unknown): never => {
    if (e instanceof TidemarkError) throw e;
    throw new TidemarkError(`${factory}: ${what} failed for ${path}: ${describeError(e)}`, { cause: e });
  };

  const part = (): Part => {
    if (current !== undefined) return current;
    const name = `${run}-${++seq}.part`;
    const handle = open(join(staging, name), 'wx', 0o644);
    handle.catch(() => undefined); // reported by the write that awaits it
    current = { name, handle, size: 0, tail: Promise.resolve() };
    return current;
  };

  const commit = async (id: number, h: unknown): Promise<void> => {
    if (!isHandle(h)) throw new TidemarkError(`${factory}: the handle of epoch ${id} is not a file epoch handle: ${JSON.stringify(h)}`);
    try {
      const target = await open(path, constants.O_RDWR | constants.O_CREAT, 0o644);
      try {
        const length = (await target.stat()).size;
        if (length < h.base) {
          throw new TidemarkError(`${factory}: ${path} is ${length} bytes long, shorter than its committed length before epoch ${id} (${h.base}): it was truncated or replaced outside the pipeline`);
        }
        const staged = h.file === null ? undefined : await open(join(staging, h.file), 'r').catch((e: NodeJS.ErrnoException) => {
          if (e.code === 'ENOENT') return undefined;
          throw e;
        });
        if (staged === undefined) {
          // Already committed (the part is deleted only after the target was synced).
          if (length < h.base + h.size) {
            throw new TidemarkError(`${factory}: epoch ${id} of ${path} is neither staged nor fully committed (${length} < ${h.base + h.size} bytes): the staging directory or the file was modified`);
          }
          if (length > h.base + h.size) {
            await target.truncate(h.base + h.size);
            await target.sync();
          }
          return;
        }
        try {
          await target.truncate(h.base);
          const buffer = new Uint8Array(1 << 20);
          let copied = 0;
          for (;;) {
            const { bytesRead } = await staged.read(buffer, 0, buffer.length, copied);
            if (bytesRead === 0) break;
            await writeAll(target, buffer.subarray(0, bytesRead), h.base + copied);
            copied += bytesRead;
          }
          if (copied !== h.size) throw new TidemarkError(`${factory}: the staged epoch ${id} of ${path} holds ${copied} bytes, expected ${h.size}: the staging directory was modified`);
          await target.sync();
        } finally {
          await staged.close();
        }
      } finally {
        await target.close();
      }
      if (h.file !== null) {
        await rm(join(staging, h.file), { force: true });
        await syncDirectory(staging);
      }
    } catch (e) {
      fail(`committing epoch ${id}`, e);
    }
  };

  /** Deletes every staged part (epochs after a restored checkpoint, dead runs). */
  const clearStaging = async (): Promise<void> => {
    for (const f of await readdir(staging)) if (PART.test(f)) await rm(join(staging, f), { force: true });
  };

  return {
    kind: spec.kind,
    guarantee: 'exactly-once',
    async open(ctx: SinkContext) {
      current = undefined;
      failure = undefined;
      seq = 0;
      try {
        mkdirSync(staging, { recursive: true, mode: 0o755 });
        const restored = ctx.restored;
        if (restored !== undefined && restored.handle !== undefined) {
          const h = restored.handle;
          await commit(restored.checkpointId, h);
          // A fresh run id per open: a part name is never reused across restarts (a later
          // restore from the same checkpoint must find that checkpoint's part, not a newer one).
          run = randomBytes(8).toString('hex');
          expected = (h as FileEpochHandle).base + (h as FileEpochHandle).size;
          await clearStaging();
        } else {
          run = randomBytes(8).toString('hex');
          await clearStaging();
          expected = spec.append ? await stat(path).then((s) => s.size, (e: NodeJS.ErrnoException) => {
            if (e.code === 'ENOENT') return 0;
            throw e;
          }) : 0;
        }
      } catch (e) {
        fail('opening', e);
      }
    },
    write(values) {
      if (values.length === 0) return undefined;
      if (failure !== undefined) return Promise.reject(failure);
      const bytes = encoding.encode(values);
      const p = part();
      p.size += bytes.length;
      p.tail = p.tail.then(async () => writeAll(await p.handle, bytes)).catch((e: unknown) => {
        failure ??= e;
        return fail('staging a write', e);
      });
      return p.tail;
    },
    preCommit(checkpointId) {
      // Seal synchronously: writes from here on belong to the next epoch.
      const sealed = current;
      current = undefined;
      const base = expected;
      expected += sealed?.size ?? 0;
      if (sealed === undefined) return { run, file: null, base, size: 0 } satisfies FileEpochHandle;
      return (async (): Promise<FileEpochHandle> => {
        try {
          await sealed.tail;
          const h = await sealed.handle;
          try {
            await h.sync();
          } finally {
            await h.close();
          }
          await syncDirectory(staging);
        } catch (e) {
          fail(`pre-committing epoch ${checkpointId}`, e);
        }
        return { run, file: sealed.name, base, size: sealed.size };
      })();
    },
    commit,
    async close() {
      const left = current;
      current = undefined;
      if (left !== undefined) await (await left.handle.catch(() => undefined))?.close();
      await rmdir(staging).catch(() => undefined); // only when empty
    },
    async abort() {
      // Staged parts stay: a restore re-commits the checkpoint's epoch and deletes the rest.
      const left = current;
      current = undefined;
      if (left !== undefined) await (await left.handle.catch(() => undefined))?.close().catch(() => undefined);
    },
  };
}
