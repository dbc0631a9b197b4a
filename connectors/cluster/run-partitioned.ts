/**
 * `runPartitioned(options)`: one instance of a multi-process application. Instances with the same
 * `applicationId` share the partitions of its sources through leases in a JetStream key-value
 * bucket (`leases.ts`): on its own fixed timer, every third of the lease TTL, an instance
 * heartbeats and renews its leases — also while tasks drain on a release or `stop()` — and on a
 * separate round it reads everyone's leases and claims or releases partitions towards its fair
 * share (`share.ts`). Lease operations of one partition run one at a time. Each
 * partition it owns runs as a task (`task.ts`) with its own checkpoint lineage, fenced by the
 * lease's token. A lease that cannot be renewed before it expires — lost to another instance, or
 * NATS unreachable — stops its task at once; a finished task (bounded input) keeps its lease so
 * that its partition is not run again.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type NatsConnection } from '@nats-io/transport-node';
import { TidemarkError } from '../../engine/errors.js';
import { describeRedacted, openConnection } from '../jetstream/connection.js';
import { type Lease, LeaseTable } from './leases.js';
import { type PartitionedEvent, type ResolvedOptions, type RunPartitionedOptions, WHERE, resolveOptions } from './options.js';
import { fairShare } from './share.js';
import { PartitionTask, type StageSplitter, assignedShare } from './task.js';
import { Pipeline } from '../../index.js';
import { prepareRepartition, splitStages } from './repartition/stages.js';

/** What an instance is doing with one partition. */
export interface PartitionStatus {
  readonly partition: number;
  /** `running`, `finished` (its input ended; the lease is kept), or `releasing`. */
  readonly state: 'running' | 'finished' | 'releasing';
  /** The lease's fencing token. */
  readonly token: number;
}

/** A snapshot of an instance. */
export interface PartitionedStatus {
  readonly instanceId: string;
  /** Live instances as last read (sorted). */
  readonly members: readonly string[];
  readonly partitions: readonly PartitionStatus[];
}

/** A running instance. */
export interface PartitionedHandle {
  readonly instanceId: string;
  status(): PartitionedStatus;
  /**
   * Stops gracefully: every task stops after the chunk in hand and takes a final checkpoint, the
   * leases are released (the partitions move at once, without waiting for expiry), the instance
   * leaves. Resolves when done.
   */
  stop(): Promise<void>;
  /** Resolves when the instance has stopped; rejects if it had to stop on its own (NATS connection closed). */
  readonly closed: Promise<void>;
}

interface Owned {
  lease: Lease;
  /** False once renewal failed for good: the task's writes are refused from then on. */
  held: boolean;
  state: PartitionStatus['state'];
  readonly task: PartitionTask;
  /** The lease operations of this partition, one at a time (renewal, release). */
  op: Promise<unknown>;
  /** A renewal is in flight (the next period skips it rather than queueing another). */
  renewing: boolean;
}

/** Monotonic ms (lease expiry is measured on it, never on the wall clock). */
const monotonic = (): number => performance.now();

/**
 * Starts an instance of a partitioned application (see the module comment and docs/scale-out.md).
 * Resolves once connected, with a handle; tasks start as leases are claimed.
 *
 * @example
 * const app = await runPartitioned({
 *   module: (p) => { p.source(fromJetStream({ servers, stream: 'CLICKS', partitions: 8 })).keyBy((c) => c.user)…; },
 *   applicationId: 'clicks', partitions: 8, nats: { servers }, leaseTtl: '10s',
 *   checkpoints: { connection: process.env.DATABASE_URL, interval: '5s' },
 * });
 * process.on('SIGTERM', () => void app.stop());
 */
