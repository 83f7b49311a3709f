/**
 * A TCP relay on the host between the guest's gateway and the guest's broker (gateway → 10.0.2.2:tap → host →
 * hostfwd → Mosquitto in the guest) that reads both directions with mqtt-packet and records, for every seq, when
 * the gateway sent its PUBACK. That record lives on the host, so it survives the power cut, and it separates what
 * the gateway acknowledged (its promise) from what the broker acknowledged to the publisher but had not yet
 * delivered (Mosquitto's own window: it PUBACKs from RAM).
 */
import net from 'node:net';
import mqttPacket from 'mqtt-packet';

export class MqttTap {
  readonly #brokerPort: number;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  /** seq → first time (ms, host clock) the gateway acknowledged it. */
  readonly gatewayAckedAt = new Map<number, number>();
  connections = 0;
  port = 0;

  constructor(brokerPort: number) {
    this.#brokerPort = brokerPort;
    this.#server = net.createServer((gateway) => this.#relay(gateway));
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.port = port;
        resolve();
      });
    });
  }

  #relay(gateway: net.Socket): void {
    this.connections++;
    const broker = net.connect(this.#brokerPort, '127.0.0.1');
    this.#sockets.add(gateway).add(broker);
    // Packet ids are per connection: the broker's PUBLISH ids, answered by the gateway's PUBACKs.
    const seqById = new Map<number, number>();
    const down = mqttPacket.parser({ protocolVersion: 5 });
    const up = mqttPacket.parser({ protocolVersion: 5 });
    down.on('packet', (p) => {
      if (p.cmd !== 'publish' || !p.qos || p.messageId === undefined) return;
      const seq = /"seq":(\d+)/.exec(p.payload.toString())?.[1];
      if (seq !== undefined) seqById.set(p.messageId, Number(seq));
    });
    up.on('packet', (p) => {
      if (p.cmd !== 'puback' || p.messageId === undefined) return;
      const seq = seqById.get(p.messageId);
      if (seq === undefined) return;
      seqById.delete(p.messageId);
      if (!this.gatewayAckedAt.has(seq)) this.gatewayAckedAt.set(seq, Date.now());
    });
    // A parse error only stops the bookkeeping, never the relay.
    down.on('error', () => {});
    up.on('error', () => {});
    broker.on('data', (d: Buffer) => {
      down.parse(d);
      gateway.write(d);
    });
    gateway.on('data', (d: Buffer) => {
      up.parse(d);
      broker.write(d);
    });
    const close = () => {
      gateway.destroy();
      broker.destroy();
      this.#sockets.delete(gateway);
      this.#sockets.delete(broker);
    };
    for (const s of [gateway, broker]) {
      s.on('error', close);
      s.on('close', close);
    }
  }

  /** Drops every relayed connection (the VM is gone; the host side must not linger). */
  dropAll(): void {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }

  close(): Promise<void> {
    this.dropAll();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
