import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectAsync, type MqttClient } from 'mqtt';
import { startServers, startFaultyHttp, connectPublisher, waitFor } from '../harness/index.ts';
import type { FaultyHttpServer, Publisher, Servers } from '../harness/index.ts';
import { GatewayProcess } from './support/GatewayProcess.ts';

interface DeadRecord {
  reason: string;
  detail: string;
  topic: string;
  payload: string;
}

/**
 * One bad point among a batch, end to end: the InfluxDB stand-in answers 400 (as InfluxDB 2 does for a line it
 * cannot take) for any body holding the marker; the gateway writes the other points, rejects that one alone and
 * publishes it to the dead-letter topic with the server's message. VictoriaMetrics never refuses a line, hence the
 * scripted server.
 */
describe('a bad point the InfluxDB server refuses costs only itself (real broker, real Redis)', () => {
  let servers: Servers;
  let http: FaultyHttpServer;
  let gw: GatewayProcess;
  let pub: Publisher;
  let sub: MqttClient;
  const records: DeadRecord[] = [];

  before(async () => {
    servers = await startServers();
    http = await startFaultyHttp({
      judge: (lines) => {
        const bad = lines.find((l) => l.includes('device=MARKER'));
        return bad === undefined
          ? undefined
          : { status: 400, body: JSON.stringify({ code: 'invalid', message: `unable to parse '${bad}': bad` }) };
      },
    });
    gw = await GatewayProcess.start({
      env: {
        ...servers.env,
        EDGEBRIDGE_INFLUX_URL: http.url,
        EDGEBRIDGE_GATEWAY_ID: 'gw-bad',
        EDGEBRIDGE_INFLUX_TOKEN: 't',
        EDGEBRIDGE_INFLUX_ORG: 'o',
        EDGEBRIDGE_INFLUX_BUCKET: 'b',
      },
    });
    sub = await connectAsync(servers.mq.url, { clientId: 'bad-watch', clean: true });
    sub.on('message', (_topic, payload) => records.push(JSON.parse(payload.toString('utf8')) as DeadRecord));
    await sub.subscribeAsync('edgebridge/gw-bad/deadletter', { qos: 0 });
    pub = await connectPublisher(servers.mq.url);
  });

  after(async () => {
    await pub?.end(true);
    await sub?.endAsync(true);
    await gw?.stop();
    await http?.close();
    await servers?.destroy();
  });

  it('49 points written, the marked one rejected, counted and dead-lettered with the server message', async () => {
    for (let i = 0; i < 50; i++) await pub.publish(`sensors/${i === 23 ? 'MARKER' : `d${i}`}/climate`, `{"t": ${i}}`, 1);
    const metric = (text: string, name: string) => Number(new RegExp(`${name}\\{sink="influx"\\} (\\d+)`).exec(text)?.[1] ?? -1);
    await waitFor(
      async () => {
        const m = await (await gw.get('/metrics')).text();
        return metric(m, 'edgebridge_sink_points_written_total') + metric(m, 'edgebridge_sink_points_rejected_total') >= 50;
      },
      { timeoutMs: 30_000 },
    );
    const m = await (await gw.get('/metrics')).text();
    assert.equal(metric(m, 'edgebridge_sink_points_written_total'), 49);
    assert.equal(metric(m, 'edgebridge_sink_points_rejected_total'), 1);
    assert.equal(metric(m, 'edgebridge_sink_points_rejected_unisolated_total'), 0);
    const accepted = http
      .writeRequests()
      .filter((q) => q.response.status === 204)
      .flatMap((q) => q.lines);
    assert.equal(accepted.length, 49);
    assert.ok(!accepted.some((l) => l.includes('MARKER')));
    await waitFor(() => records.length >= 1, { timeoutMs: 10_000 });
    const [dead] = records;
    assert.equal(dead!.reason, 'sink_rejected');
    assert.equal(dead!.topic, 'sink:influx');
    assert.match(dead!.payload, /^climate,device=MARKER/);
    assert.match(dead!.detail, /400.*unable to parse/);
  });
});
