/**
 * Child process of the crash tests: opens the log in `argv[2]` with fsync `argv[3]`, appends
 * records with ids from `argv[4]` in batches and prints `ok <first id> <count>` after each append
 * resolves. Mode `argv[5]`: `sequential` (one append at a time, `argv[6]` appends then exit) or
 * `concurrent` (four appenders at once, until killed).
 */
import { EventLog } from 'tidemark';

const [dir, fsync, startArg, mode, countArg] = process.argv.slice(2);
let next = Number(startArg);
const log = await EventLog.open<{ id: number; pad: string }>(dir as string, { partitions: 3, fsync: fsync as 'always', segmentBytes: 64 * 1024 });
process.stdout.write(`open ${JSON.stringify(log.recovery)}\n`);

async function appender(limit: number): Promise<void> {
  for (let i = 0; i < limit; i++) {
    const size = 1 + Math.floor(Math.random() * 40);
    const first = next;
    next += size;
    const batch = Array.from({ length: size }, (_, j) => ({ key: `k${(first + j) % 17}`, timestamp: first + j, value: { id: first + j, pad: 'x'.repeat(Math.floor(Math.random() * 200)) } }));
    await log.append(batch);
    process.stdout.write(`ok ${first} ${size}\n`);
  }
}

if (mode === 'sequential') {
  await appender(Number(countArg));
  await log.close();
} else {
  await Promise.all([appender(Infinity), appender(Infinity), appender(Infinity), appender(Infinity)]);
}
