/**
 * Tidemark's testing kit ('tidemark/testing'): the harness, TestStream, fast-check arbitraries
 * for arrival orders, a reference model of the semantics, and `checkReorderInvariance`.
 */
export { harness, Harness, type HarnessOptions } from './harness.js';
export { joinHarness, JoinHarness, type JoinHarnessOptions } from './join-harness.js';
export { TestStream } from './test-stream.js';
export { checkReorderInvariance, type ReorderInvarianceOptions } from './reorder-invariance.js';
export { canonical, finalResults } from './final-results.js';
export * from './arbitraries.js';
export * from './reference.js';
export { seededRandom } from './seeded-random.js';
export { simulateParallel, type SimulateParallelOptions } from './simulate-parallel.js';
