/**
 * Shared imports of the join specs (the public entry points).
 */
export { joinHarness, JoinHarness } from 'tidemark/testing';
export type { JoinStream, JoinLateRecord, JoinPair } from 'tidemark';
