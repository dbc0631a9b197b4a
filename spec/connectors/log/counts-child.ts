/**
 * Child process of the event log kill test: runs the counts pipeline (`counts-pipeline.ts`) from
 * the input log `argv[2]` into the output log `argv[3]` with checkpoints in `argv[4]`, and kills
 * itself with SIGKILL at the fault `argv[5]`: `record:<i>` before processing click i,
 * `synced:<n>` right after the n-th commit's append became durable (before the sink recorded the
 * epoch as committed), or `none` (prints `done` at the end). It prints `fault …` before dying.
 */
import { EventLog } from 'tidemark';
import { type Click, type Count, countsPipeline } from './counts-pipeline.js';

const [inputDir, outputDir, checkpoints, fault = 'none'] = process.argv.slice(2);
const [kind, arg] = fault.split(':');
const at = Number(arg);
const input = await EventLog.open<Click>(inputDir as string, { partitions: 3 });
const output = await EventLog.open<Count>(outputDir as string, { partitions: 2, fsync: 'always' });

const die = (what: string): void => {
  process.stdout.write(`fault ${what}\n`); // synchronous on a pipe
  process.kill(process.pid, 'SIGKILL');
};
if (kind === 'synced') {
  let n = 0;
  const sync = output.sync.bind(output);
  output.sync = async () => {
    await sync();
    if (++n === at) die(`after the append of commit ${n}`);
  };
}
const onClick = kind === 'record' ? (i: number) => (i === at ? die(`at record ${i}`) : undefined) : undefined;
await countsPipeline(input, output, checkpoints as string, onClick === undefined ? {} : { onClick }).run();
await Promise.all([input.close(), output.close()]);
process.stdout.write('done\n');
