import type { IClientOptions } from 'mqtt';
import type { MqttConfig } from '../config/Config.ts';
import type { UrlCredentials } from './splitUrlCredentials.ts';

/**
 * mqtt.js's options for the source's client: reconnects and resubscription are the source's own, not mqtt.js's.
 * `will`: a ConnectionPresence's, in place of the status topic's (one Will per connection; the config keeps them apart).
 */
export function clientOptions(c: MqttConfig, fromUrl: UrlCredentials, will?: IClientOptions['will']): IClientOptions {
  const username = c.username !== '' ? c.username : fromUrl.username;
  const password = c.password !== '' ? c.password : fromUrl.password;
  return {
    clientId: c.clientId,
    clean: c.clean,
    protocolVersion: c.protocolVersion,
    keepalive: c.keepalive,
    connectTimeout: c.connectTimeoutMs,
    reconnectPeriod: 0, // reconnects are ours (ReconnectSchedule)
    // mqtt.js traces every packet through `debug`; even disabled that costs a few % of the CPU per message.
    log: noop,
    resubscribe: false, // we subscribe on every connect ourselves
    // mqtt-packet would otherwise pre-build 65 536 two-byte Buffers for packet ids on the first write: 6.8 MB of
    // heap held for the process's life, to save one tiny allocation per PUBACK.
    writeCache: false,
    // CA, client certificate and key as contents, read and checked once when the config was loaded.
    ...c.tls.files,
    ...(username !== '' ? { username } : {}),
    ...(password !== '' ? { password } : {}),
    ...(c.protocolVersion === 5
      ? {
          properties: {
            // The broker may send at most this many QoS 1/2 messages before we acknowledge: it keeps packet ids
            // of a long backlog from wrapping around while messages are unacknowledged.
            receiveMaximum: c.receiveMaximum,
            ...(c.clean ? {} : { sessionExpiryInterval: c.sessionExpirySec }),
          },
        }
      : {}),
    ...(will !== undefined
      ? { will }
      : c.statusTopic !== ''
        ? { will: { topic: c.statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true } }
        : {}),
  };
}

function noop(): void {}
