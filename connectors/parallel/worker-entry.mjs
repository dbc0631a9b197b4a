// The entry of a worker thread of `runParallel` when Tidemark runs from its TypeScript sources:
// registers tsx in this thread (so the worker program and TypeScript pipeline modules load), then
// starts the worker program.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
