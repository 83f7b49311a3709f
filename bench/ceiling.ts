/**
 * The ceiling: the bare counting subscriber (bench/subscriber.ts, a child process) fed `count` messages flat out
 * by the same fleet and broker as the gateway. Throughput = count / (last received − publish start).
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { cpuMicros, Fleet } from '../test/harness/index.ts';
import { fleetOptions, HERE, sleep, type BenchContext } from './BenchContext.ts';
import type { SubscriberConfig, SubscriberMessage } from './subscriber.ts';

const SUBSCRIBER = path.join(HERE, 'subscriber.ts');

export interface CeilingResult {
  qos: 0 | 1;
  messages: number;
  received: number;
  msgPerSec: number;
  cpuUsPerMsg: number;
  publishRate: number;
}

type Done = Extract<SubscriberMessage, { type: 'done' }>;

export async function ceilingRun(b: BenchContext, qos: 0 | 1, count: number, tag: string): Promise<CeilingResult> {
  const config: SubscriberConfig = {
    url: b.mq.url,
    topic: 'ceiling/#',
    qos,
    expected: count,
    clientId: `bench-ceiling-${tag}-${process.pid}`,
  };
  const child: ChildProcess = fork(SUBSCRIBER, [JSON.stringify(config)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    let onDone: (m: Done, cpu: number) => void = () => undefined;
    const done = new Promise<{ m: Done; cpu: number }>((resolve) => {
      onDone = (m, cpu) => resolve({ m, cpu });
    });
    const ready = new Promise<void>((resolve, reject) => {
      child.on('message', (m: SubscriberMessage) => {
        if (m.type === 'ready') resolve();
        if (m.type === 'error') reject(new Error(`subscriber: ${m.message}`));
        // Read its CPU at once, before it unsubscribes and exits.
        if (m.type === 'done') onDone(m, cpuMicros(child.pid as number));
      });
      child.once('exit', (code) => reject(new Error(`subscriber exited (${code})`)));
    });
    await ready;
    const fleet = await Fleet.launch(fleetOptions(b, { qos, topicPrefix: 'ceiling', measurement: 'climate', count }));
    const cpu0 = cpuMicros(child.pid as number);
    const t0 = fleet.start();
    const stall = setTimeout(() => child.connected && child.send({ type: 'finish' }), 180_000);
    const { m, cpu } = await done;
    clearTimeout(stall);
    const pub = await fleet.done();
    if (m.count < count) b.problems.push(`ceiling QoS ${qos} (${tag}): received ${m.count} of ${count}`);
    return {
      qos,
      messages: count,
      received: m.count,
      msgPerSec: m.count / Math.max(0.001, (m.lastAt - t0) / 1000),
      cpuUsPerMsg: (cpu - cpu0) / Math.max(1, m.count),
      publishRate: pub.rate,
    };
  } finally {
    if (child.exitCode === null) {
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }
}
