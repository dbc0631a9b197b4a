/**
 * Checkpoints in a local directory. Each checkpoint is one file, written durably: to a temporary
 * file (owner-only permissions), fsync, rename into place, fsync of the directory — so a crash
 * leaves either the complete file or none. The last `keep` periodic checkpoints are kept;
 * savepoints stay until deleted.
 */
import { mkdirSync } from 'node:fs';
import { open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Checkpoint, type CheckpointInfo, type CheckpointMeta, type CheckpointStore, PlanError } from '../../index.js';
import { decodeCheckpoint, encodeCheckpointParts, stateEncoder } from './codec.js';

/** Options of `fileCheckpoints`. */
export interface FileCheckpointOptions {
  /** Periodic checkpoints to keep (default 3; savepoints are always kept). */
  readonly keep?: number;
}

const NAME = /^(checkpoint|savepoint)-(\d{12})\.tmck$/;

function fileName(type: CheckpointMeta['type'], id: number): string {
  return `${type}-${String(id).padStart(12, '0')}.tmck`;
}

/** What is left of `parts` after the first `written` bytes (a short writev continues there). */
function remaining(parts: readonly Uint8Array[], written: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let skip = written;
  for (const p of parts) {
    if (skip >= p.length) {
      skip -= p.length;
      continue;
    }
    out.push(skip > 0 ? p.subarray(skip) : p);
    skip = 0;
  }
  return out;
}

async function fsyncPath(path: string): Promise<void> {
  const h = await open(path, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/**
 * A checkpoint store in the directory `dir` (created with owner-only permissions if missing).
 *
 * @example
 * const p = new Pipeline({ checkpoints: { store: fileCheckpoints('./checkpoints', { keep: 3 }), interval: '1s' } });
 */
export function fileCheckpoints(dir: string, options: FileCheckpointOptions = {}): CheckpointStore {
  const where = 'tidemark.fileCheckpoints';
  if (typeof dir !== 'string' || dir.length === 0) throw new PlanError(`${where}: dir must be a non-empty path`);
  const keep = options.keep ?? 3;
  if (!Number.isInteger(keep) || keep < 1) throw new PlanError(`${where}: keep must be a positive integer, got ${String(options.keep)}`);
  const root = resolve(dir);
  mkdirSync(root, { recursive: true, mode: 0o700 });

  const entries = async (): Promise<{ type: CheckpointMeta['type']; id: number; file: string }[]> => {
    const out: { type: CheckpointMeta['type']; id: number; file: string }[] = [];
    for (const f of await readdir(root)) {
      const m = NAME.exec(f);
      if (m !== null) out.push({ type: m[1] as CheckpointMeta['type'], id: Number(m[2]), file: join(root, f) });
    }
    return out.sort((a, b) => a.id - b.id);
  };

  return {
    kind: 'file',
    encodeState: stateEncoder(),
    async write(meta, state, sinks): Promise<CheckpointInfo> {
      const parts = encodeCheckpointParts(meta, state, sinks);
      const bytes = parts.reduce((n, p) => n + p.length, 0);
      const final = join(root, fileName(meta.type, meta.id));
      const temp = join(root, `.${fileName(meta.type, meta.id)}.tmp`);
      const h = await open(temp, 'w', 0o600);
      try {
        let written = 0;
        let rest: Uint8Array[] = parts;
        while (written < bytes) {
          const { bytesWritten } = await h.writev(rest);
          written += bytesWritten;
          rest = remaining(parts, written);
        }
        await h.sync();
      } finally {
        await h.close();
      }
      await rename(temp, final);
      await fsyncPath(root);
      const all = await entries();
      const periodic = all.filter((e) => e.type === 'checkpoint');
      for (const old of periodic.slice(0, Math.max(0, periodic.length - keep))) await rm(old.file, { force: true });
      return { id: meta.id, type: meta.type, takenAt: meta.takenAt, bytes, location: final };
    },
    async latest(): Promise<Checkpoint | undefined> {
      const last = (await entries()).at(-1);
      if (last === undefined) return undefined;
      return decodeCheckpoint(await readFile(last.file), last.file);
    },
    async load(id: number): Promise<Checkpoint> {
      const found = (await entries()).find((e) => e.id === id);
      if (found === undefined) throw new PlanError(`${where}: there is no checkpoint or savepoint ${id} in ${root}`);
      return decodeCheckpoint(await readFile(found.file), found.file);
    },
    async list(): Promise<CheckpointInfo[]> {
      const out: CheckpointInfo[] = [];
      for (const e of await entries()) {
        const h = await open(e.file, 'r');
        try {
          const { size } = await h.stat();
          out.push({ id: e.id, type: e.type, takenAt: NaN, bytes: size, location: e.file });
        } finally {
          await h.close();
        }
      }
      return out;
    },
  };
}
