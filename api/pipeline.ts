/**
 * `Pipeline`: where a dataflow is declared (sources, operators, sinks) and then run. Building is
 * cheap and validated eagerly; `run()` compiles the plan and executes it once.
 */
import { type Backoff, type BackoffOptions, backoff, sleepOn } from '../engine/backoff.js';
import type { Checkpoint, CheckpointInfo, CheckpointStore, StateMigration } from '../engine/checkpoint.js';
import { type Clock, SystemClock } from '../engine/clock.js';
import { CheckpointError, PlanError } from '../engine/errors.js';
import type { PipelineEventListener } from '../engine/events.js';
import type { Key } from '../engine/keys.js';
import { type Ordering, Plan } from '../engine/plan.js';
import type { DeadLetter } from '../engine/runtime/emitter.js';
import { type ParallelPart, Runtime } from '../engine/runtime/runtime.js';
import type { RunSummary } from '../engine/runtime/summary.js';
import type { Source } from '../engine/source.js';
import { type Duration, toMillis } from '../engine/time.js';
import type { WatermarkStrategy } from '../engine/watermark.js';
import { checkFunction } from './options.js';
import { type PipelineCore, Stream } from './stream.js';

/** Options of a `Pipeline`. */
export interface PipelineOptions {
  /** Processing time (default: the system clock). Tests pass a `ManualClock`. */
  readonly clock?: Clock;
  /** Preferred records per batch (default 1024). Never changes results, only speed. */
  readonly batchSize?: number;
  /**
   * How far a timestamp may run ahead of the (real-time) clock and still advance the watermark
   * (default 5 minutes; `false` turns the guard off). With a manual clock the guard is off unless
   * this option is given.
   */
  readonly maxFutureSkew?: Duration | false;
  /** Take checkpoints and restore from them (see `CheckpointOptions`). */
  readonly checkpoints?: CheckpointOptions;
  /**
   * Restart a failed run from its last checkpoint (or from the start without checkpoints), with
   * a fixed or exponential delay, at most `attempts` times. Default: no restarts.
   */
  readonly restart?: BackoffOptions;
  /**
   * How a sink's failed write is retried before the run fails with a `SinkError` naming it.
   * Default: 3 retries from 100 ms (exponential) with a real-time clock, none with a manual one;
   * `false`: none.
   */
  readonly sinkRetry?: BackoffOptions | false;
  /** Receives checkpoint, restore, restart and retry events (logs, metrics). */
  readonly onEvent?: PipelineEventListener;
}

/**
 * Checkpointing of a pipeline. A run starts from the latest complete checkpoint in `store` (or the
 * one named by `restore`): sources seek to their saved positions, operators restore their state,
 * exactly-once sinks re-commit their last epoch, and the output continues as if uninterrupted.
 *
 * @example
 * const p = new Pipeline({ checkpoints: { store: fileCheckpoints('./checkpoints'), interval: '1s' } });
 */
export interface CheckpointOptions {
  readonly store: CheckpointStore;
  /** Take a checkpoint every `interval` of processing time. */
  readonly interval?: Duration;
  /** Take a checkpoint every this many records read (over all sources). */
  readonly everyRecords?: number;
  /** Where a run starts: the `latest` checkpoint or savepoint (default), `none`, or the one with this id. */
  readonly restore?: 'latest' | 'none' | number;
  /** Converts the saved state of the named operator when its kind, version or signature changed. */
  readonly migrations?: Readonly<Record<string, StateMigration>>;
  /** Drop saved state of operators or sources the pipeline no longer has (default: refuse). */
  readonly allowNonRestoredState?: boolean;
}

/** Options of `pipeline.source()`. */
export interface SourceOptions<T> {
  /** Event time of a record, in epoch ms. Required unless the source carries timestamps. */
  readonly timestamp?: (record: T) => number;
  /** How the source derives watermarks; without one, it emits none until its end (`+∞`). */
  readonly watermark?: WatermarkStrategy<T> | WatermarkStrategy<unknown>;
  /** A stable, unique name (default `source#N`). */
  readonly name?: string;
  /** The order the source guarantees (default `'none'`). */
  readonly ordering?: Ordering;
  /** Overrides the pipeline's `maxFutureSkew` for this source. */
  readonly maxFutureSkew?: Duration | false;
  /**
   * Watermark alignment: the source reads only while its watermark is at most `maxDrift` ahead of
   * the slowest active source of the same `group` (so a replay of history does not fill memory
   * with the fast source's windows). Pauses are counted (`alignmentPauses`).
   */
  readonly alignment?: { readonly group: string; readonly maxDrift: Duration };
}

