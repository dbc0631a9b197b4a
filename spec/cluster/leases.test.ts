/**
 * Partition leases in a JetStream key-value bucket (against the local NATS server): claiming a
 * free partition, refusing a held one, observer-local expiry (a revision unchanged for a TTL on
 * the reader's own clock, whatever the writer's clock says) on controlled clocks, renewal,
 * compare-and-set races (exactly one winner), release (retried while the lease is still ours),
 * the per-process nonce, growing fencing tokens, and member heartbeats.
 */
import { Kvm } from '@nats-io/kv';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseTable } from 'tidemark';
import { available, uniqueName } from '../connectors/services.js';
import { NATS } from './support.js';

const hasNats = await available('nats');

describe.skipIf(!hasNats)('LeaseTable', () => {
  let nc: NatsConnection;
  const buckets: string[] = [];
  let t = 1_000_000;
  const now = (): number => t;
  const table = async (ttl = 1_000): Promise<LeaseTable> => {
    const bucket = uniqueName('tm_leases');
    buckets.push(bucket);
    return LeaseTable.open(nc, bucket, ttl, now);
  };
  beforeAll(async () => {
    nc = await connect({ servers: NATS });
  });
  afterAll(async () => {
    const kvm = new Kvm(jetstream(nc));
    for (const b of buckets) await (await kvm.open(b)).destroy().catch(() => undefined);
    await nc?.close();
  });

  it('claims a free partition; a held one is refused until it expires, then the new token is larger', async () => {
    const leases = await table();
    const a = await leases.claim(0, 'a');
    expect(a).toMatchObject({ partition: 0, expiresAt: t + 1_000 });
    expect((await leases.read(0)).owner).toBe('a');
    expect(await leases.claim(0, 'b')).toBeUndefined();
    t += 999;
    expect(await leases.claim(0, 'b')).toBeUndefined();
    t += 2; // past expiresAt: free on read
    expect((await leases.read(0)).owner).toBeUndefined();
    const b = await leases.claim(0, 'b');
    expect(b?.token).toBeGreaterThan(a?.token as number);
    // a's renewal now fails: the key changed under it
    expect(await leases.renew(a as NonNullable<typeof a>, 'a')).toBeUndefined();
    expect((await leases.read(0)).owner).toBe('b');
  });

  it('renewal extends the lease and keeps the token; release frees it at once', async () => {
    const leases = await table();
    const a = await leases.claim(3, 'a');
    t += 800;
    const renewed = await leases.renew(a as NonNullable<typeof a>, 'a');
    expect(renewed).toMatchObject({ token: a?.token, expiresAt: t + 1_000 });
    t += 800; // past the first expiry, within the renewed one
    expect((await leases.read(3)).owner).toBe('a');
    expect(await leases.claim(3, 'b')).toBeUndefined();
    await leases.release(renewed as NonNullable<typeof renewed>);
    expect((await leases.read(3)).owner).toBeUndefined();
    const b = await leases.claim(3, 'b');
    expect(b?.token).toBeGreaterThan(renewed?.token as number);
    // releasing a lease that is no longer ours changes nothing
    await leases.release(renewed as NonNullable<typeof renewed>);
    expect((await leases.read(3)).owner).toBe('b');
  });

  it('concurrent claims of a free partition: exactly one wins (compare-and-set)', async () => {
    const leases = await table();
    for (let p = 0; p < 4; p++) {
      const results = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((m) => leases.claim(p, m)));
      const winners = results.filter((r) => r !== undefined);
      expect(winners).toHaveLength(1);
      expect((await leases.read(p)).owner).toBeDefined();
    }
  });

  it('expiry is measured on the reader\'s clock since it saw the key change: a skewed clock cannot steal', async () => {
    const bucket = uniqueName('tm_leases');
    buckets.push(bucket);
    let far = 9_000_000_000; // another process, its clock hours ahead
    const a = await LeaseTable.open(nc, bucket, 1_000, now);
    const b = await LeaseTable.open(nc, bucket, 1_000, () => far);
    const lease = await a.claim(0, 'a');
    expect(lease).toBeDefined();
    expect(await b.claim(0, 'b')).toBeUndefined(); // first sight: live
    far += 999;
    expect(await b.claim(0, 'b')).toBeUndefined();
    await a.renew(lease as NonNullable<typeof lease>, 'a'); // a new revision restarts b's count
    expect((await b.read(0)).owner).toBe('a');
    far += 999;
    expect((await b.read(0)).owner).toBe('a');
    far += 2; // unchanged for 1001 ms on b's clock
    expect((await b.read(0)).owner).toBeUndefined();
  });

  it('the same instance id in two processes: the other process\'s lease is not ours', async () => {
    const bucket = uniqueName('tm_leases');
    buckets.push(bucket);
    const one = await LeaseTable.open(nc, bucket, 1_000, now);
    const two = await LeaseTable.open(nc, bucket, 1_000, now);
    expect(await one.claim(1, 'same')).toBeDefined();
    expect(await two.claim(1, 'same')).toBeUndefined();
    expect(await two.read(1)).toMatchObject({ owner: 'same', mine: false });
    expect(await one.read(1)).toMatchObject({ owner: 'same', mine: true });
  });

  it('a release racing a renewal whose reply was lost is retried at the new revision', async () => {
    const leases = await table();
    const a = await leases.claim(2, 'a') as NonNullable<Awaited<ReturnType<LeaseTable['claim']>>>;
    await leases.renew(a, 'a'); // stored, but the caller still holds the old revision
    expect(await leases.release(a, 'a')).toBe(true);
    expect((await leases.read(2)).owner).toBeUndefined();
    // a lease taken over is not released
    const b = await leases.claim(2, 'b') as NonNullable<Awaited<ReturnType<LeaseTable['claim']>>>;
    expect(await leases.release(a, 'a')).toBe(false);
    expect((await leases.read(2)).owner).toBe('b');
    expect(b.token).toBeGreaterThan(a.token);
  });

  it('members are the instances whose heartbeat has not expired; leave removes one', async () => {
    const leases = await table();
    await leases.heartbeat('a');
    await leases.heartbeat('b');
    expect(await leases.members()).toEqual(['a', 'b']);
    t += 600;
    await leases.heartbeat('b');
    t += 600; // a's heartbeat expired, b's did not
    expect(await leases.members()).toEqual(['b']);
    await leases.leave('b');
    expect(await leases.members()).toEqual([]);
  });
});
