/**
 * What a run shows while it goes: on a terminal, a one-line status bar (records/s, records read,
 * watermark, watermark lag, consumer lag) redrawn on stdout; otherwise a structured `progress`
 * log line every interval.
 */
import cliProgress from 'cli-progress';
import type { Logger } from 'pino';
import type { RunSummary } from '../index.js';

/** One reading of the run's progress. */
export interface ProgressReading {
  readonly records: number;
  /** Records per second since the previous reading. */
  readonly rate: number;
  /** The slowest source's watermark (epoch ms; ±Infinity at the ends). */
  readonly watermark: number;
  /** Wall clock minus `watermark`, in ms (undefined when the watermark is not finite). */
  readonly lagMs: number | undefined;
  /** Records behind the head, over sources that report it. */
  readonly consumerLag: number | undefined;
}

/** Computes readings from successive summaries. */
export class ProgressMeter {
  private last: { records: number; at: number } | undefined;

  /** The reading for `summary` at wall time `now` (ms). */
  read(summary: RunSummary, now: number): ProgressReading {
    let records = 0;
    let watermark = Infinity;
    let consumerLag: number | undefined;
    for (const s of Object.values(summary.sources)) {
      records += s.read;
      watermark = Math.min(watermark, s.watermark);
      const lag = s['lagRecords'];
      if (typeof lag === 'number') consumerLag = (consumerLag ?? 0) + lag;
    }
    if (Object.keys(summary.sources).length === 0) watermark = -Infinity;
    const prev = this.last;
    const rate = prev === undefined || now <= prev.at ? 0 : ((records - prev.records) * 1000) / (now - prev.at);
    this.last = { records, at: now };
    return { records, rate, watermark, lagMs: Number.isFinite(watermark) ? now - watermark : undefined, consumerLag };
  }
}

/** A watermark for people: an ISO instant, or ±∞. */
export function formatWatermark(w: number): string {
  if (w === Infinity) return '+∞ (end)';
  if (w === -Infinity) return '-∞ (none yet)';
  const d = new Date(w);
  return Number.isNaN(d.getTime()) ? String(w) : d.toISOString();
}

/** A duration for people (`850ms`, `12.5s`, `3m20s`, `5h02m`). */
export function formatLag(ms: number | undefined): string {
  if (ms === undefined) return '-';
  const a = Math.abs(ms);
  const sign = ms < 0 ? '-' : '';
  if (a < 1000) return `${sign}${Math.round(a)}ms`;
  if (a < 60_000) return `${sign}${(a / 1000).toFixed(1)}s`;
  if (a < 3_600_000) return `${sign}${Math.floor(a / 60_000)}m${String(Math.floor((a % 60_000) / 1000)).padStart(2, '0')}s`;
  return `${sign}${Math.floor(a / 3_600_000)}h${String(Math.floor((a % 3_600_000) / 60_000)).padStart(2, '0')}m`;
}

/** A running progress display; `stop()` removes its timer (and finishes the bar). */
export interface ProgressDisplay {
  stop(): void;
}

/**
 * Starts the display for a run: a bar when stdout is a terminal, else a log line every
 * `intervalMs`. `summary()` returns `undefined` until the run has started.
 */
export function startProgress(summary: () => RunSummary | undefined, log: Logger, options: { readonly tty: boolean; readonly intervalMs: number }): ProgressDisplay {
  const meter = new ProgressMeter();
  if (options.tty) {
    const bar = new cliProgress.SingleBar({
      stream: process.stdout,
      format: 'tidemark | {records} records | {rate} rec/s | watermark {watermark} | lag {lag}{consumer}',
      hideCursor: true,
      clearOnComplete: false,
      noTTYOutput: false,
      fps: 4,
    });
    bar.start(0, 0, { records: 0, rate: '0', watermark: '-', lag: '-', consumer: '' });
    const draw = (): void => {
      const s = summary();
      if (s === undefined) return;
      const r = meter.read(s, Date.now());
      bar.update(0, {
        records: r.records,
        rate: r.rate.toFixed(0),
        watermark: formatWatermark(r.watermark),
        lag: formatLag(r.lagMs),
        consumer: r.consumerLag === undefined ? '' : ` | consumer lag ${r.consumerLag} records`,
      });
    };
    const timer = setInterval(draw, 500);
    return {
      stop() {
        clearInterval(timer);
        draw();
        bar.stop();
      },
    };
  }
  const timer = setInterval(() => {
    const s = summary();
    if (s === undefined) return;
    const r = meter.read(s, Date.now());
    log.info({ records: r.records, recordsPerSecond: Math.round(r.rate), watermark: r.watermark, lagMs: r.lagMs, consumerLag: r.consumerLag }, 'progress');
  }, options.intervalMs);
  return {
    stop() {
      clearInterval(timer);
    },
  };
}