const ORDERINGS: readonly string[] = ['total', 'per-key', 'per-partition', 'none'];

/**
 * A pipeline under construction, then run.
 *
 * @example
 * const p = new Pipeline();
 * const out: WindowResult<string, number>[] = [];
 * p.source(fromArray(clicks), { timestamp: (c) => c.ts, watermark: boundedOutOfOrderness(5_000) })
 *   .keyBy((c) => c.page).window(tumbling(60_000)).aggregate(count()).sink(collect(out));
 * const summary = await p.run();
 */
export class Pipeline implements PipelineCore {
  /** @internal */
  readonly plan = new Plan();
  readonly clock: Clock;
  readonly batchSize: number;
  private readonly maxFutureSkew: number | undefined;
  /** True when the user set `maxFutureSkew` (then it applies with a manual clock too). */
  private readonly skewExplicit: boolean;
  private ran = false;
  private readonly checkpointOptions: (CheckpointOptions & { readonly intervalMs: number | undefined }) | undefined;
  private readonly restartPolicy: Backoff | undefined;
  private readonly sinkRetry: Backoff | undefined;
  private readonly onEvent: PipelineEventListener | undefined;
  private stopReason: string | undefined;

  constructor(options: PipelineOptions = {}) {
    const where = 'tidemark.Pipeline';
    if (options === null || typeof options !== 'object') throw new PlanError(`${where}: options must be an object`);
    this.clock = options.clock ?? new SystemClock();
    if (typeof this.clock.now !== 'function' || typeof this.clock.schedule !== 'function') {
      throw new PlanError(`${where}: clock must have now() and schedule(at, callback)`);
    }
    this.batchSize = options.batchSize ?? 1024;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new PlanError(`${where}: batchSize must be a positive integer, got ${String(options.batchSize)}`);
    }
    this.maxFutureSkew = skewOf(options.maxFutureSkew, 300_000, where);
    this.skewExplicit = options.maxFutureSkew !== undefined && options.maxFutureSkew !== false;
    this.checkpointOptions = checkpointOptions(options.checkpoints, where);
    this.restartPolicy = options.restart === undefined ? undefined : backoff(options.restart, `${where}: restart`);
    this.sinkRetry = options.sinkRetry === false
      ? undefined
      : options.sinkRetry !== undefined
        ? backoff(options.sinkRetry, `${where}: sinkRetry`)
        : this.clock.realTime ? backoff({ attempts: 3, delay: 100 }, where) : undefined;
    if (options.onEvent !== undefined) checkFunction(options.onEvent, `${where}: onEvent`);
    this.onEvent = options.onEvent;
  }

  /**
   * Adds a source. Records whose timestamp is not a finite integer within ±8.64e15, or whose
   * extractor throws, go to the source's `deadLetters()`; the run goes on.
   *
   * @example
   * const clicks = p.source(fromArray(rows), { timestamp: (r) => r.ts, watermark: monotonic(), name: 'clicks' });
   */
  source<T>(source: Source<T>, options: SourceOptions<T> = {}): Stream<T> {
    const where = 'tidemark.source';
    if (source === null || typeof source !== 'object' || typeof source.open !== 'function') {
      throw new PlanError(`${where}: expected a source such as fromArray(…), fromAsyncIterable(…) or fromObservable(…)`);
    }
    if (options.timestamp !== undefined) checkFunction(options.timestamp, `${where}: timestamp`);
    if (options.timestamp === undefined && !source.providesTimestamps) {
      throw new PlanError(`${where}: a ${source.kind} source needs a timestamp option: (record) => epoch milliseconds`);
    }
    if (options.watermark !== undefined && source.providesWatermarks) {
      throw new PlanError(`${where}: a ${source.kind} source scripts its own watermarks; drop the watermark option`);
    }
    if (options.watermark !== undefined && typeof options.watermark.create !== 'function') {
      throw new PlanError(`${where}: watermark must come from boundedOutOfOrderness(), monotonic() or watermarkStrategy()`);
    }
    if (source.stepsProcessingTime === true && this.clock.realTime) {
      throw new PlanError(`${where}: a ${source.kind} source that advances processing time needs a pipeline with a ManualClock`);
    }
    const ordering = options.ordering ?? 'none';
    if (!ORDERINGS.includes(ordering)) {
      throw new PlanError(`${where}: ordering must be one of ${ORDERINGS.join(', ')}, got '${String(ordering)}'`);
    }
    const skew = options.maxFutureSkew === undefined ? this.maxFutureSkew : skewOf(options.maxFutureSkew, 0, where);
    const skewExplicit = options.maxFutureSkew === undefined ? this.skewExplicit : options.maxFutureSkew !== false;
    let alignment: { group: string; maxDrift: number } | undefined;
    if (options.alignment !== undefined) {
      const { group, maxDrift } = options.alignment;
      if (typeof group !== 'string' || group.length === 0) throw new PlanError(`${where}: alignment.group must be a non-empty string`);
      const drift = toMillis(maxDrift, `${where}: alignment.maxDrift`);
      if (drift < 0) throw new PlanError(`${where}: alignment.maxDrift must be ≥ 0, got ${drift} ms`);
      alignment = { group, maxDrift: drift };
    }
    const node = this.plan.add({
      kind: 'source',
      name: options.name,
      inputs: [],
      onError: 'dead-letter',
      ordering,
      ...(ordering === 'total' ? {} : { orderLost: `source '${options.name ?? source.kind}' declares ordering '${ordering}'${options.ordering === undefined ? ' (the default)' : ''}` }),
      source: {
        source: source as Source<unknown>,
        timestamp: options.timestamp as ((r: unknown) => number) | undefined,
        watermark: options.watermark as WatermarkStrategy<unknown> | undefined,
        maxFutureSkew: skew,
        maxFutureSkewAlways: skewExplicit,
        ...(alignment === undefined ? {} : { alignment }),
      },
    }, where);
    return new Stream<T>(this, node);
  }

  /**
   * Every dead letter of the pipeline (from every source and operator), as one stream.
   *
   * @example
   * p.deadLetters().sink(forEach((d) => console.warn(d.operator, d.reason)));
   */
  deadLetters(): Stream<DeadLetter> {
    const node = this.plan.add({ kind: 'dead-letters', inputs: [], onError: 'fail', ordering: 'none', collectsAllDeadLetters: true }, 'tidemark.deadLetters');
    return new Stream<DeadLetter>(this, node);
  }

  /** The running (or finished) runtime, once `run()` or the harness compiled the plan. */
  private runtime: Runtime | undefined;

  /** @internal Compiles the plan (the harness drives the result by hand), optionally restoring operator state. */
  compile(manual: boolean, resume?: Readonly<Record<string, unknown>>): Runtime {
    if (this.plan.nodes.every((n) => n.source === undefined)) throw new PlanError('tidemark.run: the pipeline has no source');
    this.runtime = new Runtime(this.plan, { clock: this.clock, batchSize: this.batchSize, manual, ...(resume === undefined ? {} : { resume }) });
    return this.runtime;
  }

  /**
   * The plan as written, one line per source, operator and sink, with each operator's current
   * input and output watermark and counters (open windows, pending work…). Call it during or after
   * a run (before, it shows the plan only).
   *
   * @example
   * setInterval(() => console.log(p.explain()), 10_000);
   */
  explain(): string {
    if (this.runtime !== undefined) return this.runtime.explain();
    return ['Pipeline plan (not started):', ...this.plan.nodes.map((n) => `  ${n.kind} '${n.name}'${n.inputs.length === 0 ? '' : ` ← ${n.inputs.map((i) => i.node.name).join(', ')}`}`)].join('\n');
  }

  /**
   * The counters so far of the running (or finished) run — the same shape `run()` resolves with —
   * for metrics and progress displays; `undefined` before `run()` has started.
   *
   * @example
   * setInterval(() => console.log(p.summary()?.sources), 1_000);
   */
  summary(): RunSummary | undefined {
    return this.runtime?.summary();
  }

  /**
   * Why the window `[start, end)` of `key` has not fired yet: for each window operator, what it
   * holds for it and which input or source partition holds the watermark back, and since when.
   *
   * @example
   * console.log(p.whyNotFired('user-7', { start: 1_700_000_000_000, end: 1_700_000_060_000 }));
   */
  whyNotFired(key: Key, window: { readonly start: number; readonly end: number }): string {
    if (this.runtime === undefined) return 'the pipeline has not started';
    return this.runtime.whyNotFired(key, window.start, window.end);
  }

  /**
   * Runs the pipeline to the end of its sources (a pipeline runs once). Resolves with the
   * summary; rejects with the first error (e.g. a `UserFunctionError` naming the operator).
   * With checkpoints, the run starts from the latest checkpoint; with a restart strategy, a failed
   * run restarts from its last checkpoint until the attempts are used up.
   */
  async run(): Promise<RunSummary> {
    if (this.ran) throw new PlanError('tidemark.run: this pipeline has already run; build a new one');
    this.ran = true;
    if (this.plan.nodes.every((n) => n.source === undefined)) throw new PlanError('tidemark.run: the pipeline has no source');
    const cp = this.checkpointOptions;
    try {
      // A restart continues this run's own lineage: from the latest checkpoint if one of its
      // attempts wrote one (sinks may have committed it), else from where the run started (not
      // another run's checkpoint).
      let startedFrom: 'latest' | 'none' | number = cp?.restore ?? 'latest';
      let completedAny = false;
      for (let attempt = 0; ; attempt++) {
        const restore = await this.restorePoint(completedAny ? 'latest' : startedFrom);
        if (attempt === 0 && startedFrom === 'latest') startedFrom = restore?.id ?? 'none';
        const ids = cp === undefined ? [] : (await cp.store.list()).map((c) => c.id);
        const firstId = Math.max(0, restore?.id ?? 0, ...ids) + 1;
        this.runtime = new Runtime(this.plan, {
          clock: this.clock,
          batchSize: this.batchSize,
          firstCheckpointId: firstId,
          ...(cp === undefined ? {} : {
            checkpoints: {
              store: cp.store,
              ...(cp.intervalMs === undefined ? {} : { intervalMs: cp.intervalMs }),
              ...(cp.everyRecords === undefined ? {} : { everyRecords: cp.everyRecords }),
            },
            ...(cp.migrations === undefined ? {} : { migrations: cp.migrations }),
            allowNonRestoredState: cp.allowNonRestoredState === true,
          }),
          ...(restore === undefined ? {} : { restore }),
          ...(this.sinkRetry === undefined ? {} : { sinkRetry: this.sinkRetry }),
          ...(this.onEvent === undefined ? {} : { onEvent: this.onEvent }),
        });
        if (this.stopReason !== undefined) this.runtime.stop(this.stopReason);
        try {
          const summary = await this.runtime.run();
          if (attempt > 0) summary.restarts = attempt;
          return summary;
        } catch (error) {
          if (this.runtime.checkpointer.written > 0) completedAny = true;
          const policy = this.restartPolicy;
          if (policy === undefined || attempt >= policy.attempts || this.stopReason !== undefined || error instanceof PlanError || error instanceof CheckpointError) throw error;
          const delayMs = policy.delayFor(attempt + 1);
          try {
            this.onEvent?.({ type: 'restart', attempt: attempt + 1, delayMs, error });
          } catch {
            // a listener's error must not disturb the run
          }
          await sleepOn(this.clock, delayMs);
        }
      }
    } finally {
      await cp?.store.close?.();
    }
  }

  /**
   * @internal Runs this pipeline as one worker of a parallel run (`runParallel`, the simulation):
   * the nodes placed on `part.worker`, exchanging records with the other workers, restoring its
   * share of `restore`. Resolves with this worker's summary. Checkpoints and restarts are the
   * coordinator's, not the worker's.
   */
  async runPart(part: ParallelPart, restore?: Checkpoint): Promise<RunSummary> {
    if (this.ran) throw new PlanError('tidemark.run: this pipeline has already run; build a new one');
    this.ran = true;
    if (this.plan.nodes.every((n) => n.source === undefined)) throw new PlanError('tidemark.run: the pipeline has no source');
    if (this.checkpointOptions !== undefined) {
      throw new PlanError('tidemark.runParallel: pass checkpoints to runParallel, not to the pipeline the module builds');
    }
    this.runtime = new Runtime(this.plan, {
      clock: this.clock,
      batchSize: this.batchSize,
      parallel: part,
      ...(restore === undefined ? {} : { restore }),
      ...(this.sinkRetry === undefined ? {} : { sinkRetry: this.sinkRetry }),
      ...(this.onEvent === undefined ? {} : { onEvent: this.onEvent }),
    });
    if (this.stopReason !== undefined) this.runtime.stop(this.stopReason);
    return this.runtime.run();
  }

  /** @internal Fails this worker's run with `error` (another worker failed). */
  abortPart(error: unknown): void {
    this.runtime?.abort(error);
  }

  /** The checkpoint a run starts from. */
  private async restorePoint(which: 'latest' | 'none' | number): Promise<Checkpoint | undefined> {
    const cp = this.checkpointOptions;
    if (cp === undefined || which === 'none') return undefined;
    if (which === 'latest') return cp.store.latest();
    return cp.store.load(which);
  }

  /**
   * Takes a savepoint of the running pipeline (it goes on running): a checkpoint kept until
   * deleted, that a changed pipeline can restore from (`checkpoints.restore: id`).
   *
   * @example
   * const info = await p.savepoint(); console.log(`savepoint ${info.id} at ${info.location}`);
   */
  async savepoint(): Promise<CheckpointInfo> {
    if (this.checkpointOptions === undefined) throw new PlanError('tidemark.savepoint: the pipeline has no checkpoint store (checkpoints.store)');
    if (this.runtime === undefined) throw new PlanError('tidemark.savepoint: the pipeline is not running');
    const info = await this.runtime.savepoint();
    if (info === undefined) throw new CheckpointError('tidemark.savepoint: no savepoint was written');
    return info;
  }

  /**
   * Stops a running pipeline cleanly: sources stop after the chunk in hand, a final checkpoint is
   * taken (exactly-once sinks commit), sinks close, and `run()` resolves with `summary.stopped`.
   * Windows still open stay in the checkpoint (they are not flushed). Called before `run()`, the
   * run stops at once.
   *
   * @example
   * process.on('SIGTERM', () => p.stop('SIGTERM'));
   */
  stop(reason = 'requested'): void {
    this.stopReason ??= reason;
    this.runtime?.stop(reason);
  }
}

