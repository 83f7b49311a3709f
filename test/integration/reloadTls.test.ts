import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import {
  connectPublisher,
  createTestPki,
  freePort,
  redisTlsArgs,
  startMosquitto,
  startRedis,
  startVictoriaMetrics,
  waitFor,
} from '../harness/index.ts';
import type { MosquittoHandle, Publisher, RedisHandle, TestPki, VictoriaMetricsHandle } from '../harness/index.ts';
import { GatewayProcess } from './support/GatewayProcess.ts';
import { SequencedLoad, missing } from './support/sequencedLoad.ts';

interface ConfigStatus {
  config: { generation: number; lastReloadError: { result: string; message: string } | null };
}

/**
 * TLS material renewed under the same paths and applied by a reload (SIGHUP), against real servers over TLS:
 * Mosquitto requiring client certificates (the certificate's CN is the user name it logs), Redis requiring them.
 * Two PKIs: "old" (what the gateway starts with) and "new" (the renewal); the servers trust both client CAs until
 * the test removes the old one, after which only the renewed material can connect.
 */
describe('reload: TLS files renewed in place', () => {
  let oldPki: TestPki;
  let newPki: TestPki;
  /** Its CA is trusted by no server here. */
  let strangerPki: TestPki;
  let vm: VictoriaMetricsHandle;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-reload-tls-'));
  const file = path.join(dir, 'edgebridge.json');
  /** The gateway's TLS files: renewed in place by the test, as certbot or a PKI agent would. */
  const gwFiles = { ca: path.join(dir, 'gw-ca.pem'), cert: path.join(dir, 'gw-client.crt'), key: path.join(dir, 'gw-client.key') };
  const gateways: GatewayProcess[] = [];
  const closers: (() => Promise<unknown>)[] = [];

  const bundle = (to: string, ...cas: string[]): string => {
    fs.writeFileSync(to, cas.map((c) => fs.readFileSync(c, 'utf8')).join(''));
    fs.chmodSync(to, 0o644);
    return to;
  };
  const install = (pki: TestPki, ca = pki.caFile): void => {
    fs.copyFileSync(ca, gwFiles.ca);
    fs.copyFileSync(pki.client.cert, gwFiles.cert);
    fs.copyFileSync(pki.client.key, gwFiles.key);
  };
  const status = async (g: GatewayProcess): Promise<ConfigStatus> => (await g.status()) as unknown as ConfigStatus;
  /** SIGHUP, then the reload's outcome line (applied or refused). */
  const reload = async (g: GatewayProcess): Promise<Record<string, unknown>> => {
    const seen = g.logs().length;
    g.signal('SIGHUP');
    return waitFor(
      () =>
        g
          .logs()
          .slice(seen)
          .find((l) => /^(configuration reloaded|reload refused|reload: configuration unchanged)/.test(String(l.msg))),
      { timeoutMs: 20_000, intervalMs: 50, message: () => `no reload outcome; log: ${g.stdout.slice(-3000)}` },
    );
  };

  /** A broken file where `file` was, then SIGHUP: the outcome. */
  const reloadBroken = (g: GatewayProcess, at: string): Promise<Record<string, unknown>> => {
    fs.writeFileSync(at, 'not PEM\n');
    return reload(g);
  };
  /** QoS 1 sequence numbers flowing through `pub`, once the sink has written some (stopped, then `pub` ended, in after). */
  const loadFlowing = async (g: GatewayProcess, pub: Publisher, sink: string, measurement: string): Promise<SequencedLoad> => {
    const load = new SequencedLoad(pub, { devices: 3, intervalMs: 2, measurement });
    closers.push(async () => {
      await load.stop();
      await pub.end(true);
    });
    load.start();
    await waitFor(async () => (await g.sink(sink)).pointsWritten > 50, { timeoutMs: 10_000 });
    return load;
  };

  before(async () => {
    oldPki = createTestPki({ clientName: 'gw-old' });
    newPki = createTestPki({ clientName: 'gw-new' });
    strangerPki = createTestPki({ clientName: 'gw-stranger' });
    vm = await startVictoriaMetrics();
  });

  after(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    for (const close of closers) await close().catch(() => {});
    await vm?.destroy();
    oldPki?.destroy();
    newPki?.destroy();
    strangerPki?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // With 2 connections (a share group): each reconnects in turn, the group is never without a member.
  for (const connections of [1, 2])
    it(`MQTT, ${connections} connection(s): a broken file is refused naming it; a renewed client certificate and CA reconnect at once with them, the session kept, nothing lost`, async (t: TestContext) => {
      const measurement = `tlsseq${connections}`;
      const clientIds = connections === 1 ? ['gw-tls-reload'] : ['gw-tls-reload-0', 'gw-tls-reload-1'];
      /** Every connection of the gateway has connected with the certificate whose CN is `cn` (the broker's log says). */
      const connectedAs = (cn: string): boolean => clientIds.every((id) => new RegExp(`as ${id} .*u'${cn}'`).test(brokerLog()));
      // The broker's files, in a directory of ours so they can be replaced before its restart.
      const brokerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-reload-tls-broker-'));
      fs.chmodSync(brokerDir, 0o755);
      closers.push(async () => fs.rmSync(brokerDir, { recursive: true, force: true }));
      const broker = {
        ca: path.join(brokerDir, 'clients-ca.pem'),
        cert: path.join(brokerDir, 'server.crt'),
        key: path.join(brokerDir, 'server.key'),
      };
      bundle(broker.ca, oldPki.caFile, newPki.caFile);
      fs.copyFileSync(oldPki.server.cert, broker.cert);
      fs.copyFileSync(oldPki.server.key, broker.key);
      for (const f of [broker.cert, broker.key]) fs.chmodSync(f, 0o644);
      const mq: MosquittoHandle = await startMosquitto({
        persistence: true,
        // A log file of its own: Mosquitto flushes it per line (its stdout, the harness's log, is block-buffered).
        extraConfig: [`log_dest file ${path.join(brokerDir, 'broker.log')}`],
        tls: { caFile: broker.ca, certFile: broker.cert, keyFile: broker.key, requireCertificate: true, useIdentityAsUsername: true },
      });
      closers.push(() => mq.destroy());
      const brokerLog = (): string => fs.readFileSync(path.join(brokerDir, 'broker.log'), 'utf8');

      install(oldPki);
      fs.writeFileSync(file, JSON.stringify({ mqtt: { subscriptions: [{ topic: 'sensors/#', qos: 1 }] } }));
      const g = await GatewayProcess.start({
        env: {
          EDGEBRIDGE_MQTT_URL: mq.url,
          EDGEBRIDGE_MQTT_CLIENT_ID: 'gw-tls-reload',
          EDGEBRIDGE_MQTT_CONNECTIONS: String(connections),
          EDGEBRIDGE_MQTT_TLS_CA_FILE: gwFiles.ca,
          EDGEBRIDGE_MQTT_TLS_CERT_FILE: gwFiles.cert,
          EDGEBRIDGE_MQTT_TLS_KEY_FILE: gwFiles.key,
          EDGEBRIDGE_MQTT_RECONNECT_MIN_MS: '200',
          EDGEBRIDGE_INFLUX_URL: vm.url,
          EDGEBRIDGE_REDIS_ENABLED: 'false',
        },
        args: ['--config', file],
      });
      gateways.push(g);
      await waitFor(() => connectedAs('gw-old'), { timeoutMs: 10_000, message: () => brokerLog() });

      // The test's publisher: a client of the new PKI (the broker trusts both), trusting the old server certificate.
      const pub: Publisher = await connectPublisher(mq.url, {
        ca: fs.readFileSync(oldPki.caFile),
        cert: fs.readFileSync(newPki.client.cert),
        key: fs.readFileSync(newPki.client.key),
        clientId: `test-publisher-${connections}`,
      });
      const load = await loadFlowing(g, pub, 'influx', measurement);

      // 1. A broken certificate file: refused (invalid), naming the key and the file; the connection goes on.
      const broken = await reloadBroken(g, gwFiles.cert);
      assert.equal(broken.msg, 'reload refused: the running configuration goes on unchanged');
      assert.equal(broken.result, 'invalid');
      assert.match(String(broken.err), /mqtt\.tls\.certFile/);
      assert.ok(String(broken.err).includes(gwFiles.cert), `names the file: ${broken.err}`);
      let st = await g.status();
      assert.equal((st as unknown as ConfigStatus).config.generation, 1);
      assert.equal(st.mqtt.connected, true);
      assert.equal(st.mqtt.connects, connections, 'the running connections were not touched');
      assert.match(await (await g.get('/metrics')).text(), /^edgebridge_config_reloads_total\{result="invalid"\} 1$/m);

      // 2. Renewed: a client certificate of the new PKI, and a CA bundle with both CAs (a CA rollover).
      install(newPki, bundle(path.join(dir, 'rollover.pem'), oldPki.caFile, newPki.caFile));
      const started = Date.now();
      const applied = await reload(g);
      const reloadMs = Date.now() - started;
      assert.equal(applied.msg, 'configuration reloaded: mqtt.tls (renewed: caFile, certFile, keyFile)', JSON.stringify(applied));
      await waitFor(() => connectedAs('gw-new'), { timeoutMs: 10_000, message: () => brokerLog() });
      st = await g.status();
      assert.equal((st as unknown as ConfigStatus).config.generation, 2);
      assert.equal(st.mqtt.connected, true);
      assert.equal(st.mqtt.connects, 2 * connections, 'one reconnect each, with the renewed material');
      assert.equal(st.mqtt.sessionsLost, 0, 'the broker resumed the session');
      assert.ok(
        g.logs().some((l) => l.msg === 'reload: mqtt reconnected with the renewed TLS material'),
        'the reload waited for the reconnect and said so',
      );
      await new Promise((r) => setTimeout(r, 300)); // traffic on the renewed connection

      const sent = await load.stop();
      await waitFor(async () => (await g.status()).messages.received >= sent && (await g.sink('influx')).backlog.points === 0, {
        timeoutMs: 20_000,
      });
      const series = await vm.waitForSeries(`${measurement}_seq`, (s) => new Set(s.flatMap((x) => x.values)).size >= sent, 20_000);
      const values = series.flatMap((s) => s.values);
      st = await g.status();
      const figures = {
        sent,
        received: st.messages.received,
        redelivered: st.messages.received - sent,
        points: values.length,
        distinct: new Set(values).size,
        missing: missing(values, sent).length,
        reloadMs,
      };
      t.diagnostic(`MQTT TLS renewal under load, ${connections} connection(s): ${JSON.stringify(figures)}`);
      assert.deepEqual(missing(values, sent), [], 'every seq landed (at least once: the broker redelivers what was in flight)');

      // 3. The old CA removed at the broker, and its server certificate renewed from the new CA: only the renewed
      //    material (the new client certificate, the bundle with the new CA) can connect now.
      bundle(broker.ca, newPki.caFile);
      fs.copyFileSync(newPki.server.cert, broker.cert);
      fs.copyFileSync(newPki.server.key, broker.key);
      await mq.restart();
      await waitFor(async () => (await g.status()).mqtt.connects >= 3 * connections && (await g.status()).mqtt.connected, {
        timeoutMs: 15_000,
        message: () => `not reconnected to the broker without the old CA; log: ${g.stdout.slice(-2000)}`,
      });
      const after = await connectPublisher(mq.url, {
        ca: fs.readFileSync(newPki.caFile),
        cert: fs.readFileSync(newPki.client.cert),
        key: fs.readFileSync(newPki.client.key),
        clientId: `test-publisher-after-${connections}`,
      });
      closers.push(() => after.end(true));
      await after.publish(`sensors/after/${measurement}`, JSON.stringify({ seq: 1_000_000 }), 1);
      await vm.waitForSeries(`${measurement}_seq`, (s) => s.some((x) => x.values.includes(1_000_000)), 15_000);
      assert.equal((await g.status()).mqtt.sessionsLost, 0);
      const exit = await g.stop();
      assert.equal(exit.code, 0);
    });

  it('Redis: a renewed client certificate is used by the next connection; with the old CA removed at the server, writes go on', async (t: TestContext) => {
    const tlsPort = await freePort();
    const serverCa = bundle(path.join(dir, 'redis-clients-ca.pem'), oldPki.caFile, newPki.caFile);
    const rd: RedisHandle = await startRedis({
      // As redisTlsArgs(oldPki, …), but trusting the client certificates of both PKIs.
      extraArgs: redisTlsArgs(oldPki, tlsPort, 'yes').map((a) => (a === oldPki.caFile ? serverCa : a)),
    });
    closers.push(() => rd.destroy());
    const admin = new Redis(rd.url);
    closers.push(async () => admin.disconnect());
    const mq = await startMosquitto();
    closers.push(() => mq.destroy());

    install(oldPki);
    fs.writeFileSync(file, JSON.stringify({}));
    const g = await GatewayProcess.start({
      env: {
        EDGEBRIDGE_MQTT_URL: mq.url,
        EDGEBRIDGE_INFLUX_ENABLED: 'false',
        EDGEBRIDGE_REDIS_URL: `rediss://127.0.0.1:${tlsPort}`,
        EDGEBRIDGE_REDIS_TLS_CA_FILE: gwFiles.ca,
        EDGEBRIDGE_REDIS_TLS_CERT_FILE: gwFiles.cert,
        EDGEBRIDGE_REDIS_TLS_KEY_FILE: gwFiles.key,
      },
      args: ['--config', file],
    });
    gateways.push(g);
    const load = await loadFlowing(g, await connectPublisher(mq.url), 'redis', 'rtlsseq');

    const broken = await reloadBroken(g, gwFiles.key);
    assert.equal(broken.result, 'invalid');
    assert.match(String(broken.err), /sinks\.redis\.tls\.keyFile/);

    // A certificate from a CA the server does not trust: the new client's handshake is refused, the old one goes on.
    install(strangerPki, oldPki.caFile);
    const refused = await reload(g);
    assert.equal(refused.result, 'failed', JSON.stringify(refused));
    assert.match(
      String(refused.err),
      /sinks\.redis\.tls: the renewed TLS material was not accepted \(TLS: .*\); the running connection goes on/,
    );
    t.diagnostic(`refused renewal: ${String(refused.err)}`);
    const before = (await g.sink('redis')).pointsWritten;
    await waitFor(async () => (await g.sink('redis')).pointsWritten > before + 20, { timeoutMs: 10_000 });

    install(newPki, oldPki.caFile); // the server's certificate is still the old CA's
    const applied = await reload(g);
    assert.equal(applied.msg, 'configuration reloaded: sinks.redis.tls (renewed: certFile, keyFile)', JSON.stringify(applied));
    assert.equal((await status(g)).config.generation, 2);
    assert.ok(g.logs().some((l) => l.msg === 'redis: renewed TLS material in use for the next writes'));

    // The old client CA removed at the server (new connections only), and every connection dropped: only the
    // renewed certificate can come back.
    await admin.call('CONFIG', 'SET', 'tls-ca-cert-file', newPki.caFile);
    await admin.call('CLIENT', 'KILL', 'TYPE', 'normal');
    const written = (await g.sink('redis')).pointsWritten;
    await waitFor(async () => (await g.sink('redis')).pointsWritten > written + 50, {
      timeoutMs: 15_000,
      message: () => `no writes with the renewed certificate; log: ${g.stdout.slice(-2000)}`,
    });
    const sent = await load.stop();
    await waitFor(async () => (await g.sink('redis')).backlog.points === 0, { timeoutMs: 20_000 });
    const stream = await admin.xrange('eb:stream:{rtlsseq}', '-', '+');
    const inRedis = stream.map(([, f]) => Number(f[f.indexOf('seq') + 1]));
    t.diagnostic(`Redis TLS renewal under load: ${JSON.stringify({ sent, entries: inRedis.length, distinct: new Set(inRedis).size })}`);
    assert.deepEqual(missing(inRedis, sent), [], 'every seq in the stream');
    assert.equal(inRedis.length, sent, 'none twice (a write in flight finished on the old connection)');
    const exit = await g.stop();
    assert.equal(exit.code, 0);
  });
});
