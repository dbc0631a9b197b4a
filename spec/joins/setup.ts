/**
 * Wiring for the join specs. Until index.ts imports api/joins.ts and testing/index.ts exports
 * joinHarness, this module loads them by relative path; afterwards it should read:
 *   import 'tidemark';
 *   export { joinHarness, JoinHarness } from 'tidemark/testing';
 */
import '../../api/joins.js';
export { joinHarness, JoinHarness } from '../../testing/join-harness.js';
export type { JoinStream } from '../../api/joins.js';
export type { JoinLateRecord, JoinPair } from '../../operators/joins/types.js';
