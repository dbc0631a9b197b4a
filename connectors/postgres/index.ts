/**
 * PostgreSQL: `toPostgres` — window results upserted per (key, window) with retractions applied,
 * or records appended.
 */
export { toPostgres, type ToPostgresAppendOptions, type ToPostgresWindowsOptions } from './to-postgres.js';
export { PostgresError } from './errors.js';
export { keyText, type TableName } from './sql.js';
