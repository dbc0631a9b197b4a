/**
 * The contract between the command line and a pipeline module: the module's default export
 * receives the `Pipeline` the CLI built (checkpoints, restarts, events already wired) and this
 * arguments object, and adds its sources, operators and sinks to it.
 */
import type { Logger } from 'pino';
import type { Pipeline } from '../index.js';
import type { Position } from './position.js';

/** What `tidemark run` / `tidemark replay` hands a pipeline module. */
export interface PipelineArgs {
  /** The arguments after `--` on the command line, for the module's own flags. */
  readonly argv: string[];
  /** Which command runs the module. */
  readonly command: 'run' | 'replay';
  /** True under `tidemark replay`: reprocess history (sources start at `from`, stop before `to`). */
  readonly replay: boolean;
  /**
   * `--from`: where the sources start on a fresh start (no checkpoint to restore). A restored run
   * resumes from the checkpoint's positions instead. The module maps it onto its sources, e.g.
   * `log.source({ from: logStart(args.from) })`.
   */
  readonly from?: Position;
  /** `--to` (replay): where the replay ends, exclusive; the module applies it (see `before`). */
  readonly to?: Position;
  /**
   * `--into DIR` (replay), or a fresh temporary directory under `--verify`: the module writes its
   * outputs as files in this directory instead of their usual place. `--verify` compares the files
   * written here with the existing ones, by name.
   */
  readonly into?: string;
  /** Aborted when the CLI stops the run (a signal): hand it to sources that follow a live input. */
  readonly signal: AbortSignal;
  /** The CLI's structured logger (pino), for the module's own log lines. */
  readonly log: Logger;
}

/** A pipeline module's default export. */
export type PipelineModuleMain = (p: Pipeline, args: PipelineArgs) => void | Promise<void>;

/**
 * A pipeline module. `outputs` (optional) reads what the module's real sinks already hold (a
 * table, a stream), keyed like the files it writes into `args.into`, so `replay --verify` can
 * compare against a sink rather than a directory.
 */
export interface PipelineModule {
  readonly default: PipelineModuleMain;
  readonly outputs?: (args: PipelineArgs) => Promise<Readonly<Record<string, readonly unknown[]>>>;
}