function checkpointOptions(options: CheckpointOptions | undefined, where: string): (CheckpointOptions & { readonly intervalMs: number | undefined }) | undefined {
  if (options === undefined) return undefined;
  const w = `${where}: checkpoints`;
  if (options === null || typeof options !== 'object') throw new PlanError(`${w} must be an object`);
  const store = options.store as Partial<CheckpointStore> | undefined;
  if (store === undefined || typeof store.write !== 'function' || typeof store.latest !== 'function' || typeof store.encodeState !== 'function') {
    throw new PlanError(`${w}.store must be a checkpoint store such as fileCheckpoints(dir) or postgresCheckpoints(…)`);
  }
  const intervalMs = options.interval === undefined ? undefined : toMillis(options.interval, `${w}.interval`);
  if (intervalMs !== undefined && intervalMs <= 0) throw new PlanError(`${w}.interval must be > 0, got ${intervalMs} ms`);
  if (options.everyRecords !== undefined && (!Number.isInteger(options.everyRecords) || options.everyRecords < 1)) {
    throw new PlanError(`${w}.everyRecords must be a positive integer, got ${String(options.everyRecords)}`);
  }
  const r = options.restore;
  if (r !== undefined && r !== 'latest' && r !== 'none' && !(Number.isInteger(r) && r > 0)) {
    throw new PlanError(`${w}.restore must be 'latest', 'none' or a checkpoint id, got ${String(r)}`);
  }
  return { ...options, intervalMs };
}

function skewOf(value: Duration | false | undefined, fallback: number, where: string): number | undefined {
  if (value === false) return undefined;
  if (value === undefined) return fallback;
  const ms = toMillis(value, `${where}: maxFutureSkew`);
  if (ms < 0) throw new PlanError(`${where}: maxFutureSkew must be ≥ 0, got ${ms} ms`);
  return ms;
}
