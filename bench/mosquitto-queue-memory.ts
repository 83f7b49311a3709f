/**
 * Mosquitto's memory per message queued for an offline persistent session (what a gateway outage, or a dead
 * member of a share group, costs the broker): a private Mosquitto, a QoS 1 subscriber with a persistent session
 * that disconnects, N QoS 1 messages of the bench's payload size published meanwhile; the broker's RSS
 * (/proc/<pid>/status) before and after. For the sizing guide (docs/sizing.md).
 *
 *   node bench/mosquitto-queue-memory.ts [--messages 100000]
 */
import { parseArgs } from 'node:util';
import mqtt, { connectAsync } from 'mqtt';
import { connectPublisher, rssBytes, startMosquitto } from '../test/harness/index.ts';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '100000' } } });
const N = Number(values.messages);
const rssKb = (pid: number): number => rssBytes(pid) / 1024;

const mq = await startMosquitto();
try {
  const sub = await connectAsync(mq.url, {
    clientId: 'queue-probe',
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 3600 },
    reconnectPeriod: 0,
  });
  await sub.subscribeAsync('sensors/#', { qos: 1 });
  await sub.endAsync();
  const before = rssKb(mq.pid!);
  const pub = await connectPublisher(mq.url);
  const start = Date.now();
  function* messages() {
    for (let i = 0; i < N; i++) {
      const payload = JSON.stringify({ t: 21.37, h: 44.12, p: 1013.2, ts: start + i });
      yield { topic: `sensors/dev${i % 100}/climate`, payload, qos: 1 as const };
    }
  }
  await pub.publishMany(messages(), { window: 500 });
  await pub.end();
  await new Promise((r) => setTimeout(r, 500));
  const after = rssKb(mq.pid!);
  // Check that the session really held them: reconnect and count what is delivered.
  let delivered = 0;
  const back = mqtt.connect(mq.url, {
    clientId: 'queue-probe',
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 0 },
    reconnectPeriod: 0,
  });
  back.on('message', () => delivered++);
  const deadline = Date.now() + 30_000;
  while (delivered < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await back.endAsync();
  const perMessage = ((after - before) * 1024) / N;
  const payloadBytes = JSON.stringify({ t: 21.37, h: 44.12, p: 1013.2, ts: start }).length;
  console.log(
    `mosquitto: ${N} QoS 1 messages (${payloadBytes} B payload, ~22 B topic) queued for one offline session: ` +
      `RSS ${(before / 1024).toFixed(1)} → ${(after / 1024).toFixed(1)} MB, ${perMessage.toFixed(0)} B per queued message; ` +
      `${delivered} delivered when the session came back`,
  );
  console.log(
    JSON.stringify({
      messages: N,
      payloadBytes,
      rssBeforeKb: before,
      rssAfterKb: after,
      bytesPerQueuedMessage: Math.round(perMessage),
      delivered,
    }),
  );
} finally {
  await mq.destroy();
}
