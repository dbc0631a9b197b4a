/**
 * Partition leases in a JetStream key-value bucket: one key per partition (`lease.<p>`) holding
 * `{ owner, expiresAt, token }`, and one heartbeat key per live instance (`member.<id>`). Claims
 * and renewals are compare-and-set on the key's revision, so two instances can never both believe
 * they claimed the same lease; expiry is the explicit `expiresAt` checked on read (NATS 2.9 has no
 * per-key TTL), so a lease whose owner stopped renewing is free once that time has passed. The
 * fencing token of an ownership is the revision of the claim: revisions only grow in a bucket, so
 * a later owner always has a larger token.
 */
import { JetStreamApiError, jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

/** What a lease key holds. `owner: ''` is a released lease. */
export interface LeaseValue {
  readonly owner: string;
  /** Epoch ms after which the lease is free (by the reader's clock). */
  readonly expiresAt: number;
  /** The fencing token of this ownership (the revision of its claim). */
  readonly token: number;
}

/** A lease this instance holds. */
export interface Lease {
  readonly partition: number;
  /** The fencing token: the revision of the claim; constant while the ownership lasts. */
  readonly token: number;
  /** The revision of the last write (claim or renewal): the next renewal must match it. */
  readonly revision: number;
  readonly expiresAt: number;
}

/** One partition's lease as read: `owner` is undefined when it is free (absent, released or expired). */
export interface LeaseView {
  readonly partition: number;
  readonly owner: string | undefined;
  readonly expiresAt: number;
  /** The key's revision (undefined: no key yet, or deleted). */
  readonly revision: number | undefined;
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
    if (v === null || typeof v !== 'object' || typeof v.owner !== 'string' || typeof v.expiresAt !== 'number' || typeof v.token !== 'number') return undefined;
    return { owner: v.owner, expiresAt: v.expiresAt, token: v.token };
  } catch {
    return undefined;
  }
}

/**
 * The leases of one application. `now` is the wall clock (epoch ms) used for `expiresAt`: the
 * instances' clocks must agree to well within the TTL.
 *
 * @example
 * const leases = await LeaseTable.open(nc, 'tidemark_clicks', 10_000, () => Date.now());
 * const lease = await leases.claim(3, 'worker-a'); // undefined if someone else holds it
 * if (lease !== undefined) await leases.renew(lease, 'worker-a'); // undefined once lost
 */
export class LeaseTable {
  private constructor(readonly kv: KV, readonly bucket: string, readonly ttlMs: number, private readonly now: () => number) {}

  /**
   * Opens (creating if missing) the bucket `bucket`. Entries also expire after `retainMs` (the
   * bucket's TTL; a multiple of the lease TTL), which only garbage-collects keys of instances that
   * are long gone: expiry of a lease is its `expiresAt`.
   */
  static async open(nc: NatsConnection, bucket: string, ttlMs: number, now: () => number): Promise<LeaseTable> {
    const kvm = new Kvm(jetstream(nc));
    let kv: KV;
    try {
      kv = await kvm.create(bucket, { history: 1, ttl: Math.max(60_000, ttlMs * 20) });
    } catch {
      kv = await kvm.open(bucket); // it exists with another configuration
    }
    return new LeaseTable(kv, bucket, ttlMs, now);
  }

  private static key(partition: number): string {
    return `lease.${partition}`;
  }

  /** Reads one partition's lease. */
  async read(partition: number): Promise<LeaseView> {
    const e = await this.kv.get(LeaseTable.key(partition));
    if (e === null || e.operation !== 'PUT') return { partition, owner: undefined, expiresAt: 0, revision: e?.revision };
    const v = parseLease(e.value);
    const live = v !== undefined && v.owner !== '' && v.expiresAt > this.now();
    return { partition, owner: live ? v.owner : undefined, expiresAt: v?.expiresAt ?? 0, revision: e.revision };
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
    if (seen.owner !== undefined && seen.owner !== owner) return undefined;
    const expiresAt = this.now() + this.ttlMs;
    const key = LeaseTable.key(partition);
    try {
      // The token is the claim's own revision; it is written with the first renewal (the claim
      // cannot know its revision before it is stored).
      const revision = seen.revision === undefined
        ? await this.kv.create(key, this.encode({ owner, expiresAt, token: 0 }))
        : await this.kv.update(key, this.encode({ owner, expiresAt, token: 0 }), seen.revision);
      const lease: Lease = { partition, token: revision, revision, expiresAt };
      // Record the token; a conflict here means someone took it over already.
      return await this.renew(lease, owner);
    } catch (e) {
      if (isCasConflict(e)) return undefined;
      throw e;
    }
  }

  /** Extends `lease` by the TTL; `undefined` when it was lost (another writer changed the key). */
  async renew(lease: Lease, owner: string): Promise<Lease | undefined> {
    const expiresAt = this.now() + this.ttlMs;
    try {
      const revision = await this.kv.update(LeaseTable.key(lease.partition), this.encode({ owner, expiresAt, token: lease.token }), lease.revision);
      return { ...lease, revision, expiresAt };
    } catch (e) {
      if (isCasConflict(e)) return undefined;
      throw e;
    }
  }

  /** Gives `lease` up (if still held): the partition is free at once. */
  async release(lease: Lease): Promise<void> {
    try {
      await this.kv.update(LeaseTable.key(lease.partition), this.encode({ owner: '', expiresAt: 0, token: lease.token }), lease.revision);
    } catch (e) {
      if (!isCasConflict(e)) throw e;
    }
  }

  /** Announces `member` as alive until now + TTL. */
  async heartbeat(member: string): Promise<void> {
    await this.kv.put(`member.${member}`, this.encode({ owner: member, expiresAt: this.now() + this.ttlMs, token: 0 }));
  }

  /** Removes `member`'s heartbeat (a clean exit). */
  async leave(member: string): Promise<void> {
    await this.kv.delete(`member.${member}`);
  }

  /** The instances whose heartbeat has not expired. */
  async members(): Promise<string[]> {
    const keys: string[] = [];
    // (a key updated while it is listed may be listed twice)
    for await (const k of await this.kv.keys('member.*')) if (!keys.includes(k)) keys.push(k);
    const now = this.now();
    const live = await Promise.all(keys.map(async (k) => {
      const e = await this.kv.get(k);
      const v = e === null || e.operation !== 'PUT' ? undefined : parseLease(e.value);
      return v !== undefined && v.expiresAt > now ? v.owner : undefined;
    }));
    return live.filter((m): m is string => m !== undefined).sort();
  }

  private encode(v: LeaseValue): Uint8Array {
    return encoder.encode(JSON.stringify(v));
  }
}
