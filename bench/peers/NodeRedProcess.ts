/**
 * One Node-RED process running the checked-in flow (bench/peers/node-red/flow.json) with the checked-in settings,
 * in a temporary userDir, on the project's Node 24 (the same binary as the gateway), with Node's default flags.
 * Addresses reach the flow as environment variables (`${EB_…}` in flow.json).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinary, freePort, nodeCommand } from '../../test/harness/index.ts';

export const NODE_RED_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'node-red');
export const FLOW_FILE = path.join(NODE_RED_DIR, 'flow.json');
const SETTINGS_FILE = path.join(NODE_RED_DIR, 'settings.js');

export interface NodeRedEnv {
  readonly mqttUrl: string;
  readonly qos: 0 | 1;
  readonly influxUrl: string;
  readonly redisUrl: string;
  readonly gatewayId: string;
}

export class NodeRedProcess {
  readonly #child: ChildProcess;
  readonly #userDir: string;
  #output = '';
  /** "Disconnected from broker" lines Node-RED logged (its MQTT connection dropped; QoS 0 backlog then lost). */
  disconnects = 0;

  private constructor(child: ChildProcess, userDir: string) {
    this.#child = child;
    this.#userDir = userDir;
  }

  /** Starts Node-RED from `redJs` and waits until it logs that the flows started (not yet that MQTT is up). */
  static async start(redJs: string, env: NodeRedEnv, timeoutMs = 60_000): Promise<NodeRedProcess> {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-bench-nodered-'));
    fs.copyFileSync(FLOW_FILE, path.join(userDir, 'flows.json'));
    // Copied out of the repository, whose package.json ("type": "module") would make Node load it as ESM.
    const settings = path.join(userDir, 'settings.js');
    fs.copyFileSync(SETTINGS_FILE, settings);
    // The InfluxDB config node's token (credentialSecret: false → plain JSON); VictoriaMetrics ignores it.
    fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify({ 'eb-influx': { token: 'bench' } }));
    const mqtt = new URL(env.mqttUrl);
    const childEnv: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: userDir,
      EB_MQTT_HOST: mqtt.hostname,
      EB_MQTT_PORT: mqtt.port || '1883',
      EB_MQTT_QOS: String(env.qos),
      EB_INFLUX_URL: env.influxUrl,
      EB_REDIS_URL: env.redisUrl,
      EB_GATEWAY_ID: env.gatewayId,
      EB_NODERED_PORT: String(await freePort()),
    };
    const { command, prefix } = nodeCommand();
    let file = command;
    let argv = [...prefix, redJs, '--userDir', userDir, '--settings', settings];
    // Killed with the bench if the bench dies (as the harness does for detached gateways).
    const setpriv = findBinary('setpriv');
    if (setpriv !== undefined) [file, argv] = [setpriv, ['--pdeathsig', 'KILL', '--', command, ...argv]];
    const child = spawn(file, argv, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const nr = new NodeRedProcess(child, userDir);
    await nr.#waitForStart(timeoutMs);
    return nr;
  }

  #waitForStart(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Node-RED did not start its flows within ${timeoutMs} ms: ${this.output}`)),
        timeoutMs,
      );
      const onData = (d: Buffer): void => {
        const text = d.toString();
        this.disconnects += text.split('Disconnected from broker').length - 1;
        this.#output = (this.#output + text).slice(-4000);
        if (this.#output.includes('Started flows')) {
          clearTimeout(timer);
          resolve();
        }
      };
      this.#child.stdout?.on('data', onData);
      this.#child.stderr?.on('data', onData);
      this.#child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`Node-RED exited (${code ?? signal}): ${this.output}`));
      });
    });
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  /** The last 4 000 characters it logged. */
  get output(): string {
    return this.#output.trim();
  }

  /** SIGTERM, SIGKILL after 10 s; the userDir is removed. */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      const exited = new Promise((r) => this.#child.once('exit', r));
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.#userDir, { recursive: true, force: true });
  }
}
