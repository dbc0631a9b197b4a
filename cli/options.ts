/**
 * The flags of `tidemark run` and `tidemark replay`, validated once into typed options. Commander
 * hands over raw strings; every rule lives here, and every message names the command and the
 * flag (`tidemark run: --keep must be a positive integer, got '0'`).
 */
import { isAbsolute, resolve } from 'node:path';
import { toMillis } from '../index.js';
import { type Position, parsePosition } from './position.js';
import { UsageError } from './usage-error.js';

/** The raw flag values commander collects (strings, as typed). */
export interface RawFlags {
  readonly checkpoints?: string;
  readonly checkpointInterval?: string;
  readonly checkpointEveryRecords?: string;
  readonly keep?: string;
  readonly restore?: string;
  readonly savepointOnStop?: boolean;
  readonly restartAttempts?: string;
  readonly restartDelay?: string;
  readonly restartMaxDelay?: string;
  readonly restartStrategy?: string;
  readonly sinkRetries?: string;
  readonly sinkRetryDelay?: string;
  readonly batchSize?: string;
  readonly from?: string;
  readonly to?: string;
  readonly into?: string;
  readonly verify?: string | boolean;
  readonly metricsPort?: string;
  readonly metricsHost?: string;
  readonly logLevel?: string;
  /** `--no-progress` sets it false. */
  readonly progress?: boolean;
  readonly progressInterval?: string;
  readonly parallelism?: string;
}

/** Validated options of one invocation. */
export interface CliOptions {
  readonly command: 'run' | 'replay';
  /** Absolute path of the pipeline module. */
  readonly module: string;
  readonly argv: string[];
  readonly checkpoints?: {
    readonly dir: string;
    readonly intervalMs?: number;
    readonly everyRecords?: number;
    readonly keep: number;
    readonly restore: 'latest' | 'none' | number;
  };
  readonly savepointOnStop: boolean;
  readonly restart?: { readonly attempts: number; readonly delayMs: number; readonly maxDelayMs: number; readonly strategy: 'fixed-delay' | 'exponential' };
  readonly sinkRetry?: { readonly attempts: number; readonly delayMs: number } | false;
  readonly batchSize?: number;
  readonly from?: Position;
  readonly to?: Position;
  readonly into?: string;
  /**
   * `--verify [DIR]`: compare the replay's outputs with `DIR`; bare `--verify` compares with the
   * module's `outputs()` export if it has one, else with the `--into` directory.
   */
  readonly verify?: { readonly dir?: string; readonly explicit: boolean };
  readonly metrics?: { readonly port: number; readonly host: string };
  readonly logLevel: string;
  readonly progress: boolean;
  readonly progressIntervalMs: number;
  /** `--parallelism N`: worker threads (1: the run happens in this thread). */
  readonly parallelism: number;
}

/** The log levels `--log-level` accepts. */
export const LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * A duration flag: `250ms`, `10s`, `5m`, `1h`, a plain number of milliseconds, or ISO-8601 (`PT10S`).
 *
 * @example
 * parseDuration('10s', '--checkpoint-interval', 'tidemark run'); // 10000
 */
export function parseDuration(text: string, flag: string, where: string): number {
  const t = text.trim();
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(t);
  let ms: number | undefined;
  if (m !== null) {
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 'ms'] ?? 1;
    ms = Number(m[1]) * unit;
  } else if (/^P/i.test(t)) {
    try {
      ms = toMillis(t, where);
    } catch {
      ms = undefined;
    }
  }
  if (ms === undefined || !Number.isFinite(ms) || !Number.isInteger(ms) || ms < 0) {
    throw new UsageError(`${where}: ${flag} must be a duration such as 500ms, 10s, 5m, 1h or PT10S, got '${text}'`);
  }
  return ms;
}

/** An integer flag in `[min, max]`. */
export function parseInteger(text: string, flag: string, where: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    const what = min === 1 ? 'a positive integer' : min === 0 ? 'an integer ≥ 0' : `an integer ≥ ${min}`;
    throw new UsageError(`${where}: ${flag} must be ${what}${max === Number.MAX_SAFE_INTEGER ? '' : ` and ≤ ${max}`}, got '${text}'`);
  }
  return n;
}

function dirOf(text: string, flag: string, where: string): string {
  if (text.trim().length === 0) throw new UsageError(`${where}: ${flag} needs a directory`);
  return isAbsolute(text) ? text : resolve(text);
}

/**
 * Validates the flags of `command` (errors are `UsageError`s naming the command and flag).
 *
 * @example
 * resolveOptions('run', 'pipeline.ts', [], { checkpoints: './cp', checkpointInterval: '5s' });
 */
