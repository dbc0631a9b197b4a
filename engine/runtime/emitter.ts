/**
 * The output side shared by sources and operators: three ports (main, late, dead letters), and
 * forwarding of watermarks, idleness and end-of-stream to every edge of every port.
 */
import { UserFunctionError, describeError } from '../errors.js';
import type { Port } from '../plan.js';
import { OutputBuffer, type Edge } from './output-buffer.js';

/** A dead letter: a record rejected as bad input (or by a failing user function), with why. */
export interface DeadLetter<T = unknown> {
  readonly value: T;
  readonly reason: string;
  /** The source or operator that rejected it. */
  readonly operator: string;
  /** The record's event timestamp, when one was known. */
  readonly timestamp?: number;
  /** Where a source found it (file and line, partition and offset…), when the source knows. */
  readonly position?: Readonly<Record<string, unknown>>;
}

/** Base of runtime nodes: ports and downstream forwarding. */
export abstract class Emitter {
  readonly out = new OutputBuffer();
  readonly late = new OutputBuffer();
  readonly dead = new OutputBuffer();
  /** Last watermark forwarded downstream. */
  outWatermark = -Infinity;
  idle = false;
  ended = false;
  deadLettered = 0;

  constructor(readonly name: string, readonly position: string) {}

  /** Named side outputs (`ctx.side(tag)`), created on first use. */
  private readonly sides = new Map<string, OutputBuffer>();

  port(p: Port): OutputBuffer {
    if (p === 'main') return this.out;
    if (p === 'late') return this.late;
    if (p === 'dead') return this.dead;
    return this.side(p.slice(5));
  }

  /** The side output named `tag`. */
  side(tag: string): OutputBuffer {
    let b = this.sides.get(tag);
    if (b === undefined) {
      b = new OutputBuffer();
      this.sides.set(tag, b);
    }
    return b;
  }

  protected flushAll(): void {
    this.out.flush();
    this.late.flush();
    this.dead.flush();
    if (this.sides.size > 0) for (const b of this.sides.values()) b.flush();
  }

  private forEachEdge(f: (e: Edge) => void): void {
    for (const e of this.out.edges) f(e);
    for (const e of this.late.edges) f(e);
    for (const e of this.dead.edges) f(e);
    if (this.sides.size > 0) for (const b of this.sides.values()) for (const e of b.edges) f(e);
  }

  protected forwardWatermark(w: number, trace?: readonly number[]): void {
    this.outWatermark = w;
    this.forEachEdge((e) => e.to.receiveWatermark(w, e.input, trace));
    this.onProgress?.();
  }

  protected forwardIdle(idle: boolean): void {
    if (this.idle === idle) return;
    this.idle = idle;
    this.forEachEdge((e) => e.to.receiveIdle(idle, e.input));
    this.onProgress?.();
  }

  protected forwardEnd(): void {
    this.ended = true;
    this.forEachEdge((e) => e.to.receiveEnd(e.input));
    this.onProgress?.();
  }

  /** Called after the watermark, idleness or end changed (watermark alignment listens). */
  onProgress: (() => void) | undefined;

  /** Routes `value` to the dead-letter port with `reason` (and where it was found, if known). */
  deadLetter(value: unknown, reason: string, timestamp?: number, position?: Readonly<Record<string, unknown>>): void {
    this.deadLettered++;
    const letter: { -readonly [K in keyof DeadLetter]: DeadLetter[K] } = { value, reason, operator: this.name };
    if (timestamp !== undefined) letter.timestamp = timestamp;
    if (position !== undefined) letter.position = position;
    this.dead.emit(letter, timestamp ?? 0);
  }

  /** Builds the error for a user function that failed on a record. */
  userFunctionError(message: string, timestamp: number | undefined, cause?: unknown): UserFunctionError {
    const at = timestamp === undefined ? '' : ` on the record at timestamp ${timestamp}`;
    const why = cause === undefined ? '' : `: ${describeError(cause)}`;
    return new UserFunctionError(
      `${message} in '${this.name}' (${this.position})${at}${why}`,
      this.name,
      this.position,
      timestamp,
      cause === undefined ? undefined : { cause },
    );
  }
}
