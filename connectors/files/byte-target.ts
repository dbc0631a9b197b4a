/**
 * Where a byte sink writes: a file (truncate, append, or atomic replace; fsync policy) or a Node
 * `Writable` (waiting for each write's callback, so a slow writable slows the pipeline).
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';

/** A destination for encoded bytes. */
export interface ByteTarget {
  /** True when the target already holds data (appending to a non-empty file: no CSV header). */
  readonly nonEmpty: boolean;
  /** Resolves once the bytes are handed to the OS / the stream (and fsynced under `'always'`). */
  write(bytes: Uint8Array): Promise<void>;
  /** Flushes and finishes (fsync, rename for atomic files, `end()` for streams). */
  close(): Promise<void>;
  /** Gives up after a failed run. */
  abort(): Promise<void>;
}

/** When a file sink calls fsync. */
export type FsyncPolicy = 'always' | 'close' | 'never';

/** How a file sink opens its file. */
export interface FileTargetOptions {
  /** Append to an existing file instead of replacing it (default false). */
  readonly append: boolean;
  /**
   * Write to a temporary file next to `path` and rename it over `path` on close, so readers see
   * the old file or the complete new one, never a partial one (not with `append`).
   */
  readonly atomic: boolean;
  readonly fsync: FsyncPolicy;
}

/** fsyncs a directory (so a created, renamed or deleted entry in it is durable). */
export async function syncDirectory(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Opens `path` for writing. */
export async function fileTarget(path: string, options: FileTargetOptions): Promise<ByteTarget> {
  const temp = options.atomic ? join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`) : undefined;
  const handle: FileHandle = await open(temp ?? path, temp !== undefined ? 'wx' : options.append ? 'a' : 'w');
  const nonEmpty = options.append && (await handle.stat()).size > 0;
  let closed = false;
  return {
    nonEmpty,
    async write(bytes) {
      let at = 0;
      while (at < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, at, bytes.length - at);
        at += bytesWritten;
      }
      if (options.fsync === 'always') await handle.datasync();
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        if (options.fsync !== 'never') await handle.sync();
      } finally {
        await handle.close();
      }
      if (temp !== undefined) {
        await rename(temp, path);
        if (options.fsync !== 'never') await syncDirectory(dirname(path));
      }
    },
    async abort() {
      if (closed) return;
      closed = true;
      await handle.close().catch(() => undefined);
      if (temp !== undefined) await unlink(temp).catch(() => undefined);
    },
  };
}

/** Options of a stream target. */
export interface StreamTargetOptions {
  /** Call `writable.end()` when the run completes (default true; false for `process.stdout`). */
  readonly end: boolean;
}

/** Wraps a Node `Writable`. */
export function streamTarget(writable: Writable, options: StreamTargetOptions): ByteTarget {
  let failure: unknown;
  const onError = (e: unknown): void => {
    failure ??= e;
  };
  writable.on('error', onError);
  const detach = (): void => {
    writable.off('error', onError);
  };
  return {
    nonEmpty: false,
    write(bytes) {
      if (failure !== undefined) return Promise.reject(failure);
      return new Promise<void>((resolve, reject) => {
        writable.write(bytes, (e) => (e ? reject(e) : resolve()));
      });
    },
    async close() {
      if (failure !== undefined) {
        detach();
        throw failure;
      }
      if (options.end) {
        await new Promise<void>((resolve, reject) => {
          writable.end((e?: Error | null) => (e ? reject(e) : resolve()));
        });
      }
      detach();
    },
    async abort() {
      detach();
      if (options.end) writable.destroy();
    },
  };
}
