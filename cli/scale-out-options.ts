/**
 * Validation of `tidemark scale-out`'s flags: turns what commander parsed into the options of
 * `scaleOut`, refusing bad values with a `UsageError` that names the command and the flag.
 */
import { LEVELS, parseDuration, parseInteger } from './options.js';
import type { ScaleOutCommandOptions } from './scale-out.js';
import { UsageError } from './usage-error.js';

/** The raw (string) flags of `tidemark scale-out`, as commander gives them. */
export interface ScaleOutFlags {
  readonly applicationId?: string;
  readonly partitions?: string;
  readonly keyGroups?: string;
  readonly nats?: string;
  readonly postgres?: string;
  readonly checkpointInterval?: string;
  readonly checkpointEveryRecords?: string;
  readonly leaseTtl?: string;
  readonly repartition?: readonly string[];
  readonly instanceId?: string;
  readonly logLevel?: string;
}

const WHERE = 'tidemark scale-out';

function nonEmpty(text: string | undefined, flag: string, what: string): string {
  if (text === undefined || text.trim().length === 0) throw new UsageError(`${WHERE}: ${flag} <${what}> is required`);
  return text.trim();
}

function optional(text: string | undefined, flag: string): string | undefined {
  if (text === undefined) return undefined;
  if (text.trim().length === 0) throw new UsageError(`${WHERE}: ${flag} must not be empty`);
  return text.trim();
}

/**
 * The options of `scaleOut` from the parsed flags (errors are `UsageError`s naming the flag).
 *
 * @example
 * resolveScaleOutOptions('pipeline.ts', [], { applicationId: 'clicks', partitions: '8', nats: '127.0.0.1:4222' });
 */
export function resolveScaleOutOptions(module: string, argv: readonly string[], flags: ScaleOutFlags): ScaleOutCommandOptions {
  if (module.trim().length === 0) throw new UsageError(`${WHERE}: missing the pipeline module (tidemark scale-out <pipeline.ts>)`);
  const applicationId = nonEmpty(flags.applicationId, '--application-id', 'id');
  const partitions = parseInteger(nonEmpty(flags.partitions, '--partitions', 'n'), '--partitions', WHERE, 1);
  const nats = nonEmpty(flags.nats, '--nats', 'servers');
  const keyGroups = flags.keyGroups === undefined ? undefined : parseInteger(flags.keyGroups, '--key-groups', WHERE, 1);
  if (keyGroups !== undefined && (keyGroups & (keyGroups - 1)) !== 0) throw new UsageError(`${WHERE}: --key-groups must be a power of two, got '${String(flags.keyGroups)}'`);
  let checkpointInterval: string | undefined;
  if (flags.checkpointInterval !== undefined) {
    const ms = parseDuration(flags.checkpointInterval, '--checkpoint-interval', WHERE);
    if (ms === 0) throw new UsageError(`${WHERE}: --checkpoint-interval must be > 0`);
    checkpointInterval = `${ms}ms`;
  }
  const checkpointEvery = flags.checkpointEveryRecords === undefined ? undefined : parseInteger(flags.checkpointEveryRecords, '--checkpoint-every-records', WHERE, 1);
  let leaseTtl: string | undefined;
  if (flags.leaseTtl !== undefined) {
    const ms = parseDuration(flags.leaseTtl, '--lease-ttl', WHERE);
    if (ms === 0) throw new UsageError(`${WHERE}: --lease-ttl must be > 0`);
    leaseTtl = `${ms}ms`;
  }
  const repartition = flags.repartition?.map((name) => {
    if (name.trim().length === 0) throw new UsageError(`${WHERE}: --repartition needs the name of a repartitioned stream`);
    return name.trim();
  });
  const logLevel = flags.logLevel ?? 'info';
  if (!LEVELS.includes(logLevel)) throw new UsageError(`${WHERE}: --log-level must be one of ${LEVELS.join(', ')}, got '${logLevel}'`);
  const postgres = optional(flags.postgres, '--postgres');
  const instanceId = optional(flags.instanceId, '--instance-id');
  return {
    module,
    applicationId,
    partitions,
    nats,
    argv: [...argv],
    logLevel,
    ...(keyGroups === undefined ? {} : { keyGroups }),
    ...(postgres === undefined ? {} : { postgres }),
    ...(checkpointInterval === undefined ? {} : { checkpointInterval }),
    ...(checkpointEvery === undefined ? {} : { checkpointEvery }),
    ...(leaseTtl === undefined ? {} : { leaseTtl }),
    ...(repartition === undefined ? {} : { repartition }),
    ...(instanceId === undefined ? {} : { instanceId }),
  };
}
