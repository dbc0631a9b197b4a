/**
 * Committed offsets of named consumers: one small JSON file per consumer under `consumers/`,
 * replaced atomically (temporary file, rename; fsynced unless the log's policy is `'never'`).
 * An offset is the next offset the consumer will read in that partition.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PlanError } from '../../engine/errors.js';
import { syncDir, writeDurably } from './segment.js';

const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/;

/** Checks a consumer name (letters, digits, `._-`, up to 200 characters). */
export function checkConsumer(name: unknown, where: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new PlanError(`${where}: consumer must be 1–200 letters, digits, '.', '_' or '-' (not starting with '.' or '-'), got ${JSON.stringify(name)}`);
  }
  return name;
}

/** The store of every consumer's committed offsets. */
export class ConsumerStore {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly cache = new Map<string, Record<number, number>>();

  constructor(private readonly dir: string, private readonly sync: boolean) {}

  private path(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  /** The committed offsets of `name` (`{}` when it never committed). */
  async load(name: string): Promise<Record<number, number>> {
    await this.chains.get(name);
    return { ...(await this.read(name)) };
  }

  private async read(name: string): Promise<Record<number, number>> {
    const hit = this.cache.get(name);
    if (hit !== undefined) return hit;
    const offsets: Record<number, number> = {};
    try {
      const parsed = JSON.parse(await readFile(this.path(name), 'utf8')) as { offsets?: Record<string, unknown> };
      for (const [k, v] of Object.entries(parsed.offsets ?? {})) if (typeof v === 'number') offsets[Number(k)] = v;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    this.cache.set(name, offsets);
    return offsets;
  }

  /** Merges `offsets` into what `name` committed (commits of one consumer are serialised). */
  save(name: string, offsets: Readonly<Record<number, number>>): Promise<void> {
    const run = async (): Promise<void> => {
      const merged = { ...(await this.read(name)), ...offsets };
      await mkdir(this.dir, { recursive: true });
      await writeDurably(this.path(name), JSON.stringify({ offsets: merged }), this.sync);
      if (this.sync) await syncDir(this.dir);
      this.cache.set(name, merged);
    };
    const next = (this.chains.get(name) ?? Promise.resolve()).then(run);
    const kept = next.catch(() => undefined);
    this.chains.set(name, kept);
    void kept.then(() => {
      if (this.chains.get(name) === kept) this.chains.delete(name);
    });
    return next;
  }
}
