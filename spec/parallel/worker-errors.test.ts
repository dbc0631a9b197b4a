/**
 * Errors of worker threads reach the caller with their original name, message and cause chain,
 * and the worker index — checkable without `instanceof` — also when the thread threw a value
 * that is not an `Error`.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WorkerError, runParallel } from 'tidemark';

const module = fileURLToPath(new URL('./fixtures/throws.ts', import.meta.url));

async function failure(mode: 'user' | 'uncaught'): Promise<WorkerError> {
  try {
    await runParallel({ module, parallelism: 2, args: { mode } });
  } catch (error) {
    return error as WorkerError;
  }
  throw new Error('the run did not fail');
}

describe('errors of worker threads', () => {
  it('a user function error keeps its name, message, worker index and cause chain', async () => {
    const error = await failure('user');
    expect(error).toBeInstanceOf(WorkerError);
    expect(error.name).toBe('UserFunctionError');
    expect(error.message).toContain('bad record 3');
    expect(error.workerIndex).toBe(1);
    const causes: string[] = [];
    for (let c: unknown = error.cause; c instanceof Error; c = c.cause) causes.push(`${c.name}: ${c.message}`);
    expect(causes).toContain('RangeError: 3 is out of range');
  }, 30_000);

  it('a non-Error value thrown in the thread arrives with a name and a message', async () => {
    const error = await failure('uncaught');
    expect(error.name).not.toBe('');
    expect(typeof error.name).toBe('string');
    expect(error.message).not.toBe('');
    expect(error.workerIndex).toBe(1);
  }, 30_000);
});
