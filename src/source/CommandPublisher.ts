import type { MqttClient } from 'mqtt';

/**
 * Publishes the gateway's own commands to devices (Sparkplug Rebirth requests) on the source's broker connection,
 * QoS 0 and not retained, as Sparkplug 3.0 asks of NCMD. Never queues: while disconnected a command is refused
 * (the caller counts it) rather than sent late, when the node may have been born again meanwhile.
 */
export class CommandPublisher {
  #client: MqttClient | undefined;

  /** The MQTT client to publish with (MqttSource passes its own once it has one). */
  attach(client: MqttClient): void {
    this.#client = client;
  }

  /** False when not connected (nothing is sent). */
  publish(topic: string, payload: Buffer): boolean {
    const client = this.#client;
    if (client === undefined || !client.connected) return false;
    client.publish(topic, payload, { qos: 0, retain: false });
    return true;
  }
}
