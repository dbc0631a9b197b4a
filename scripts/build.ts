/**
 * `npm run build`: compiles the library to JavaScript plus `.d.ts` in `dist/` (or `--out DIR`)
 * and writes a `package.json` there, so plain `node` can import 'tidemark' and 'tidemark/testing'
 * from the built package.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outArg = process.argv.indexOf('--out');
const out = resolve(root, outArg >= 0 ? (process.argv[outArg + 1] ?? 'dist') : 'dist');

rmSync(out, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', out], {
  stdio: 'inherit',
  cwd: root,
});

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
const built = {
  name: pkg['name'],
  version: pkg['version'],
  description: pkg['description'],
  license: pkg['license'],
  type: 'module',
  engines: pkg['engines'],
  exports: {
    '.': { types: './index.d.ts', default: './index.js' },
    './testing': { types: './testing/index.d.ts', default: './testing/index.js' },
    './package.json': './package.json',
  },
  dependencies: Object.fromEntries(
    Object.entries(pkg['dependencies'] as Record<string, string>).filter(([name]) => name !== 'tsx'),
  ),
};
writeFileSync(join(out, 'package.json'), `${JSON.stringify(built, null, 2)}\n`);
console.log(`built ${out}`);
