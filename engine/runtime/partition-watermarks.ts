/**
 * Watermarks of a source's partitions: one generator per partition (a log partition, a broker
 * subject), combined by the minimum over the partitions that are active. A partition idle for
 * longer than the strategy's `idleTimeout` leaves the minimum; a partition that (re)appears
 * rejoins once its own watermark has caught up with the source's. An unpartitioned source is the
 * one-partition case.
 */
import type { Cancel } from '../clock.js';
import type { WatermarkGenerator, WatermarkStrategy } from '../watermark.js';

/** The watermark state of one partition. */
export interface PartitionState {
  readonly id: number;
  readonly gen: WatermarkGenerator<unknown> | undefined;
  /** This partition's own watermark. */
  w: number;
  /** Counted in the minimum (false while catching up after appearing or resuming). */
  joined: boolean;
  idle: boolean;
  idleTimer: Cancel | undefined;
  /** Processing time at which `w` last advanced. */
  since: number;
}

/** The partitions of one source and their combined watermark. */
export class PartitionWatermarks {
  private readonly parts = new Map<number, PartitionState>();
  private only: PartitionState | undefined;

  constructor(private readonly strategy: WatermarkStrategy<unknown> | undefined, private readonly now: () => number) {}

  /** Partitions known when the source opens: they hold the minimum back from the start. */
  declare(ids: readonly number[]): void {
    for (const id of ids) if (!this.parts.has(id)) this.add(id, true);
  }

  /** Restores partitions' watermarks from a checkpoint (they count in the minimum at once). */
  restore(saved: readonly (readonly [number, number])[]): void {
    for (const [id, w] of saved) {
      const p = this.parts.get(id) ?? this.add(id, true);
      p.w = w;
      p.joined = true;
    }
  }

  /** Each partition's own watermark, for a checkpoint. */
  saved(): [number, number][] {
    const out: [number, number][] = [];
    for (const p of this.parts.values()) out.push([p.id, p.w]);
    return out;
  }

  /** The state of partition `id` (`-1` for an unpartitioned source); a new one joins once caught up with `output`. */
  get(id: number, output: number): PartitionState {
    const p = this.parts.get(id);
    if (p !== undefined) return p;
    return this.add(id, this.parts.size === 0 || output === -Infinity);
  }

  private add(id: number, joined: boolean): PartitionState {
    const p: PartitionState = { id, gen: this.strategy?.create(), w: -Infinity, joined, idle: false, idleTimer: undefined, since: this.now() };
    this.parts.set(id, p);
    this.only = this.parts.size === 1 ? p : undefined;
    return p;
  }

  /** Every partition. */
  all(): IterableIterator<PartitionState> {
    return this.parts.values();
  }

  /**
   * The minimum over joined, active partitions (`-Infinity` when there is none: nothing may
   * advance the source's watermark then).
   */
  combined(): number {
    const only = this.only;
    if (only !== undefined) return only.joined && !only.idle ? only.w : -Infinity;
    let min = Infinity;
    let any = false;
    for (const p of this.parts.values()) {
      if (!p.joined || p.idle) continue;
      any = true;
      if (p.w < min) min = p.w;
    }
    return any ? min : -Infinity;
  }

  /** True when every partition is idle (the source as a whole is idle). */
  allIdle(): boolean {
    for (const p of this.parts.values()) if (!p.idle) return false;
    return this.parts.size > 0;
  }
}
