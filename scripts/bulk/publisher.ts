/**
 * One publisher process of the bulk run (forked, so its CPU does not share the runner's event loop). It publishes
 * the messages `index ≡ slot (mod slots)` of the run with QoS 1 over `connections` connections, at most `window`
 * unacknowledged per connection, and tallies what each message should become.
 *
 *   argv[2] = JSON PublisherConfig. IPC: → {type:'ready'}; ← {type:'start'}; → {type:'done', result}.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { generateMessage } from './generateMessage.ts';
import { count, emptyTally, type Tally } from './Tally.ts';

export interface PublisherConfig {
  url: string;
  seed: number;
  messages: number;
  slot: number;
  slots: number;
  connections: number;
  window: number;
}

export interface PublisherResult {
  expected: Tally;
  acked: number;
  failed: number;
  firstError: string | null;
  /** ms from start to the last acknowledgement. */
  publishMs: number;
}

export type PublisherMessage = { type: 'ready' } | { type: 'done'; result: PublisherResult } | { type: 'error'; message: string };

async function main(config: PublisherConfig): Promise<void> {
  const send = (m: PublisherMessage): void => void process.send?.(m);
  const clients: MqttClient[] = [];
  for (let c = 0; c < config.connections; c++) {
    const client = await connectAsync(config.url, {
      clientId: `bulk-pub-${config.slot}-${c}-${process.pid}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      protocolVersion: 4,
    });
    client.on('error', (err) => send({ type: 'error', message: err.message }));
    clients.push(client);
  }
  await new Promise<void>((resolve) => {
    process.on('message', (m: { type: string }) => {
      if (m.type === 'start') resolve();
    });
    send({ type: 'ready' });
  });

  const expected = emptyTally();
  let next = config.slot;
  let acked = 0;
  let failed = 0;
  let firstError: string | null = null;
  const started = performance.now();
  let lastAck = started;
  const mine = config.messages > config.slot ? Math.ceil((config.messages - config.slot) / config.slots) : 0;
  const inFlight = new Array<number>(config.connections).fill(0);
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const pumping = new Array<boolean>(config.connections).fill(false);

  // Keeps connection `conn`'s window full; called again from each acknowledgement.
  const pump = (conn: number): void => {
    if (pumping[conn]) return;
    pumping[conn] = true;
    while (next < config.messages && inFlight[conn]! < config.window) {
      const m = generateMessage(config.seed, next);
      next += config.slots;
      count(expected, m.kase, m.expect);
      inFlight[conn]!++;
      clients[conn]!.publish(m.topic, m.payload, { qos: 1 }, (err) => {
        inFlight[conn]!--;
        if (err) {
          failed++;
          firstError ??= err.message;
        } else {
          acked++;
        }
        lastAck = performance.now();
        if (acked + failed === mine) finish();
        else pump(conn);
      });
    }
    pumping[conn] = false;
  };
  if (mine === 0) finish();
  for (let c = 0; c < config.connections; c++) pump(c);
  await finished;
  await Promise.all(clients.map((c) => c.endAsync().catch(() => undefined)));
  send({ type: 'done', result: { expected, acked, failed, firstError, publishMs: lastAck - started } });
  process.disconnect?.();
}

if (import.meta.main) {
  main(JSON.parse(process.argv[2] ?? '{}') as PublisherConfig).catch((err: unknown) => {
    process.send?.({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
}
