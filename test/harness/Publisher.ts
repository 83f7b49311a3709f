import { connectAsync } from 'mqtt';
import type { IClientOptions, IClientPublishOptions, MqttClient } from 'mqtt';

export type QoS = 0 | 1 | 2;

export interface OutgoingMessage {
  topic: string;
  payload: string | Buffer;
  qos?: QoS;
  retain?: boolean;
}

export interface PublishManyOptions {
  /** Default QoS for messages that name none (default 1). */
  qos?: QoS;
  /** How many publishes may be unacknowledged at once (default 200). */
  window?: number;
}

export interface Publisher {
  readonly client: MqttClient;
  /** Resolves when the broker acknowledged it (QoS 1/2) or the packet was written (QoS 0). */
  publish(topic: string, payload: string | Buffer, qos?: QoS, opts?: Omit<IClientPublishOptions, 'qos'>): Promise<void>;
  /** Publish all messages, at most `window` in flight; resolves when every one is done. */
  publishMany(messages: Iterable<OutgoingMessage>, opts?: PublishManyOptions): Promise<number>;
  /** Disconnect (after in-flight messages are done, unless force). */
  end(force?: boolean): Promise<void>;
}

/**
 * A test-side MQTT publisher (mqtt.js v5). It fails fast instead of retrying when the broker is
 * unreachable (reconnectPeriod 0 unless given).
 */
export async function connectPublisher(url: string, opts: IClientOptions = {}): Promise<Publisher> {
  const client = await connectAsync(
    url,
    {
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      clientId: `edgebridge-test-pub-${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
      ...opts,
    },
    false,
  );
  if (!client.connected) throw new Error(`connectPublisher: could not connect to ${url}`);

  const publish = async (
    topic: string,
    payload: string | Buffer,
    qos: QoS = 1,
    extra: Omit<IClientPublishOptions, 'qos'> = {},
  ): Promise<void> => {
    await client.publishAsync(topic, payload, { ...extra, qos });
  };

  const publishMany = async (messages: Iterable<OutgoingMessage>, manyOpts: PublishManyOptions = {}): Promise<number> => {
    const window = Math.max(1, manyOpts.window ?? 200);
    const defaultQos = manyOpts.qos ?? 1;
    const inFlight = new Set<Promise<void>>();
    let count = 0;
    let failure: unknown;
    for (const m of messages) {
      if (failure !== undefined) break;
      const p: Promise<void> = publish(m.topic, m.payload, m.qos ?? defaultQos, { retain: m.retain ?? false })
        .catch((err: unknown) => {
          failure ??= err;
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      count++;
      if (inFlight.size >= window) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    return count;
  };

  return {
    client,
    publish,
    publishMany,
    end: (force = false) => client.endAsync(force),
  };
}
