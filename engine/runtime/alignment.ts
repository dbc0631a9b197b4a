/**
 * Watermark alignment (as Flink's): sources of one alignment group read only while their
 * watermark is at most `maxDrift` ahead of the slowest active source of the group, so replaying
 * history does not fill memory with the fast source's windows. A paused source waits (its pump
 * awaits) until the group's minimum catches up; the slowest source is never paused, so the group
 * always makes progress. Idle and ended sources do not hold the group back. On parallel workers
 * the group also counts the slowest active member on the other workers (`setRemote`, reported
 * through the coordinator; a stale report is only ever too low, which pauses more, never less).
 */
import type { SourceDriver } from './source-driver.js';

/** One alignment group. */
export class AlignmentGroup {
  private readonly members: SourceDriver[] = [];
  private waiters: (() => void)[] = [];

  /** The slowest watermark among the group's active members on the other parallel workers (+∞: none). */
  private remote = Infinity;
  /** Told when a member's watermark, idleness or end changed (a parallel worker reports `localMinimum()`). */
  onChange: (() => void) | undefined;

  constructor(readonly name: string, readonly maxDrift: number) {}

  add(driver: SourceDriver): void {
    this.members.push(driver);
  }

  /** The slowest watermark among this worker's active members (+∞ when none is active). */
  localMinimum(): number {
    let min = Infinity;
    for (const m of this.members) if (!m.ended && !m.idle && m.outWatermark < min) min = m.outWatermark;
    return min;
  }

  /** The slowest watermark among active members, on every worker (+∞ when none is active). */
  minimum(): number {
    const local = this.localMinimum();
    return local < this.remote ? local : this.remote;
  }

  /** The other workers' slowest active member changed to `watermark`: paused members re-check. */
  setRemote(watermark: number): void {
    if (watermark === this.remote) return;
    this.remote = watermark;
    this.recheck();
  }

  /** True when `driver` may read on: it is within `maxDrift` of the group's slowest source. */
  mayRead(driver: SourceDriver): boolean {
    return driver.outWatermark <= this.minimum() + this.maxDrift;
  }

  /** Resolves when `driver` may read, or the run stops (`shouldStop`). */
  async wait(driver: SourceDriver, stopped: Promise<void>, shouldStop: () => boolean): Promise<void> {
    while (!this.mayRead(driver)) {
      driver.aligned++;
      await Promise.race([new Promise<void>((resolve) => this.waiters.push(resolve)), stopped]);
      if (driver.ended || shouldStop()) return;
    }
  }

  /** A member's watermark, idleness or end changed: paused members and partitions re-check. */
  changed(): void {
    this.onChange?.();
    this.recheck();
  }

  private recheck(): void {
    for (const m of this.members) m.alignPartitions();
    if (this.waiters.length === 0) return;
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }
}
