/**
 * `tidemark/cli`: what a pipeline module run by `tidemark run` / `tidemark replay` imports — the
 * types of its arguments and helpers that map `--from` / `--to` onto sources.
 *
 * @example
 * import type { PipelineArgs } from 'tidemark/cli';
 * import { logStart } from 'tidemark/cli';
 * export default function (p: Pipeline, args: PipelineArgs) {
 *   p.source(log.source({ from: logStart(args.from) }), { name: 'orders', timestamp: (r) => r.value.ts });
 * }
 */
export type { PipelineArgs, PipelineModule, PipelineModuleMain } from './args.js';
export { type Position, parsePosition, logStart, before } from './position.js';
export { main } from './main.js';
