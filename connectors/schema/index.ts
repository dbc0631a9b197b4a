/**
 * Schema contracts: versioned event schemas with upcasting (`schema`, `validate`, `withSchema`),
 * structural compatibility checks for CI (`checkCompatibility`, `assertCompatible`) and a
 * lint for command-shaped event names (`lintEventNames`).
 */
export { schema, validate, formatIssues, SchemaError, type EventSchema, type LatestOutput, type SchemaIssue, type SchemaOptions, type SchemaResult, type SchemaVersions } from './contract.js';
export { withSchema } from './with-schema.js';
export { checkCompatibility, assertCompatible, type CompatibilityDirection, type CompatibilityIssue, type CompatibilityReport } from './compatibility.js';
export { lintEventNames, type EventNameFinding } from './event-names.js';
export { decodingSource, boundedRaw, type DecodeOutcome, type DecodingOptions } from './decoding-source.js';
