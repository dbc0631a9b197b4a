/**
 * `tidemark scale-out`: registered in the program — its help lists the options, and bad or
 * missing flags are refused with a usage error (exit code 2) naming the command and the flag,
 * before anything connects to NATS or PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { callMain, fixture } from './helpers.js';

const call = callMain;

const counts = fixture('counts.ts');
const required = ['--application-id', 'clicks', '--partitions', '8', '--nats', '127.0.0.1:4222'];

describe('tidemark scale-out', () => {
  it('--help lists its options', async () => {
    const { code, out } = await call(['scale-out', '--help']);
    expect(code).toBe(0);
    for (const option of ['--application-id', '--partitions', '--nats', '--postgres', '--checkpoint-interval', '--lease-ttl', '--repartition', '--instance-id']) {
      expect(out).toContain(option);
    }
    expect((await call(['--help'])).out).toContain('scale-out');
  });

  it.each([
    [['scale-out', counts, '--partitions', '8', '--nats', 'n:4222'], /^tidemark scale-out: --application-id <id> is required/],
    [['scale-out', counts, '--application-id', 'a', '--nats', 'n:4222'], /^tidemark scale-out: --partitions <n> is required/],
    [['scale-out', counts, '--application-id', 'a', '--partitions', '8'], /^tidemark scale-out: --nats <servers> is required/],
    [['scale-out', counts, ...required.slice(0, 2), '--partitions', 'many', ...required.slice(4)], /^tidemark scale-out: --partitions must be a positive integer, got 'many'/],
    [['scale-out', counts, ...required, '--checkpoint-interval', 'soon'], /^tidemark scale-out: --checkpoint-interval must be a duration such as 500ms/],
    [['scale-out', counts, ...required, '--lease-ttl', '0'], /^tidemark scale-out: --lease-ttl must be > 0/],
    [['scale-out', counts, ...required, '--key-groups', '100'], /^tidemark scale-out: --key-groups must be a power of two, got '100'/],
    [['scale-out', counts, ...required, '--log-level', 'loud'], /^tidemark scale-out: --log-level must be one of/],
    [['scale-out', counts, ...required, 'stray'], /^tidemark scale-out: unexpected argument\(s\) 'stray'/],
    [['scale-out', counts, ...required, '--bogus'], /unknown option '--bogus'/],
  ])('%j is refused with a usage error', async (args, message) => {
    const { code, err } = await call(args);
    expect(code).toBe(2);
    expect(err).toMatch(message);
  });
});
