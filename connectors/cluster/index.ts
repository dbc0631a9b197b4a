/**
 * Multi-process runs: partitions shared by leases, fenced checkpoints and sinks, repartitioning.
 */
export { runPartitioned, type PartitionedHandle, type PartitionedStatus, type PartitionStatus } from './run-partitioned.js';
export type { RunPartitionedOptions, PartitionedCheckpointOptions, PartitionedEvent, PartitionedModule } from './options.js';
export { partitionFor, partitionedSubject } from './partitioning.js';
export { fairShare, type ShareInput, type ShareDecision } from './share.js';
export { LeaseTable, type Lease, type LeaseView, type MemberView } from './leases.js';
export { PartitioningError } from './errors.js';
