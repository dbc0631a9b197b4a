/**
 * Watermark alignment across parallel workers, at the coordinator: each worker reports, per
 * alignment group, its slowest active member (`report`), and the relay tells every other worker
 * the minimum over the workers other than itself (only when that value changed), which the
 * worker's `AlignmentGroup` combines with its own members (`setRemote`).
 */

/** Relays the alignment groups' minima between `workers` workers. */
export class AlignmentRelay {
  /** Per group: each worker's last reported minimum (−∞ until it reports: nothing read yet; +∞: none active). */
  private readonly minima = new Map<string, number[]>();
  /** Per group: what each worker was last told (−∞ at first, as each worker assumes for the others). */
  private readonly told = new Map<string, number[]>();

  constructor(
    private readonly workers: number,
    /** Tells worker `to` the other workers' slowest active member of `group`. */
    private readonly tell: (to: number, group: string, minimum: number) => void,
  ) {}

  /**
   * Worker `from`'s slowest active member of `group` is now `minimum`: tells the others what
   * changed for them.
   *
   * @example
   * relay.report(1, 'replay', 1_700_000_000_000);
   */
  report(from: number, group: string, minimum: number): void {
    let m = this.minima.get(group);
    if (m === undefined) {
      m = new Array<number>(this.workers).fill(-Infinity);
      this.minima.set(group, m);
      this.told.set(group, new Array<number>(this.workers).fill(-Infinity));
    }
    m[from] = minimum;
    for (let to = 0; to < this.workers; to++) if (to !== from) this.update(to, group);
  }

  /** Tells worker `to` every group's current minimum over the others (e.g. once it can listen). */
  catchUp(to: number): void {
    for (const group of this.minima.keys()) this.update(to, group);
  }

  private update(to: number, group: string): void {
    const m = this.minima.get(group) as number[];
    let min = Infinity;
    for (let w = 0; w < this.workers; w++) if (w !== to && (m[w] as number) < min) min = m[w] as number;
    const told = this.told.get(group) as number[];
    if (told[to] === min) return;
    told[to] = min;
    this.tell(to, group, min);
  }
}
