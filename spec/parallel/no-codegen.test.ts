/**
 * The exchange runs where code generation from strings is forbidden (edge runtimes): a run of two
 * simulated workers under `node --disallow-code-generation-from-strings` delivers objects of one
 * shape (narrow, wide, with a `__proto__` field) unchanged.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('exchange without code generation', () => {
  it('delivers records unchanged under --disallow-code-generation-from-strings', () => {
    const printed = execFileSync(process.execPath, ['--disallow-code-generation-from-strings', '--import', 'tsx', join(root, 'spec/parallel/fixtures/no-codegen.ts')], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(JSON.parse(printed)).toEqual({ records: 200, same: true });
  }, 60_000);
});
