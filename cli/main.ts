/**
 * The command line's entry: parses, validates, executes, and maps every outcome to an exit code
 * (0 ok, 1 run failed or outputs differ, 2 usage error); `scale-out` runs one instance of a
 * partitioned application (`scaleOut`). `bin.mjs` registers tsx and calls it.
 */
import { CommanderError } from 'commander';
import { EXIT, type Io, execute } from './execute.js';
import { resolveOptions } from './options.js';
import { type Invocation, buildProgram } from './program.js';
import { scaleOut } from './scale-out.js';
import { resolveScaleOutOptions } from './scale-out-options.js';
import { UsageError } from './usage-error.js';

/** Writes to a stream and resolves once the bytes are handed to the OS (pipes are asynchronous). */
function writeAll(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (text.length === 0) resolve();
    else stream.write(text, () => resolve());
  });
}

/** The process's real input/output. */
export const processIo: Io = {
  print: (text) => writeAll(process.stdout, text),
  error: (text) => writeAll(process.stderr, text),
  exit: (code) => process.exit(code),
  stdoutIsTty: process.stdout.isTTY === true,
};

/**
 * Runs the command line `args` (without `node` and the script); resolves with the exit code.
 *
 * @example
 * process.exit(await main(['run', 'pipeline.ts', '--checkpoints', './cp']));
 */
export async function main(args: readonly string[], io: Io = processIo): Promise<number> {
  let invocation: Invocation | undefined;
  const pending: Promise<void>[] = [];
  try {
    const program = buildProgram((inv) => {
      invocation = inv;
    }, args, {
      writeOut: (text) => pending.push(io.print(text)),
      writeErr: (text) => pending.push(io.error(text)),
    });
    await program.parseAsync([...args], { from: 'user' });
    await Promise.all(pending);
  } catch (error) {
    await Promise.all(pending);
    if (error instanceof CommanderError) {
      // `--help` and `--version` are not errors (exit code 0); commander has printed its message.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    throw error;
  }
  if (invocation === undefined) return EXIT.usage;
  const inv = invocation;
  try {
    if (inv.extra.length > 0) {
      throw new UsageError(`tidemark ${inv.command}: unexpected argument(s) ${inv.extra.map((a) => `'${a}'`).join(' ')}; arguments for the module go after --`);
    }
    if (inv.command === 'scale-out') return await scaleOut(resolveScaleOutOptions(inv.module, inv.argv, inv.flags), io.exit);
    return await execute(resolveOptions(inv.command, inv.module, inv.argv, inv.flags), io);
  } catch (error) {
    if (error instanceof UsageError) {
      await io.error(`${error.message}\n(tidemark ${inv.command} --help lists the options)\n`);
      return EXIT.usage;
    }
    await io.error(`tidemark ${inv.command}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
    return EXIT.failed;
  }
}
