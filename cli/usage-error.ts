/**
 * A mistake in how the command line was called (a bad flag value, a missing argument, a module
 * without a default export): printed with the command's name, exit code 2.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
