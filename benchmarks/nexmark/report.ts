/**
 * Reporting for the benchmark runner: progress bars (cli-progress, only when stdout is a TTY),
 * the Nexmark table, and the SVG chart of throughput per workload (Tidemark vs the baselines).
 */
import cliProgress from 'cli-progress';
import type { NexmarkBenchResult } from './bench.js';

/** A progress display: `update(done, total, label)`, then `stop()`. A no-op when not on a TTY. */
export interface Progress {
  readonly update: (done: number, total: number, label: string) => void;
  readonly stop: () => void;
}

/** A progress bar on stderr when stdout is a terminal; nothing otherwise (logs stay readable in CI). */
export function progressBar(title: string): Progress {
  if (!process.stdout.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { format: `${title} [{bar}] {percentage}% | {value}/{total} | {label}`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, label) {
      if (!started) {
        bar.start(total, 0, { label });
        started = true;
      }
      bar.setTotal(total);
      bar.update(done, { label });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** Millions, two decimals. */
export const fmtM = (n: number | undefined | null): string => (n === undefined || n === null || !Number.isFinite(n) ? '—' : `${(n / 1e6).toFixed(2)}M`);
const fmt = (n: number | undefined, digits = 2): string => (n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(digits));

/** Prints one row per Nexmark result: records/s, CPU-s/M, MB/M, ratios, checks, latency. */
export function printNexmarkTable(results: readonly NexmarkBenchResult[]): void {
  const rows = results.map((r) => ({
    query: r.query,
    events: r.events.toLocaleString('en'),
    'tidemark rec/s': fmtM(r.tidemark.recordsPerSec),
    'fused rec/s': fmtM(r.tidemark.fused.recordsPerSec),
    'hand rec/s': fmtM(r.baselines.handwritten?.recordsPerSec),
    'rxjs rec/s': fmtM(r.baselines.rxjs?.recordsPerSec),
    'tm/hand': fmt(r.ratios.tidemarkToHandwritten),
    'tm/rxjs': fmt(r.ratios.tidemarkToRxjs),
    'CPU-s/M tm·fused·hand·rx': [r.tidemark.cpuSecPerMillion, r.tidemark.fused.cpuSecPerMillion, r.baselines.handwritten?.cpuSecPerMillion, r.baselines.rxjs?.cpuSecPerMillion].map((x) => fmt(x, 2)).join(' · '),
    'MB/M tm·hand·rx': [r.tidemark.heapMB, r.baselines.handwritten?.heapMB, r.baselines.rxjs?.heapMB].map((x) => fmt(x, 0)).join(' · '),
    'latency p50/p99 ms': r.latency ? `${fmt(r.latency.p50Ms, 1)} / ${fmt(r.latency.p99Ms, 1)}` : '—',
    duckdb: r.oracle.equal === null ? 'skipped' : r.oracle.equal ? 'equal' : 'DIFFERENT',
    baselines: Object.values(r.baselinesEqual).length === 0 ? '—' : Object.values(r.baselinesEqual).every(Boolean) ? 'equal' : 'DIFFERENT',
  }));
  console.log('\nNexmark (records = all events; median of the rounds)');
  console.table(rows);
}

/** One group of bars in the chart. */
export interface ChartEntry {
  readonly label: string;
  readonly tidemark: number;
  readonly fused?: number;
  readonly handwritten?: number;
  readonly rxjs?: number;
}

const SERIES = [
  { key: 'tidemark', name: 'Tidemark', color: '#1f6feb' },
  { key: 'fused', name: 'Tidemark, generator fused', color: '#79c0ff' },
  { key: 'handwritten', name: 'hand-written Map loop', color: '#8b949e' },
  { key: 'rxjs', name: 'RxJS 7 (groupBy + reduce)', color: '#d29922' },
] as const;

const escapeXml = (s: string): string => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] as string);

/**
 * A grouped bar chart (SVG text) of records/s per workload, one bar per contender.
 *
 * @example
 * writeFileSync('chart.svg', throughputChart([{ label: 'q5', tidemark: 2e6, handwritten: 2.5e6 }], 'Nexmark'));
 */
export function throughputChart(entries: readonly ChartEntry[], title: string): string {
  const barW = 18;
  const groupGap = 26;
  const left = 60;
  const top = 40;
  const height = 240;
  const groupW = SERIES.length * barW + groupGap;
  const width = left + entries.length * groupW + 20;
  const max = Math.max(1, ...entries.flatMap((e) => SERIES.map((s) => e[s.key] ?? 0)));
  const step = 10 ** Math.floor(Math.log10(max));
  const ceiling = Math.ceil(max / step) * step;
  const y = (v: number): number => top + height - (v / ceiling) * height;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top + height + 90}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<text x="${left}" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`);
  for (let v = 0; v <= ceiling + 1e-9; v += ceiling / 5) {
    parts.push(`<line x1="${left}" x2="${width - 10}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${(v / 1e6).toFixed(1)}M</text>`);
  }
  entries.forEach((e, i) => {
    const x0 = left + i * groupW + groupGap / 2;
    SERIES.forEach((s, j) => {
      const v = e[s.key];
      if (v === undefined || !Number.isFinite(v)) return;
      parts.push(`<rect x="${x0 + j * barW}" y="${y(v)}" width="${barW - 2}" height="${top + height - y(v)}" fill="${s.color}"><title>${escapeXml(`${e.label} ${s.name}: ${(v / 1e6).toFixed(2)}M records/s`)}</title></rect>`);
    });
    parts.push(`<text x="${x0 + (SERIES.length * barW) / 2}" y="${top + height + 16}" text-anchor="middle">${escapeXml(e.label)}</text>`);
  });
  SERIES.forEach((s, j) => {
    const ly = top + height + 36 + j * 13;
    parts.push(`<rect x="${left}" y="${ly - 9}" width="10" height="10" fill="${s.color}"/><text x="${left + 14}" y="${ly}">${escapeXml(s.name)}</text>`);
  });
  parts.push(`<text x="${left}" y="${top - 8}" fill="#555">records/s (median of alternating rounds, same process per workload)</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
