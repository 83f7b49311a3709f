// Moved to the harness (one gateway-process wrapper for tests, bench and scripts); kept for existing imports.
export { GatewayProcess, nodeCommand } from '../../harness/GatewayProcess.ts';
export type { GatewayProcessOptions, GatewayStatus } from '../../harness/GatewayProcess.ts';
