/**
 * Loads a pipeline module (`.ts` runs as it is: the launcher registered tsx) and checks its
 * shape: a default export `(p, args) => void | Promise<void>`, optionally an `outputs` export.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { PipelineModule } from './args.js';
import { UsageError } from './usage-error.js';

/**
 * Imports the module at the absolute path `file` (errors name `where`, the command).
 *
 * @example
 * const mod = await loadPipelineModule('/srv/app/pipeline.ts', 'tidemark run');
 */
export async function loadPipelineModule(file: string, where: string): Promise<PipelineModule> {
  if (!existsSync(file)) throw new UsageError(`${where}: no pipeline module at ${file}`);
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  if (typeof mod['default'] !== 'function') {
    throw new UsageError(`${where}: ${file} must have a default export (p: Pipeline, args) => void | Promise<void> that adds sources, operators and sinks to p`);
  }
  if (mod['outputs'] !== undefined && typeof mod['outputs'] !== 'function') {
    throw new UsageError(`${where}: ${file} exports 'outputs', which must be a function (args) => Promise<Record<string, unknown[]>>`);
  }
  return mod as unknown as PipelineModule;
}
