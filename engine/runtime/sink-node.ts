/**
 * Adapts a sink to the operator contract: each batch becomes one `write`; a write that returns a
 * promise is tracked so the runtime awaits it before reading more input (backpressure).
 */
import type { OperatorFactory, OperatorLogic } from '../operator.js';
import type { Sink } from '../sink.js';

/** Builds the operator factory that feeds `sink`, handing pending writes to `track`. */
export function sinkFactory(sink: Sink<unknown>, track: (p: Promise<void>) => void): OperatorFactory {
  return {
    kind: `sink:${sink.kind}`,
    build(): OperatorLogic {
      return {
        onBatch(batch) {
          const r = sink.write(batch.values, batch.times);
          if (r instanceof Promise) track(r);
        },
      };
    },
  };
}

/** The pass-through that merges several inputs (union, the pipeline's dead-letter stream). */
export const passThrough: OperatorFactory = {
  kind: 'pass-through',
  build(ctx) {
    const out = ctx.out;
    return {
      onBatch(batch) {
        out.emitBatch(batch);
      },
    };
  },
};
