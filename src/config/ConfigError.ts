/** Moved to src/errors/ConfigError.ts (tls/ and spool/ import it without importing config); kept for branches in flight. */
export * from '../errors/ConfigError.ts';
