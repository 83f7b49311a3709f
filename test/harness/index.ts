export { freePort } from './freePort.ts';
export {
  PortBusyError,
  ServerProcess,
  httpProbe,
  isProcessAlive,
  liveServerPids,
  resolveBinary,
  tailFile,
  tcpProbe,
} from './ServerProcess.ts';
export type { ExitInfo, ReadyProbe, ServerProcessOptions } from './ServerProcess.ts';
export { mosquittoConfig, startMosquitto } from './Mosquitto.ts';
export type { MosquittoHandle, MosquittoOptions, MosquittoTlsListener } from './Mosquitto.ts';
export { createTestPki } from './certificates.ts';
export type { CertificateFiles, TestPki, TestPkiOptions } from './certificates.ts';
export { redisPingProbe, redisTlsArgs, startRedis } from './Redis.ts';
export type { RedisHandle, RedisOptions } from './Redis.ts';
export { parseExport, startVictoriaMetrics } from './VictoriaMetrics.ts';
export type { ExportedSeries, VictoriaMetricsHandle, VictoriaMetricsOptions } from './VictoriaMetrics.ts';
export { waitFor } from './waitFor.ts';
export type { WaitForOptions } from './waitFor.ts';
export { connectPublisher } from './Publisher.ts';
export type { OutgoingMessage, Publisher, PublishManyOptions, QoS } from './Publisher.ts';
export { startFaultyHttp } from './faultyHttp.ts';
export type { FaultyHttpServer, RecordedRequest, ScriptedResponse } from './faultyHttp.ts';
export { startTokenProxy } from './tokenProxy.ts';
export type { TokenProxy, TokenProxyOptions } from './tokenProxy.ts';
export { startServers } from './startServers.ts';
export type { ServerHandle } from './serverLifecycle.ts';
export type { Servers } from './startServers.ts';
// The gateway under test, its /status, the publisher fleet, /proc, statistics and the scenario runner: shared by
// tests, bench/ and scripts/ (see docs/harness.md).
export { GatewayProcess, nodeCommand } from './GatewayProcess.ts';
export { findBinary } from './findBinary.ts';
export type { GatewayProcessOptions, GatewayStatus } from './GatewayProcess.ts';
export { Fleet, share } from './fleet/Fleet.ts';
export type { FleetOptions, FleetResult } from './fleet/Fleet.ts';
export type { CreateGenerator, FleetChild, FleetMessage, MessageGenerator } from './fleet/MessageGenerator.ts';
export {
  clockTicksPerSecond,
  cpuMicros,
  ioCounters,
  memoryBreakdown,
  peakRssBytes,
  processState,
  rssBytes,
  statusBytes,
  tryProc,
} from './procfs.ts';
export type { IoCounters } from './procfs.ts';
export { median, percentile, round } from './stats.ts';
export { Scenario, runAsMain, withScenario } from './scenario/Scenario.ts';
export type { AckMode } from '../../src/config/Config.ts';
export { unitEnvironment, unitExecStart, unitNodeOptions } from './unitEnvironment.ts';
