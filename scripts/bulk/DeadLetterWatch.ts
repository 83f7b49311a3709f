import { connectAsync, type MqttClient } from 'mqtt';

/** Subscribes to the gateway's dead-letter topic and counts the records that arrive, per reason. */
export class DeadLetterWatch {
  readonly byReason: Record<string, number> = {};
  received = 0;
  /** Records that were not the JSON the gateway promises. */
  malformed = 0;
  #client: MqttClient | undefined;

  async start(url: string, topic: string): Promise<void> {
    const client = await connectAsync(url, {
      clientId: `bulk-deadletter-${process.pid}`,
      clean: true,
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    client.on('message', (_topic, payload) => {
      this.received++;
      try {
        const reason = (JSON.parse(payload.toString('utf8')) as { reason?: unknown }).reason;
        if (typeof reason !== 'string') throw new Error('no reason');
        this.byReason[reason] = (this.byReason[reason] ?? 0) + 1;
      } catch {
        this.malformed++;
      }
    });
    await client.subscribeAsync(topic, { qos: 0 });
    this.#client = client;
  }

  async stop(): Promise<void> {
    await this.#client?.endAsync(true);
  }
}
