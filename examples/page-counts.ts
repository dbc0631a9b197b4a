/**
 * A pipeline module for the command line: per-page view counts per minute over the demo's
 * clickstream, written exactly once to `<into>/page-counts.jsonl` (default `./out`).
 *
 *   npx tidemark run examples/page-counts.ts --checkpoints ./checkpoints
 *   npx tidemark run examples/page-counts.ts --checkpoints ./checkpoints -- --users 50
 *
 * Interrupt it (Ctrl-C) and run it again: it resumes from its last checkpoint and the output file
 * ends up exactly as an uninterrupted run's.
 */
import { parseArgs } from 'node:util';
import { type Pipeline, boundedOutOfOrderness, count, fromArray, toJsonLines, tumbling } from 'tidemark';
import type { PipelineArgs } from 'tidemark/cli';
import { clickstream } from './clickstream.js';

export default function pageCounts(p: Pipeline, args: PipelineArgs): void {
  const { values } = parseArgs({ args: args.argv, options: { users: { type: 'string', default: '200' } } });
  const users = Number(values.users);
  if (!Number.isInteger(users) || users < 1) throw new Error(`page-counts: --users must be a positive integer, got ${values.users}`);
  const clicks = clickstream({ users, sessionsPerUser: 4, start: Date.UTC(2026, 10, 2, 8), seed: 42, disorderMs: 20_000, straggle: 0.02 });
  p.source(fromArray(clicks), { name: 'clicks', timestamp: (c) => c.ts, watermark: boundedOutOfOrderness('20s') })
    .keyBy((c) => c.page)
    .window(tumbling('1m'), { name: 'perPage' })
    .aggregate(count())
    .map((r) => ({ page: r.key, minute: new Date(r.window.start).toISOString(), views: r.value }), { name: 'rows' })
    .sink(toJsonLines(`${args.into ?? './out'}/page-counts.jsonl`, { delivery: 'exactly-once' }), { name: 'page-counts' });
}
