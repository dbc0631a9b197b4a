/**
 * The injected processing-time clock: the only place in the kernel that reads wall-clock time or
 * schedules real timers. Everything else receives time through this interface, so tests drive
 * processing time by hand ({@link ManualClock}) and never sleep.
 */

/** Cancels a scheduled callback; calling it twice is harmless. */
export type Cancel = () => void;

/**
 * Processing time: `now()` in epoch milliseconds plus timer scheduling. A callback scheduled at
 * `at` runs once the clock reaches `at` (`now() ≥ at`).
 */
export interface Clock {
  /** Current processing time in milliseconds. */
  now(): number;
  /** Runs `callback` once the clock reaches `at`; returns a function that cancels it. */
  schedule(at: number, callback: () => void): Cancel;
  /** True for clocks that follow real time (enables guards such as `maxFutureSkew`). */
  readonly realTime: boolean;
  /**
   * Lets callbacks that are due run (a real-time clock yields to the host's event loop). Sources
   * that answer synchronously call it every few milliseconds, so that timers — checkpoints,
   * processing-time windows, idleness — are not starved by a busy pipeline.
   */
  yieldToTimers?(): Promise<void>;
}

type Immediate = (callback: () => void) => unknown;

/**
 * The system clock: `Date.now()` and `setTimeout`.
 *
 * @example
 * const p = new Pipeline({ clock: new SystemClock() });
 */
export class SystemClock implements Clock {
  readonly realTime = true;
  now(): number {
    return Date.now();
  }
  schedule(at: number, callback: () => void): Cancel {
    const handle = setTimeout(callback, Math.max(0, at - Date.now()));
    // Timers of the clock must not keep a finished process alive.
    (handle as { unref?: () => void }).unref?.();
    return () => clearTimeout(handle);
  }
  yieldToTimers(): Promise<void> {
    // setImmediate where the host has it (Node, Bun): it runs after due timers, without the
    // 1 ms minimum of setTimeout; elsewhere a zero timeout.
    const immediate = (globalThis as { setImmediate?: Immediate }).setImmediate;
    return new Promise((resolve) => {
      if (immediate !== undefined) immediate(resolve);
      else setTimeout(resolve, 0);
    });
  }
}

interface ManualTimer {
  at: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told: `advanceTo(t)` runs, in time order (ties in scheduling
 * order), every callback due by `t`. Used by the harness and by tests.
 *
 * @example
 * const clock = new ManualClock(0);
 * clock.schedule(100, () => console.log('fired'));
 * clock.advanceTo(100); // prints "fired"
 */
export class ManualClock implements Clock {
  readonly realTime = false;
  private time: number;
  private seq = 0;
  private timers: ManualTimer[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  schedule(at: number, callback: () => void): Cancel {
    const timer: ManualTimer = { at, seq: this.seq++, callback, cancelled: false };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Moves the clock to `t` (never backwards), firing every due callback in time order. */
  advanceTo(t: number): void {
    if (t < this.time) return;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const timer of this.timers) {
        if (timer.cancelled || timer.at > t) continue;
        if (next === undefined || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq)) next = timer;
      }
      if (next === undefined) break;
      this.timers = this.timers.filter((x) => x !== next && !x.cancelled);
      if (next.at > this.time) this.time = next.at;
      next.callback();
    }
    this.time = t;
  }

  /** Moves the clock forward by `d` milliseconds. */
  advanceBy(d: number): void {
    this.advanceTo(this.time + d);
  }

  /** Number of callbacks still scheduled. */
  pending(): number {
    return this.timers.filter((x) => !x.cancelled).length;
  }
}
