/**
 * Limits on untrusted input shared by every decoder: the per-record size limit
 * (`maxRecordBytes`, default 1 MiB) and the nesting limit (`maxDepth`, default 256), with their
 * eager validation (errors name the factory).
 */
import { PlanError } from '../../engine/errors.js';

/** Default per-record size limit: 1 MiB. A larger record becomes a dead letter. */
export const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;

/** Default nesting limit of decoded documents (arrays and objects inside each other). */
export const DEFAULT_MAX_DEPTH = 256;

/** Limits every decoder enforces on one record. */
export interface DecodeLimits {
  /** Largest accepted record, in bytes of its encoded form (default 1 MiB). */
  readonly maxRecordBytes?: number;
  /** Deepest accepted nesting of arrays/objects (default 256). */
  readonly maxDepth?: number;
}

/** `DecodeLimits` with defaults applied. */
export interface ResolvedLimits {
  readonly maxRecordBytes: number;
  readonly maxDepth: number;
}

/**
 * Validates limits eagerly and applies the defaults; `factory` names the caller in errors.
 *
 * @example
 * const limits = resolveLimits('tidemark.fromJsonLines', { maxRecordBytes: 4096 });
 */
export function resolveLimits(factory: string, options: DecodeLimits): ResolvedLimits {
  return {
    maxRecordBytes: positiveInteger(factory, 'maxRecordBytes', options.maxRecordBytes, DEFAULT_MAX_RECORD_BYTES),
    maxDepth: positiveInteger(factory, 'maxDepth', options.maxDepth, DEFAULT_MAX_DEPTH),
  };
}

/** `value` if it is a positive safe integer, `fallback` if undefined; otherwise a PlanError. */
export function positiveInteger(factory: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new PlanError(`${factory}: ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}