export function resolveOptions(command: 'run' | 'replay', module: string, argv: string[], flags: RawFlags): CliOptions {
  const where = `tidemark ${command}`;
  if (module.trim().length === 0) throw new UsageError(`${where}: missing the pipeline module (tidemark ${command} <pipeline.ts>)`);
  const needCheckpoints = (flag: string, given: unknown): void => {
    if (given !== undefined && flags.checkpoints === undefined) throw new UsageError(`${where}: ${flag} needs --checkpoints DIR`);
  };
  needCheckpoints('--checkpoint-interval', flags.checkpointInterval);
  needCheckpoints('--checkpoint-every-records', flags.checkpointEveryRecords);
  needCheckpoints('--keep', flags.keep);
  needCheckpoints('--restore', flags.restore);
  if (flags.savepointOnStop === true) needCheckpoints('--savepoint-on-stop', true);

  let checkpoints: CliOptions['checkpoints'];
  if (flags.checkpoints !== undefined) {
    const everyRecords = flags.checkpointEveryRecords === undefined ? undefined : parseInteger(flags.checkpointEveryRecords, '--checkpoint-every-records', where, 1);
    // By default every 10 s; with only a record count given, by records only.
    const intervalText = flags.checkpointInterval ?? (everyRecords === undefined ? '10s' : undefined);
    const intervalMs = intervalText === undefined ? undefined : parseDuration(intervalText, '--checkpoint-interval', where);
    if (intervalMs === 0) throw new UsageError(`${where}: --checkpoint-interval must be > 0`);
    let restore: 'latest' | 'none' | number = 'latest';
    if (flags.restore !== undefined) {
      restore = flags.restore === 'latest' || flags.restore === 'none' ? flags.restore : parseInteger(flags.restore, '--restore (latest, none or a checkpoint id)', where, 1);
    }
    checkpoints = {
      dir: dirOf(flags.checkpoints, '--checkpoints', where),
      ...(intervalMs === undefined ? {} : { intervalMs }),
      ...(everyRecords === undefined ? {} : { everyRecords }),
      keep: flags.keep === undefined ? 3 : parseInteger(flags.keep, '--keep', where, 1),
      restore,
    };
  }

  let restart: CliOptions['restart'];
  const restartGiven = [flags.restartDelay, flags.restartMaxDelay, flags.restartStrategy].some((v) => v !== undefined);
  if (flags.restartAttempts !== undefined || restartGiven) {
    if (flags.restartAttempts === undefined) throw new UsageError(`${where}: --restart-delay, --restart-max-delay and --restart-strategy need --restart-attempts N`);
    const strategy = flags.restartStrategy ?? 'exponential';
    if (strategy !== 'fixed' && strategy !== 'fixed-delay' && strategy !== 'exponential') {
      throw new UsageError(`${where}: --restart-strategy must be fixed or exponential, got '${strategy}'`);
    }
    const delayMs = parseDuration(flags.restartDelay ?? '1s', '--restart-delay', where);
    const maxDelayMs = parseDuration(flags.restartMaxDelay ?? '1m', '--restart-max-delay', where);
    if (maxDelayMs < delayMs) throw new UsageError(`${where}: --restart-max-delay (${maxDelayMs} ms) must be ≥ --restart-delay (${delayMs} ms)`);
    restart = { attempts: parseInteger(flags.restartAttempts, '--restart-attempts', where, 0), delayMs, maxDelayMs, strategy: strategy === 'exponential' ? 'exponential' : 'fixed-delay' };
  }

  let sinkRetry: CliOptions['sinkRetry'];
  if (flags.sinkRetries !== undefined) {
    const attempts = parseInteger(flags.sinkRetries, '--sink-retries', where, 0);
    sinkRetry = attempts === 0 ? false : { attempts, delayMs: parseDuration(flags.sinkRetryDelay ?? '100ms', '--sink-retry-delay', where) };
  } else if (flags.sinkRetryDelay !== undefined) {
    throw new UsageError(`${where}: --sink-retry-delay needs --sink-retries N`);
  }

  const from = flags.from === undefined ? undefined : parsePosition(flags.from, '--from', where);
  const to = flags.to === undefined ? undefined : parsePosition(flags.to, '--to', where);
  if (command === 'replay' && from === undefined) throw new UsageError(`${where}: --from <offset|time> is required (where the replay starts)`);
  const into = flags.into === undefined ? undefined : dirOf(flags.into, '--into', where);
  let verify: CliOptions['verify'];
  if (flags.verify !== undefined && flags.verify !== false) {
    if (command !== 'replay') throw new UsageError(`${where}: --verify belongs to tidemark replay`);
    verify = flags.verify === true ? { ...(into === undefined ? {} : { dir: into }), explicit: false } : { dir: dirOf(flags.verify, '--verify', where), explicit: true };
  }

  let metrics: CliOptions['metrics'];
  if (flags.metricsPort !== undefined) {
    metrics = { port: parseInteger(flags.metricsPort, '--metrics-port', where, 0, 65_535), host: flags.metricsHost ?? '127.0.0.1' };
    if (metrics.host.trim().length === 0) throw new UsageError(`${where}: --metrics-host must not be empty`);
  } else if (flags.metricsHost !== undefined) {
    throw new UsageError(`${where}: --metrics-host needs --metrics-port PORT`);
  }

  const logLevel = flags.logLevel ?? 'info';
  if (!LEVELS.includes(logLevel)) throw new UsageError(`${where}: --log-level must be one of ${LEVELS.join(', ')}, got '${logLevel}'`);

  const batchSize = flags.batchSize === undefined ? undefined : parseInteger(flags.batchSize, '--batch-size', where, 1);
  const progressIntervalMs = parseDuration(flags.progressInterval ?? '10s', '--progress-interval', where);
  if (progressIntervalMs === 0) throw new UsageError(`${where}: --progress-interval must be > 0`);

  const parallelism = flags.parallelism === undefined ? 1 : parseInteger(flags.parallelism, '--parallelism', where, 1, 256);
  return {
    command,
    module: isAbsolute(module) ? module : resolve(module),
    argv,
    ...(checkpoints === undefined ? {} : { checkpoints }),
    savepointOnStop: flags.savepointOnStop === true,
    ...(restart === undefined ? {} : { restart }),
    ...(sinkRetry === undefined ? {} : { sinkRetry }),
    ...(batchSize === undefined ? {} : { batchSize }),
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    ...(into === undefined ? {} : { into }),
    ...(verify === undefined ? {} : { verify }),
    ...(metrics === undefined ? {} : { metrics }),
    logLevel,
    progress: flags.progress !== false,
    progressIntervalMs,
    parallelism,
  };
}
