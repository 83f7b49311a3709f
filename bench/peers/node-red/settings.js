/**
 * Node-RED settings for the bench's peer run (bench/peers/node-red/README.md). Everything not set here is
 * Node-RED's default. The bench passes the ports and addresses in the environment; flows.json is this
 * directory's flow.json copied into a temporary userDir.
 */
module.exports = {
  uiHost: '127.0.0.1',
  uiPort: Number(process.env.EB_NODERED_PORT || 1880),
  flowFile: 'flows.json',
  // The only credential is the InfluxDB token (VictoriaMetrics ignores it), written in plain text by the bench.
  credentialSecret: false,
  flowFilePretty: true,
  // Headless, as on a locked-down edge device: no editor or admin API, no HTTP-in endpoints. This only makes
  // Node-RED lighter than a default install, so the comparison does not favour the gateway.
  httpAdminRoot: false,
  httpNodeRoot: false,
  diagnostics: { enabled: false, ui: false },
  runtimeState: { enabled: false, ui: false },
  telemetry: { enabled: false },
  externalModules: { autoInstall: false },
  functionExternalModules: false,
  exportGlobalContextKeys: false,
  logging: { console: { level: 'info', metrics: false, audit: false } },
};
