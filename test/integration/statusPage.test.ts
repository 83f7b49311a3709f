import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectPublisher, startServers, waitFor, type Publisher, type Servers } from '../harness/index.ts';
import { GatewayProcess } from './support/GatewayProcess.ts';

/**
 * The status page in a real headless Chromium (Debian's `chromium` driven by playwright-core) against a real
 * gateway: it loads under the CSP, shows the Redis sink going down and coming back, and the route tester shows a
 * decoded point. `EDGEBRIDGE_TEST_SCREENSHOT=docs/status-page.png` also saves a screenshot (Redis down).
 */
const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'page-token';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const present = fs.existsSync(CHROMIUM);
// CI installs chromium (.ci/run): there a missing browser is a failure, never a skip.
const skip = !present && process.env.CI === undefined ? `${CHROMIUM} is absent: apt-get install chromium to run this test` : false;

describe('status page in headless Chromium', { skip }, () => {
  let servers: Servers;
  let gw: GatewayProcess;
  let pub: Publisher;
  let userDataDir: string;
  let context: import('playwright-core').BrowserContext;
  let stopLoad = false;
  let load: Promise<void> | undefined;

  before(async () => {
    servers = await startServers();
    gw = await GatewayProcess.start({
      env: {
        ...servers.env,
        EDGEBRIDGE_GATEWAY_ID: 'edge-01',
        EDGEBRIDGE_HTTP_TOKEN: TOKEN,
        EDGEBRIDGE_REDIS_RESILIENCE_RETRY_INITIAL_MS: '200',
        EDGEBRIDGE_REDIS_RESILIENCE_RETRY_MAX_MS: '1000',
        EDGEBRIDGE_REDIS_RESILIENCE_BREAKER_THRESHOLD: '3',
        EDGEBRIDGE_REDIS_RESILIENCE_BREAKER_HALF_OPEN_AFTER_MS: '2000',
        EDGEBRIDGE_REDIS_RESILIENCE_TIMEOUT_MS: '1000',
        EDGEBRIDGE_REDIS_BATCH_FLUSH_INTERVAL_MS: '200',
        EDGEBRIDGE_INFLUX_BATCH_FLUSH_INTERVAL_MS: '200',
      },
      timeoutMs: 60_000,
    });
    pub = await connectPublisher(servers.mq.url);
    // A few devices at ~25 msg/s, and now and then a message the route rejects (for the dead-letter table).
    load = (async () => {
      for (let n = 0; !stopLoad; n++) {
        const device = `dev${n % 5}`;
        const payload = n % 40 === 7 ? '{"t":' : JSON.stringify({ t: 20 + (n % 7) / 2, h: 40 + (n % 3) });
        await pub.publish(`sensors/${device}/climate`, payload, 1).catch(() => {});
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-chromium-'));
    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      // Answers the page's Basic challenge, as a person would type the token into the browser's prompt.
      httpCredentials: { username: 'operator', password: TOKEN },
      viewport: { width: 1280, height: 1000 },
    });
  });

  after(async () => {
    stopLoad = true;
    await load;
    await context?.close();
    await pub?.end(true);
    await gw?.stop();
    await servers?.destroy();
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  });

  it('loads, shows Redis going down and coming back, and the route tester shows a decoded point', async () => {
    const page = context.pages()[0] ?? (await context.newPage());
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));
    const response = await page.goto(`${gw.url}/`);
    assert.equal(response?.status(), 200);
    assert.match((await response!.allHeaders())['content-security-policy'] ?? '', /default-src 'none'/);

    const redisRow = page.locator('tr[data-sink="redis"]');
    await redisRow.and(page.locator('[data-breaker="closed"]')).waitFor({ timeout: 30_000 });
    await page.locator('#mqtt .badge.ok').waitFor({ timeout: 30_000 });
    await page.locator('#latest tr', { hasText: 'climate,device=dev1,gateway=edge-01' }).first().waitFor({ timeout: 30_000 });

    await servers.rd.stop();
    await redisRow.and(page.locator('[data-breaker="open"]')).waitFor({ timeout: 60_000 });
    assert.match((await page.locator('#ready').textContent()) ?? '', /not ready/);
    assert.match((await page.locator('#problems').textContent()) ?? '', /sink redis: circuit breaker open/);
    // A backlog builds while Redis is away; the page shows it with its age.
    await waitFor(async () => Number((await redisRow.locator('td').nth(3).textContent())?.replace(/[^\d.]/g, '')) > 0, {
      timeoutMs: 20_000,
      message: 'the Redis backlog on the page',
    });
    await page.locator('#rejected tr', { hasText: 'bad_json' }).first().waitFor({ timeout: 30_000 });
    // The tester works whatever the sinks do: it writes nothing.
    await page.fill('#topic', 'sensors/dev9/climate');
    await page.fill('#payload', '[1]');
    await page.click('#tester button');
    await page.locator('#tester-result[data-kind="rejected"]', { hasText: 'not_object' }).waitFor({ timeout: 10_000 });
    await page.fill('#payload', '{"t":21.5,"h":40}');
    await page.click('#tester button');
    const result = page.locator('#tester-result[data-kind="ok"]');
    await result.waitFor({ timeout: 10_000 });
    const text = (await result.textContent()) ?? '';
    assert.match(text, /1 point\(s\) by route 1 sensors\/\{device\}\/\{measurement\}/);
    assert.match(text, /influx: climate,device=dev9,gateway=edge-01 h=40,t=21\.5 \d+/);
    assert.match(text, /redis: HSET eb:latest:\{dev9\}:climate h 40 t 21\.5/);

    const shot = process.env.EDGEBRIDGE_TEST_SCREENSHOT;
    if (shot) {
      await page.waitForTimeout(4000); // a few polls, so the rates have a window
      await page.screenshot({ path: shot, fullPage: true });
    }

    await servers.rd.restart();
    await redisRow.and(page.locator('[data-breaker="closed"]')).waitFor({ timeout: 60_000 });
    await redisRow.locator('td', { hasText: /^(drained|keeping up)$/ }).waitFor({ timeout: 60_000 });
    assert.match((await page.locator('#ready').textContent()) ?? '', /^ready$/);

    // Room for live reload's `config` block in /status: shown when present (faked here by rewriting the answer).
    await page.route('**/status', async (route) => {
      // Fetched by Playwright, not the page: it does not carry the browser's Basic credentials.
      const real = await route.fetch({ headers: { ...route.request().headers(), authorization: `Bearer ${TOKEN}` } });
      const body = {
        ...(await real.json()),
        config: { loadedAt: new Date().toISOString(), source: 'file', generation: 3, lastReloadError: 'routes[0].topic: bad' },
      };
      await route.fulfill({ response: real, json: body });
    });
    await page.locator('#config', { hasText: 'config generation 3 from file' }).waitFor({ timeout: 10_000 });
    await page.locator('#config-error', { hasText: 'last reload refused: routes[0].topic: bad' }).waitFor({ timeout: 10_000 });
    await page.unrouteAll({ behavior: 'ignoreErrors' });

    // Nothing was written by the tester: dev9 never reached the sinks.
    const status = (await (await gw.get('/status', { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
      recent: { latest: { series: string }[] };
    };
    assert.ok(!status.recent.latest.some((l) => l.series.includes('dev9')));
    assert.deepEqual(problems, [], 'no script error or CSP violation in the page');
  });
});
