#!/usr/bin/env node
// The `tidemark` command (package.json "bin"): registers tsx so that the CLI and the pipeline
// modules it loads run as TypeScript, then hands over to cli/main.ts and exits with its code.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
const code = await main(process.argv.slice(2));
process.exit(code);
