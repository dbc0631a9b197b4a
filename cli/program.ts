/**
 * The command line's grammar (commander): `tidemark run <pipeline.ts>`, `tidemark replay
 * <pipeline.ts> --from …` and `tidemark scale-out <pipeline.ts> --application-id … --partitions …
 * --nats …`, their flags and help. Parsing only: values are validated by `resolveOptions` (or
 * `resolveScaleOutOptions`) and executed by `execute` (or `scaleOut`).
 */
import { Command, Option } from 'commander';
import type { RawFlags } from './options.js';
import type { ScaleOutFlags } from './scale-out-options.js';

/** What a parsed command line asks for. */
export type Invocation = InvocationOf<'run' | 'replay', RawFlags> | InvocationOf<'scale-out', ScaleOutFlags>;

/** One command's invocation: its module, the module's arguments and the command's flags. */
export interface InvocationOf<C extends string, F> {
  readonly command: C;
  readonly module: string;
  /** Arguments after `--` (for the module). */
  readonly argv: string[];
  /** Operands before `--` beyond the module (a usage error). */
  readonly extra: string[];
  readonly flags: F;
}

/** Collects a repeatable option's values (`--repartition a --repartition b`, or `a b`). */
function collectValues(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function common(cmd: Command): Command {
  return cmd
    .argument('<pipeline>', 'the pipeline module (.ts or .js) whose default export is (p: Pipeline, args) => void | Promise<void>')
    .argument('[args...]', 'arguments for the module, after --')
    .option('--checkpoints <dir>', 'checkpoint directory: resume from its latest checkpoint, take checkpoints into it')
    .option('--checkpoint-interval <duration>', 'processing time between checkpoints (e.g. 500ms, 10s, 5m, PT1M; default 10s)')
    .option('--checkpoint-every-records <n>', 'also take a checkpoint after every n records read')
    .option('--keep <n>', 'periodic checkpoints to keep (default 3; savepoints are kept)')
    .option('--restore <which>', "where to start: 'latest' (default), 'none', or a checkpoint/savepoint id")
    .option('--savepoint-on-stop', 'on SIGINT/SIGTERM, take a savepoint before the final checkpoint')
    .option('--restart-attempts <n>', 'restart a failed run from its last checkpoint up to n times (default 0)')
    .option('--restart-delay <duration>', 'delay before the first restart (default 1s)')
    .option('--restart-max-delay <duration>', 'largest delay between restarts (default 1m)')
    .addOption(new Option('--restart-strategy <strategy>', 'delays between restarts').choices(['fixed', 'exponential']))
    .option('--sink-retries <n>', 'retries of a failed sink write before the run fails (0: none)')
    .option('--sink-retry-delay <duration>', 'delay before the first sink retry, doubling after (default 100ms)')
    .option('--batch-size <n>', 'preferred records per batch (default 1024)')
    .option('--parallelism <n>', 'run on n worker threads of this process, keyed state divided among them (default 1: in this thread)')
    .option('--metrics-port <port>', 'serve Prometheus metrics on this port (0: a free one; the URL is logged)')
    .option('--metrics-host <host>', 'address the metrics endpoint binds to (default 127.0.0.1)')
    .option('--log-level <level>', 'fatal, error, warn, info (default), debug, trace or silent')
    .option('--no-progress', 'no progress bar (terminal) or progress log lines')
    .option('--progress-interval <duration>', 'between progress log lines when stdout is not a terminal (default 10s)')
    .showHelpAfterError('(tidemark <command> --help lists the options)');
}

/**
 * The program; `onInvoke` receives each parsed invocation. Commander's own errors (unknown
 * option, missing argument) throw a `CommanderError` (`exitOverride`).
 *
 * @example
 * await buildProgram((inv) => { invocation = inv; }, argv, { writeOut, writeErr }).parseAsync(argv, { from: 'user' });
 */
export function buildProgram(
  onInvoke: (invocation: Invocation) => void,
  rawArgs: readonly string[],
  output: { readonly writeOut: (text: string) => void; readonly writeErr: (text: string) => void },
): Command {
  const dash = rawArgs.indexOf('--');
  const afterDash = dash === -1 ? [] : rawArgs.slice(dash + 1);
  const extraOf = (rest: readonly string[]): string[] => rest.slice(0, Math.max(0, rest.length - afterDash.length));
  const handle = (command: 'run' | 'replay') => (module: string, rest: string[], flags: RawFlags): void => {
    onInvoke({ command, module, argv: [...afterDash], extra: extraOf(rest), flags });
  };
  const program = new Command('tidemark')
    .description('Run Tidemark pipeline modules: tidemark run <pipeline.ts>, tidemark replay <pipeline.ts> --from …, tidemark scale-out <pipeline.ts> --application-id … --partitions … --nats …')
    .exitOverride()
    .showHelpAfterError('(tidemark --help lists the commands)');

  common(program.command('run').description('run a pipeline module; SIGINT/SIGTERM stop it cleanly with a final checkpoint'))
    .option('--from <position>', 'where sources start on a fresh start: earliest, latest, an offset, p:offset,… or an instant (2024-05-01T00:00:00Z, @epochMs)')
    .action(handle('run'));

  common(program.command('replay').description('reprocess history from --from (to --to): backfill a consumer, rebuild a read model, verify outputs'))
    .option('--from <position>', 'where the replay starts (required): earliest, an offset, p:offset,… or an instant (2024-05-01T00:00:00Z, @epochMs)')
    .option('--to <position>', 'where the replay ends (exclusive), same forms as --from')
    .option('--into <dir>', "the module writes its outputs into this directory (args.into)")
    .option('--verify [dir]', "compare the replay's outputs with DIR (default: the module's outputs() export, else --into) and print the differences; exit 1 when they differ")
    .action(handle('replay'));

  program.command('scale-out')
    .description('run one instance of a partitioned application: instances with the same --application-id share the partitions (leases in NATS, checkpoints in PostgreSQL); SIGINT/SIGTERM stop it cleanly')
    .argument('<pipeline>', 'the pipeline module (.ts or .js) whose default export is (p: Pipeline, args) => void | Promise<void>')
    .argument('[args...]', 'arguments for the module, after --')
    .option('--application-id <id>', 'the application every instance shares (required): names its leases, streams and checkpoints')
    .option('--partitions <n>', 'the number of partitions (tasks) the application is divided into (required)')
    .option('--nats <servers>', 'NATS servers for leases and repartition streams (required), e.g. 127.0.0.1:4222')
    .option('--postgres <connection>', "PostgreSQL connection string of the shared checkpoint store (default: pg's environment variables)")
    .option('--key-groups <n>', 'key groups of keyed state, a power of two (default 128)')
    .option('--checkpoint-interval <duration>', 'processing time between checkpoints of each task (e.g. 500ms, 10s, PT1M)')
    .option('--checkpoint-every-records <n>', 'also take a checkpoint after every n records a task read')
    .option('--lease-ttl <duration>', 'how long a partition lease lives without renewal (e.g. 10s)')
    .option('--repartition <name...>', 'names of the repartitioned streams (through NATS) the module uses')
    .option('--instance-id <id>', 'this instance\'s id (default: a random one)')
    .option('--log-level <level>', 'fatal, error, warn, info (default), debug, trace or silent')
    .showHelpAfterError('(tidemark scale-out --help lists the options)')
    .action((module: string, rest: string[], flags: ScaleOutFlags): void => {
      onInvoke({ command: 'scale-out', module, argv: [...afterDash], extra: extraOf(rest), flags });
    });

  program.configureOutput(output);
  for (const cmd of program.commands) cmd.exitOverride().configureOutput(output);
  return program;
}
