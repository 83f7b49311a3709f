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
export type { Servers } from './startServers.ts';