export async function runPartitioned(options: RunPartitionedOptions): Promise<PartitionedHandle> {
  const defaultId = `${hostname().replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40)}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const o = resolveOptions(options, defaultId);
  await checkPlan(o);
  const nc = await openConnection(o.nats, WHERE, (m) => new TidemarkError(m));
  try {
    const leases = await LeaseTable.open(nc, `tidemark_${o.applicationId}`, o.leaseTtlMs, monotonic);
    const stages = await prepareRepartition(nc, o);
    return new Instance(o, nc, leases, stages).start();
  } catch (e) {
    await nc.close().catch(() => undefined);
    throw new TidemarkError(`${WHERE}: cannot open the lease bucket or the repartition streams of '${o.applicationId}': ${describeRedacted(e, o.nats.secrets)}`);
  }
}

/**
 * Builds the module's plan once, before connecting, and checks what every task would refuse: its
 * sources' partitioning and the repartition cuts (so a wrong plan fails here, not in every task).
 */
async function checkPlan(o: ResolvedOptions): Promise<void> {
  const p = new Pipeline(o.batchSize === undefined ? {} : { batchSize: o.batchSize });
  await o.module(p, o.args);
  const stages = o.repartition.length === 0 ? [{ plan: p.plan }] : splitStages(p.plan, { partition: 0, token: 0, leaseHeld: () => true }, o);
  for (const stage of stages) assignedShare(stage.plan, 0, o.partitions);
}

/** One instance's lease loop and tasks. */
class Instance implements PartitionedHandle {
  readonly instanceId: string;
  private readonly owned = new Map<number, Owned>();
  /** Partitions not to claim before the time (monotonic ms): after a failure, give others a chance. */
  private readonly cooldown = new Map<number, number>();
  /** Consecutive failures per partition here (the cooldown doubles with each, up to 32 TTLs). */
  private readonly failures = new Map<number, number>();
  private members: readonly string[] = [];
  private stopping: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private resolveClosed: () => void = () => undefined;
  private rejectClosed: (e: unknown) => void = () => undefined;
  readonly closed: Promise<void>;

  constructor(
    private readonly o: ResolvedOptions,
    private readonly nc: NatsConnection,
    private readonly leases: LeaseTable,
    private readonly stages: StageSplitter | undefined,
  ) {
    this.instanceId = o.instanceId;
    this.closed = new Promise((res, rej) => {
      this.resolveClosed = res;
      this.rejectClosed = rej;
    });
    this.closed.catch(() => undefined);
  }

  start(): this {
    void this.nc.closed().then((err) => {
      if (this.stopping !== undefined) return;
      const why = new TidemarkError(`${WHERE}: the NATS connection closed${err === undefined ? '' : `: ${describeRedacted(err, this.o.nats.secrets)}`}; the instance stopped its tasks`);
      void this.shutdown(false).then(() => this.rejectClosed(why));
    });
    void this.leases.heartbeat(this.instanceId).catch((error: unknown) => this.emit({ type: 'lease-error', error }));
    this.startRenewals();
    this.schedule(0);
    return this;
  }

  status(): PartitionedStatus {
    return {
      instanceId: this.instanceId,
      members: this.members,
      partitions: [...this.owned].sort((a, b) => a[0] - b[0]).map(([partition, x]) => ({ partition, state: x.state, token: x.lease.token })),
    };
  }

  stop(): Promise<void> {
    if (this.stopping === undefined) void this.shutdown(true).then(() => this.resolveClosed(), (e: unknown) => this.rejectClosed(e));
    return this.closed;
  }

  private emit(e: PartitionedEvent): void {
    this.o.onEvent(e);
  }

  private schedule(delay: number): void {
    if (this.stopping !== undefined) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().catch((error: unknown) => this.emit({ type: 'lease-error', error })).finally(() => this.schedule(this.period()));
    }, delay);
  }

  private period(): number {
    return Math.max(100, Math.floor(this.o.leaseTtlMs / 3));
  }

  /**
   * The renewal timer: a fixed period, independent of the claim rounds (a slow read of every
   * lease must not delay renewals). It runs until the instance has closed — through the drain of
   * the tasks a `stop()` or a rebalance stops — so a long final checkpoint keeps its lease.
   */
  private startRenewals(): void {
    this.renewTimer = setInterval(() => {
      void this.leases.heartbeat(this.instanceId, this.isFailing()).catch((error: unknown) => this.emit({ type: 'lease-error', error }));
      for (const [p, x] of this.owned) {
        if (!x.held || x.renewing) continue;
        x.renewing = true;
        void this.serial(x, () => this.renew(p, x)).finally(() => {
          x.renewing = false;
        });
      }
    }, this.period());
  }

  /** Runs `fn` after the partition's previous lease operation. */
  private serial<T>(x: Owned, fn: () => Promise<T>): Promise<T> {
    const next = x.op.then(fn, fn);
    x.op = next.catch(() => undefined);
    return next;
  }

  /** True while a partition of this instance is cooling down after a failure. */
  private isFailing(): boolean {
    const now = monotonic();
    for (const until of this.cooldown.values()) if (until > now) return true;
    return false;
  }

  /** One round: read every lease and member, then claim and release towards the fair share. */
  private async tick(): Promise<void> {
    if (this.stopping !== undefined) return;
    const [views, memberViews] = await Promise.all([this.leases.readAll(this.o.partitions), this.leases.memberViews()]);
    const members = memberViews.map((m) => m.id);
    if (members.join() !== this.members.join()) {
      this.members = members;
      this.emit({ type: 'members', members });
    }
    const now = monotonic();
    const blocked = new Set<number>();
    for (const [p, until] of this.cooldown) {
      if (until > now) blocked.add(p);
      else this.cooldown.delete(p);
    }
    const owners = views.map((v) => {
      const mine = this.owned.get(v.partition);
      if (mine !== undefined && mine.state === 'releasing') blocked.add(v.partition);
      if (mine !== undefined) return this.instanceId;
      // another process with the same instance id (its nonce differs): not ours to take
      return v.owner === this.instanceId && !v.mine ? `${v.owner} (another process)` : v.owner;
    });
    const failing = new Set(memberViews.filter((m) => m.failing && m.id !== this.instanceId).map((m) => m.id));
    const decision = fairShare({ partitions: this.o.partitions, me: this.instanceId, members, owners, blocked, failing });
    for (const p of decision.release) this.release(p);
    for (const p of decision.claim) {
      if (this.stopping !== undefined) return;
      await this.claim(p);
    }
  }

  private async renew(p: number, x: Owned): Promise<void> {
    if (!x.held) return;
    try {
      const next = await this.leases.renew(x.lease, this.instanceId);
      if (next === undefined) this.lose(p, x, 'another instance holds the lease now');
      else x.lease = next;
    } catch (error) {
      this.emit({ type: 'lease-error', error });
      if (monotonic() >= x.lease.expiresAt) this.lose(p, x, `the lease expired without renewal (${describeRedacted(error, this.o.nats.secrets)})`);
    }
  }

  /** The lease is gone: stop the task at once (its writes are refused from now on). */
  private lose(p: number, x: Owned, reason: string): void {
    if (!x.held) return;
    x.held = false;
    this.emit({ type: 'lost', partition: p, reason });
    x.task.stop(`lease lost: ${reason}`);
    // (a finished task has nothing to stop: forget the partition at once)
    void x.task.done.then(() => {
      if (this.owned.get(p) === x) this.owned.delete(p);
    });
  }

  /** Cools partition `p` down here after a failure (doubling with each consecutive one). */
  private coolDown(p: number): void {
    const k = Math.min(5, this.failures.get(p) ?? 0);
    this.failures.set(p, k + 1);
    this.cooldown.set(p, monotonic() + this.o.leaseTtlMs * 2 ** k);
  }

  private async claim(p: number): Promise<void> {
    const lease = await this.leases.claim(p, this.instanceId);
    if (lease === undefined) return;
    if (this.stopping !== undefined) {
      // claimed while the instance began to stop: give it back at once
      await this.leases.release(lease, this.instanceId).catch(() => undefined);
      return;
    }
    this.emit({ type: 'claimed', partition: p, token: lease.token });
    const o = this.o;
    const holder = { lease, held: true };
    const task = new PartitionTask({
      module: o.module, args: o.args, applicationId: o.applicationId, partition: p, partitions: o.partitions, keyGroups: o.keyGroups,
      token: lease.token, holdMs: o.leaseTtlMs, checkpoints: o.checkpoints, batchSize: o.batchSize,
      // (an event-loop stall between this check and a write is covered by the store's fence)
      leaseHeld: () => holder.held && monotonic() < holder.lease.expiresAt,
      onEvent: undefined,
      onRestored: (lineage, checkpoint) => this.emit({ type: 'restored', partition: p, lineage, checkpoint }),
      stages: this.stages,
    });
    const x: Owned = Object.assign(holder, { state: 'running' as const, task, op: Promise.resolve() as Promise<unknown>, renewing: false });
    this.owned.set(p, x);
    this.emit({ type: 'started', partition: p, token: lease.token });
    void x.task.done.then(async (outcome) => {
      switch (outcome.kind) {
        case 'finished':
          this.failures.delete(p);
          if (x.state === 'running') x.state = 'finished';
          this.emit({ type: 'finished', partition: p });
          return;
        case 'stopped':
          return; // released or shutting down: whoever stopped it releases the lease
        case 'fenced':
          x.held = false;
          this.owned.delete(p);
          this.coolDown(p);
          this.emit({ type: 'fenced', partition: p, error: outcome.error });
          return;
        case 'failed':
          this.emit({ type: 'failed', partition: p, error: outcome.error });
          this.coolDown(p);
          // announce the failure before the partition is free, so that others may claim above their share
          await this.leases.heartbeat(this.instanceId, true).catch(() => undefined);
          await this.giveUp(p, x);
          if (this.owned.get(p) === x) this.owned.delete(p);
      }
    });
  }

  /**
   * Releases `x`'s lease (after its previous lease operation): `true` when released. A failure
   * leaves the lease to expire; the partition is then reported `lost`, never `released`.
   */
  private async giveUp(p: number, x: Owned): Promise<boolean> {
    if (!x.held) return false;
    const released = await this.serial(x, () => this.leases.release(x.lease, this.instanceId)).catch((error: unknown) => {
      this.emit({ type: 'lease-error', error });
      return false;
    });
    if (x.held && !released) this.emit({ type: 'lost', partition: p, reason: 'the lease could not be released (it will expire)' });
    x.held = false;
    return released;
  }

  /** Stops the task gracefully (final checkpoint; the lease is renewed meanwhile), then gives the lease up. */
  private release(p: number): void {
    const x = this.owned.get(p);
    if (x === undefined || x.state === 'releasing') return;
    x.state = 'releasing';
    x.task.stop('rebalancing');
    void x.task.done.then(async () => {
      const released = await this.giveUp(p, x);
      if (this.owned.get(p) === x) this.owned.delete(p);
      if (released) this.emit({ type: 'released', partition: p });
    });
  }

  private shutdown(graceful: boolean): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.timer);
      // (a round stuck on an unanswered KV request must not hold the stop up for ever)
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([this.ticking?.catch(() => undefined), new Promise<void>((r) => {
        bound = setTimeout(r, this.o.leaseTtlMs);
      })]);
      clearTimeout(bound);
      const all = [...this.owned];
      for (const [, x] of all) x.task.stop(graceful ? 'instance stopping' : 'the NATS connection closed');
      // (renewals go on while the tasks drain and take their final checkpoints)
      await Promise.all(all.map(async ([p, x]) => {
        await x.task.done;
        const released = graceful ? await this.giveUp(p, x) : false;
        x.held = false;
        this.owned.delete(p);
        if (released) this.emit({ type: 'released', partition: p });
      }));
      clearInterval(this.renewTimer);
      if (graceful) await this.leases.leave(this.instanceId).catch(() => undefined);
      await this.nc.close().catch(() => undefined);
    })();
    return this.stopping;
  }
}
