/**
 * The ceiling: a bare mqtt.js subscriber that only counts, run as a child process (`fork`) so its CPU can be read
 * from /proc/<pid>/stat. Same client library and protocol as the gateway (MQTT 5; for QoS 1 a persistent session,
 * clean:false, like the gateway's default).
 *
 *   argv[2] = JSON SubscriberConfig. IPC: → {type:'ready'} once subscribed; → {type:'done', ...} when `expected`
 *   messages arrived or on ← {type:'finish'}.
 */
import { connectAsync } from 'mqtt';

export interface SubscriberConfig {
  url: string;
  topic: string;
  qos: 0 | 1;
  expected: number;
  clientId: string;
}

export type SubscriberMessage =
  | { type: 'ready' }
  | { type: 'done'; count: number; firstAt: number; lastAt: number }
  | { type: 'error'; message: string };

async function main(config: SubscriberConfig): Promise<void> {
  const send = (m: SubscriberMessage): void => {
    process.send?.(m);
  };
  const persistent = config.qos > 0;
  const client = await connectAsync(config.url, {
    clientId: config.clientId,
    clean: !persistent,
    protocolVersion: 5,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...(persistent ? { properties: { sessionExpiryInterval: 3600 } } : {}),
  });
  let count = 0;
  let firstAt = 0;
  let lastAt = 0;
  let finished = false;
  const finish = async (): Promise<void> => {
    if (finished) return;
    finished = true;
    send({ type: 'done', count, firstAt, lastAt });
    // Leave no subscribed session behind that the broker would keep queueing for.
    await client.unsubscribeAsync(config.topic).catch(() => undefined);
    await client.endAsync().catch(() => undefined);
    process.disconnect?.();
  };
  client.on('message', () => {
    const now = Date.now();
    if (count === 0) firstAt = now;
    count++;
    lastAt = now;
    if (count >= config.expected) void finish();
  });
  process.on('message', (m: { type: string }) => {
    if (m.type === 'finish') void finish();
  });
  await client.subscribeAsync(config.topic, { qos: config.qos });
  send({ type: 'ready' });
}

if (import.meta.main) {
  main(JSON.parse(process.argv[2] ?? '{}') as SubscriberConfig).catch((err: unknown) => {
    process.send?.({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
}
