/**
 * Partition leases in a JetStream key-value bucket: one key per partition (`lease.<p>`) holding
 * `{ owner, nonce, token, failing }`, and one heartbeat key per live instance (`member.<id>`).
 * Claims, renewals and releases are compare-and-set on the key's revision, so two instances can
 * never both believe they claimed the same lease. **Expiry is observer-local**: a reader considers
 * a lease (or heartbeat) expired once it has seen the key's revision unchanged for longer than the
 * TTL on its own monotonic clock — no wall-clock comparison between machines, so clock skew does
 * not matter, only clock rates. The holder counts its own TTL from the moment it *sent* the write,
 * which is before any reader can see the new revision, so the holder always gives up first. The
 * fencing token of an ownership is the revision of the claim: revisions only grow in a bucket, so
 * a later owner always has a larger token. The `nonce` is random per `LeaseTable` (per process):
 * two processes configured with the same instance id do not take each other's leases for theirs.
 */
import { randomBytes } from 'node:crypto';
import { JetStreamApiError, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

/** What a lease or heartbeat key holds. `owner: ''` is a released lease. */
export interface LeaseValue {
  readonly owner: string;
  /** The writing process's random nonce. */
  readonly nonce: string;
  /** The fencing token of this ownership (the revision of its claim). */
  readonly token: number;
  /** In a heartbeat: the instance is cooling down after a failed task (others may claim above their share). */
  readonly failing?: boolean;
}

/** A lease this instance holds. */
export interface Lease {
  readonly partition: number;
  /** The fencing token: the revision of the claim; constant while the ownership lasts. */
  readonly token: number;
  /** The revision of the last write (claim or renewal): the next renewal must match it. */
  readonly revision: number;
  /**
   * The holder's own deadline on the table's monotonic clock: the time it sent its last
   * successful write plus the TTL. Every reader sees that write later, so it expires later for them.
   */
  readonly expiresAt: number;
}

/** One partition's lease as read: `owner` is undefined when it is free (absent, released or expired). */
export interface LeaseView {
  readonly partition: number;
  readonly owner: string | undefined;
  /** True when the live owner is this table's own process (same nonce). */
  readonly mine: boolean;
  /** The key's revision (undefined: no key yet, or deleted). */
  readonly revision: number | undefined;
}

/** A live instance as read from its heartbeat. */
export interface MemberView {
  readonly id: string;
  readonly failing: boolean;
}

/** JetStream's "wrong last sequence": another writer changed the key since we read it. */
const WRONG_LAST_SEQUENCE = 10071;

/** True for a compare-and-set conflict (someone else wrote the key first). */
export function isCasConflict(e: unknown): boolean {
  return e instanceof JetStreamApiError && e.code === WRONG_LAST_SEQUENCE;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function parseLease(data: Uint8Array): LeaseValue | undefined {
  try {
    const v = JSON.parse(decoder.decode(data)) as Partial<LeaseValue> | null;
    if (v === null || typeof v !== 'object' || typeof v.owner !== 'string' || typeof v.token !== 'number') return undefined;
    return { owner: v.owner, nonce: typeof v.nonce === 'string' ? v.nonce : '', token: v.token, failing: v.failing === true };
  } catch {
    return undefined;
  }
}

/**
 * The leases of one application. `now` is a monotonic clock in ms (e.g. `performance.now()`):
 * expiry is measured by each reader on its own clock since it last saw a key change.
 *
 * @example
 * const leases = await LeaseTable.open(nc, 'tidemark_clicks', 10_000, () => performance.now());
 * const lease = await leases.claim(3, 'worker-a'); // undefined if someone else holds it
 * if (lease !== undefined) await leases.renew(lease, 'worker-a'); // undefined once lost
 */
export class LeaseTable {
  /** This process's nonce. */
  readonly nonce = randomBytes(6).toString('hex');
  /** Per key: the revision last seen and when (monotonic ms) it was first seen. */
  private readonly seen = new Map<string, { revision: number; since: number }>();

  private constructor(readonly kv: KV, private readonly jsm: JetStreamManager, readonly bucket: string, readonly ttlMs: number, private readonly now: () => number) {}

  /**
   * Opens (creating if missing) the bucket `bucket`. Entries also expire after `retainMs` (the
   * bucket's TTL; a multiple of the lease TTL), which only garbage-collects keys of instances that
   * are long gone.
   */
  static async open(nc: NatsConnection, bucket: string, ttlMs: number, now: () => number): Promise<LeaseTable> {
    const kvm = new Kvm(jetstream(nc));
    let kv: KV;
    try {
      kv = await kvm.create(bucket, { history: 1, ttl: Math.max(60_000, ttlMs * 20) });
    } catch {
      kv = await kvm.open(bucket); // it exists with another configuration
    }
    return new LeaseTable(kv, await jetstreamManager(nc), bucket, ttlMs, now);
  }

  private static key(partition: number): string {
    return `lease.${partition}`;
  }

  /** True once `key` has stayed at `revision` for longer than the TTL (as this reader saw it). */
  private expired(key: string, revision: number, now: number): boolean {
    const s = this.seen.get(key);
    if (s === undefined || s.revision !== revision) {
      this.seen.set(key, { revision, since: now });
      return false;
    }
    return now - s.since > this.ttlMs;
  }

  /** Reads one partition's lease. */
  async read(partition: number): Promise<LeaseView> {
    const key = LeaseTable.key(partition);
    const e = await this.kv.get(key);
    const now = this.now();
    if (e === null || e.operation !== 'PUT') return { partition, owner: undefined, mine: false, revision: e?.revision };
    const v = parseLease(e.value);
    const live = v !== undefined && v.owner !== '' && !this.expired(key, e.revision, now);
    return { partition, owner: live ? v.owner : undefined, mine: live && v.nonce === this.nonce, revision: e.revision };
  }

  /** Reads the leases of partitions `0…partitions−1`. */
  async readAll(partitions: number): Promise<LeaseView[]> {
    return Promise.all(Array.from({ length: partitions }, (_, p) => this.read(p)));
  }

  /**
   * Claims `partition` for `owner` if it is free: create-if-absent or update-at-revision. Resolves
   * with the lease, or `undefined` when it is held by someone else or another claim won the race.
   */
  async claim(partition: number, owner: string): Promise<Lease | undefined> {
    const seen = await this.read(partition);
    if (seen.owner !== undefined && !(seen.owner === owner && seen.mine)) return undefined;
    const sent = this.now();
    const key = LeaseTable.key(partition);
    try {
      // The token is the claim's own revision; it is written with the first renewal (the claim
      // cannot know its revision before it is stored).
      const value = this.encode({ owner, nonce: this.nonce, token: 0 });
      const revision = seen.revision === undefined ? await this.kv.create(key, value) : await this.kv.update(key, value, seen.revision);
      this.seen.set(key, { revision, since: sent });
      const lease: Lease = { partition, token: revision, revision, expiresAt: sent + this.ttlMs };
      // Record the token; a conflict here means someone took it over already.
      return await this.renew(lease, owner);
    } catch (e) {
      if (isCasConflict(e)) return undefined;
      throw e;
    }
  }

  /** Extends `lease` by the TTL; `undefined` when it was lost (another writer changed the key). */
  async renew(lease: Lease, owner: string): Promise<Lease | undefined> {
    const sent = this.now();
    const key = LeaseTable.key(lease.partition);
    try {
      const revision = await this.kv.update(key, this.encode({ owner, nonce: this.nonce, token: lease.token }), lease.revision);
      this.seen.set(key, { revision, since: sent });
      return { ...lease, revision, expiresAt: sent + this.ttlMs };
    } catch (e) {
      if (isCasConflict(e)) return undefined;
      throw e;
    }
  }

  /**
   * Gives `lease` up: the partition is free at once. A revision conflict is re-read: while the key
   * still holds this ownership (same owner, nonce and token — e.g. a renewal whose reply was lost
   * moved the revision) the release is retried at the new revision. Resolves `true` when released,
   * `false` when the lease was no longer ours (nothing to release).
   */
  async release(lease: Lease, owner?: string): Promise<boolean> {
    const key = LeaseTable.key(lease.partition);
    let revision = lease.revision;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await this.kv.update(key, this.encode({ owner: '', nonce: this.nonce, token: lease.token }), revision);
        return true;
      } catch (e) {
        if (!isCasConflict(e)) throw e;
      }
      const e = await this.kv.get(key);
      const v = e === null || e.operation !== 'PUT' ? undefined : parseLease(e.value);
      if (e === null || v === undefined || v.nonce !== this.nonce || v.token !== lease.token || v.owner === '' || (owner !== undefined && v.owner !== owner)) return false;
      revision = e.revision;
    }
    return false;
  }

  /** Announces `member` as alive (for one TTL after any reader sees it), and whether it is failing. */
  async heartbeat(member: string, failing = false): Promise<void> {
    await this.kv.put(`member.${member}`, this.encode({ owner: member, nonce: this.nonce, token: 0, ...(failing ? { failing } : {}) }));
  }

  /** Removes `member`'s heartbeat (a clean exit). */
  async leave(member: string): Promise<void> {
    await this.kv.delete(`member.${member}`);
  }

  /** The instances whose heartbeat has not expired. */
  async members(): Promise<string[]> {
    return (await this.memberViews()).map((m) => m.id);
  }

  /** The instances whose heartbeat has not expired, with their health (sorted by id). */
  async memberViews(): Promise<MemberView[]> {
    // The subjects of the member keys, from one stream-info request (the KV `keys()` listing runs a
    // consumer that can wait indefinitely when a key is updated while it is listed).
    const prefix = `$KV.${this.bucket}.`;
    const info = await this.jsm.streams.info(`KV_${this.bucket}`, { subjects_filter: `${prefix}member.*` });
    const keys = Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
    const live = await Promise.all(keys.map(async (k): Promise<MemberView | undefined> => {
      const e = await this.kv.get(k);
      const now = this.now();
      const v = e === null || e.operation !== 'PUT' ? undefined : parseLease(e.value);
      return v !== undefined && e !== null && !this.expired(k, e.revision, now) ? { id: v.owner, failing: v.failing === true } : undefined;
    }));
    return live.filter((m): m is MemberView => m !== undefined).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private encode(v: LeaseValue): Uint8Array {
    return encoder.encode(JSON.stringify(v));
  }
}
