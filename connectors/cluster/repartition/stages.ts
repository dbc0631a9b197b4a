/**
 * Sub-topologies of a partitioned application (filled in below).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Plan } from '../../../engine/plan.js';
import type { ResolvedOptions } from '../options.js';
import type { TaskStage } from '../task.js';

/** How a task splits the module's plan into stages (`undefined`: one stage). */
export async function prepareRepartition(_nc: NatsConnection, o: ResolvedOptions): Promise<((plan: Plan, partition: number) => readonly TaskStage[]) | undefined> {
  if (o.repartition.length === 0) return undefined;
  return undefined;
}
