import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SessionMarker, type MarkerFs } from '../../../src/source/SessionMarker.ts';
import { SessionWatch, type SessionWatchOptions } from '../../../src/source/SessionWatch.ts';

const BROKER = 'mqtt://broker.local:1883';

function tempMarker(): SessionMarker {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgebridge-session-'));
  return new SessionMarker({ file: path.join(dir, 'mqtt-session.json') });
}

function watch(opts: Partial<SessionWatchOptions> & { clock?: { t: number } } = {}): SessionWatch {
  const clock = opts.clock ?? { t: 0 };
  return new SessionWatch({
    clientId: 'edgebridge-gw',
    broker: BROKER,
    clean: false,
    protocolVersion: 5,
    sessionExpirySec: 3600,
    now: () => clock.t,
    ...opts,
  });
}

/** One run of the gateway: start, connect with this CONNACK, subscribe granted. */
async function run(w: SessionWatch, sessionPresent: boolean) {
  w.start();
  const loss = w.connected(sessionPresent);
  await w.subscribed();
  return loss;
}

describe('SessionWatch: is sessionPresent=false a loss?', () => {
  it('the first connect of a new installation is not; a later reconnect without the session in this process is', () => {
    const clock = { t: 1000 };
    const w = watch({ clock });
    w.start();
    assert.equal(w.connected(false), undefined, 'first connect: no session expected');
    void w.subscribed();
    w.closed();
    clock.t += 4000;
    w.closed(); // a failed attempt: the time the gateway left stays the first close
    clock.t += 1000;
    assert.equal(w.connected(true), undefined, 'the broker kept it');
    w.closed();
    clock.t += 2500;
    assert.deepEqual(w.connected(false), { reason: 'lost', knownFrom: 'this process', awayMs: 2500 });
    assert.equal(w.connected(false), undefined, 'counted once: until a subscribe is granted there is nothing to lose');
  });

  it('a connect before any subscribe was granted has nothing to lose', () => {
    const w = watch();
    w.start();
    w.connected(false);
    w.closed();
    assert.equal(w.connected(false), undefined);
  });

  it('away longer than the MQTT 5 session expiry: expired, not lost', () => {
    const clock = { t: 0 };
    const w = watch({ clock, sessionExpirySec: 60 });
    w.start();
    w.connected(true);
    w.closed();
    clock.t += 61_000;
    assert.equal(w.connected(false)?.reason, 'expired');
    const v3 = watch({ clock, protocolVersion: 4, sessionExpirySec: 60 });
    v3.start();
    v3.connected(true);
    v3.closed();
    clock.t += 61_000;
    assert.equal(v3.connected(false)?.reason, 'lost', 'MQTT 3.1.1 has no expiry in the protocol: the broker lost it');
  });

  it('clean sessions and MQTT 5 session expiry 0 never expect a session', () => {
    for (const opts of [{ clean: true }, { sessionExpirySec: 0 }]) {
      const w = watch(opts);
      w.start();
      w.connected(true);
      void w.subscribed();
      w.closed();
      assert.equal(w.connected(false), undefined, JSON.stringify(opts));
    }
  });

  it('across restarts, through the marker: a loss only with the same client id, broker and a persistent session', async () => {
    const marker = tempMarker();
    assert.equal(await run(watch({ marker }), false), undefined, 'new installation: no marker yet');
    assert.equal(JSON.parse(fs.readFileSync(marker.file, 'utf8')).clientId, 'edgebridge-gw');
    assert.equal(await run(watch({ marker }), true), undefined, 'restart, broker kept the session');
    assert.deepEqual(await run(watch({ marker }), false), { reason: 'lost', knownFrom: 'earlier run', awayMs: undefined });
    assert.equal(await run(watch({ marker, clientId: 'edgebridge-other' }), false), undefined, 'a changed client id starts a new session');
    assert.equal(await run(watch({ marker, clientId: 'edgebridge-gw' }), false), undefined, 'the marker now names the other id');
    assert.equal(await run(watch({ marker, broker: 'mqtt://new-broker:1883' }), false), undefined, 'another broker');
    await run(watch({ marker }), false); // back: the marker names this broker again
    assert.equal(await run(watch({ marker, clean: true }), false), undefined, 'clean=true: nothing to lose');
    assert.equal(await run(watch({ marker }), false), undefined, 'after a clean run the broker had no session to keep');
    assert.ok((await run(watch({ marker }), false)) !== undefined, 'but the persistent run before this one did');
  });

  it('a missing, empty or garbled marker is a new installation; the marker is written once per process, atomically', async () => {
    const marker = tempMarker();
    for (const text of ['', '{', 'null', '[]', '{"clientId":1}']) {
      fs.writeFileSync(marker.file, text);
      const w = watch({ marker });
      w.start();
      assert.equal(w.connected(false), undefined, JSON.stringify(text));
    }
    const writes: string[] = [];
    const recording: MarkerFs = {
      readFileSync: () => {
        throw Object.assign(new Error('no'), { code: 'ENOENT' });
      },
      writeFile: async (file, data) => void writes.push(`write ${path.basename(file)} ${data.length > 0}`),
      rename: async (a, b) => void writes.push(`rename ${path.basename(a)} ${path.basename(b)}`),
    };
    const w = watch({ marker: new SessionMarker({ file: '/x/mqtt-session.json', fs: recording }) });
    w.start();
    w.connected(false);
    await w.subscribed();
    w.closed();
    w.connected(true);
    assert.equal(w.subscribed(), undefined, 'not again in this process');
    assert.deepEqual(writes, ['write mqtt-session.json.tmp true', 'rename mqtt-session.json.tmp mqtt-session.json']);
  });
});
