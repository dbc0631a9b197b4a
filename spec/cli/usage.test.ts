/**
 * Usage errors of the command line: exit code 2 and a message naming the command and the flag —
 * checked in process through the public `main()` (fast), and once through the real `bin`.
 */
import { describe, expect, it } from 'vitest';
import { parsePosition } from 'tidemark/cli';
import { callMain, fixture, runCli } from './helpers.js';

const call = callMain;

const counts = fixture('counts.ts');

describe('tidemark usage errors (exit code 2)', () => {
  it.each([
    [['run'], /missing required argument 'pipeline'/],
    [['launch', counts], /unknown command 'launch'/],
    [['run', counts, '--bogus'], /unknown option '--bogus'/],
    [['run', counts, '--checkpoints', '/tmp/x', '--keep', '0'], /^tidemark run: --keep must be a positive integer, got '0'/],
    [['run', counts, '--checkpoints', '/tmp/x', '--checkpoint-interval', 'soon'], /^tidemark run: --checkpoint-interval must be a duration such as 500ms, 10s/],
    [['run', counts, '--keep', '2'], /^tidemark run: --keep needs --checkpoints DIR/],
    [['run', counts, '--savepoint-on-stop'], /^tidemark run: --savepoint-on-stop needs --checkpoints DIR/],
    [['run', counts, '--metrics-port', '70000'], /^tidemark run: --metrics-port must be an integer ≥ 0 and ≤ 65535, got '70000'/],
    [['run', counts, '--metrics-host', '0.0.0.0'], /^tidemark run: --metrics-host needs --metrics-port PORT/],
    [['run', counts, '--log-level', 'loud'], /^tidemark run: --log-level must be one of fatal, error, warn, info/],
    [['run', counts, '--restart-delay', '1s'], /^tidemark run: --restart-delay, --restart-max-delay and --restart-strategy need --restart-attempts N/],
    [['run', counts, '--restart-attempts', '3', '--restart-delay', '5s', '--restart-max-delay', '1s'], /^tidemark run: --restart-max-delay \(1000 ms\) must be ≥ --restart-delay \(5000 ms\)/],
    [['run', counts, '--restart-attempts', '3', '--restart-strategy', 'random'], /argument 'random' is invalid. Allowed choices are fixed, exponential/],
    [['run', counts, '--from', 'yesterday'], /^tidemark run: --from must be earliest, latest, an offset/],
    [['run', counts, 'stray'], /^tidemark run: unexpected argument\(s\) 'stray'; arguments for the module go after --/],
    [['replay', counts], /^tidemark replay: --from <offset\|time> is required/],
    [['replay', counts, '--from', '0', '--to', '2024-13-45T00:00:00Z'], /^tidemark replay: --to must be earliest, latest/],
    [['run', fixture('missing.ts')], /^tidemark run: no pipeline module at .*missing\.ts/],
    [['run', fixture('no-default.ts')], /^tidemark run: .*no-default\.ts must have a default export \(p: Pipeline, args\)/],
    [['replay', fixture('replay.ts'), '--from', '0', '--verify'], /^tidemark replay: --verify needs something to compare with/],
  ])('%j', async (args, message) => {
    const r = await call(args);
    expect(r.err).toMatch(message);
    expect(r.code).toBe(2);
  });

  it('--help prints the flags and exits 0', async () => {
    const r = await call(['run', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--checkpoints <dir>', '--from <position>', '--checkpoint-interval', '--checkpoint-every-records', '--keep', '--savepoint-on-stop', '--restart-attempts', '--restart-delay', '--metrics-port', '--metrics-host', '--log-level']) {
      expect(r.out).toContain(flag);
    }
    const replay = await call(['replay', '--help']);
    for (const flag of ['--from <position>', '--to <position>', '--into <dir>', '--verify [dir]']) expect(replay.out).toContain(flag);
  });

  it('the installed bin exits 2 on a usage error', async () => {
    const r = await runCli(['run', fixture('counts.ts'), '--checkpoints', '/tmp/x', '--keep', 'many']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("tidemark run: --keep must be a positive integer, got 'many'");
  });
});

describe('--from / --to positions', () => {
  it('parses offsets, per-partition offsets, instants and epoch milliseconds', () => {
    expect(parsePosition('earliest', '--from', 'x')).toEqual({ kind: 'earliest' });
    expect(parsePosition('1234', '--from', 'x')).toEqual({ kind: 'offset', offset: 1234 });
    expect(parsePosition('0:120,1:98', '--from', 'x')).toEqual({ kind: 'offsets', offsets: { 0: 120, 1: 98 } });
    expect(parsePosition('2024-05-01T00:00:00Z', '--from', 'x')).toEqual({ kind: 'time', time: Date.UTC(2024, 4, 1) });
    expect(parsePosition('2024-05-01', '--from', 'x')).toEqual({ kind: 'time', time: Date.UTC(2024, 4, 1) });
    expect(parsePosition('2024-05-01T02:00:00+02:00', '--from', 'x')).toEqual({ kind: 'time', time: Date.UTC(2024, 4, 1) });
    expect(parsePosition('@-5000', '--to', 'x')).toEqual({ kind: 'time', time: -5000 });
    expect(() => parsePosition('2024-05-01T00:00:00', '--from', 'tidemark replay')).toThrow(/tidemark replay: --from must be/);
    expect(() => parsePosition('0:1,0:2', '--from', 'tidemark replay')).toThrow(/names partition 0 twice/);
  });
});
