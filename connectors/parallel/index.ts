/**
 * Parallel workers in one process: `runParallel` runs a pipeline module on worker threads.
 */
export { runParallel, startParallel, type ParallelRun, type RunParallelOptions, type ParallelCheckpointOptions } from './run-parallel.js';
export { WorkerError } from './protocol.js';
