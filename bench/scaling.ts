/**
 * `--scaling`: one dimension at a time around the default (batch 5000 points, 100 devices, 3 fields + ts): QoS 1,
 * ack=write, flat out, a fresh gateway per cell. Prints msg/s, fields/s, CPU µs per message, and what landed;
 * a full run writes bench/results/scaling.{txt,json}.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { round } from '../test/harness/index.ts';
import { RESULTS, startGateway, type BenchContext } from './BenchContext.ts';
import { correctness, fmt, row } from './format.ts';
import { checkLanded, gatewayRun, type GatewayRunResult, type Shape } from './gatewayRun.ts';

interface ScalingCell {
  dimension: 'batch maxPoints' | 'devices' | 'fields per message';
  value: number;
  env: Record<string, string>;
  shape: Shape;
}

export async function scaling(b: BenchContext, runtimeText: string): Promise<void> {
  const { quick, problems } = b;
  const count = quick ? 3_000 : 100_000;
  const cells: ScalingCell[] = [
    ...[500, 1000, 5000, 20_000].map(
      (n): ScalingCell => ({
        dimension: 'batch maxPoints',
        value: n,
        env: { EDGEBRIDGE_INFLUX_BATCH_MAX_POINTS: String(n), EDGEBRIDGE_REDIS_BATCH_MAX_POINTS: String(n) },
        shape: {},
      }),
    ),
    ...[10, 100, 1000, 10_000].map((d): ScalingCell => ({ dimension: 'devices', value: d, env: {}, shape: { devices: d } })),
    ...[3, 11, 35].map((f): ScalingCell => ({ dimension: 'fields per message', value: f, env: {}, shape: { extraFields: f - 3 } })),
  ];
  const rows: { cell: ScalingCell; r: GatewayRunResult }[] = [];
  for (const [i, cell] of cells.entries()) {
    b.scenario.log(`scaling: ${cell.dimension} = ${cell.value} (${count} msgs, QoS 1)`);
    const gw = await startGateway(b, `scale-${i}`, 1, 'write', cell.env);
    try {
      const r = await gatewayRun(b, gw, `scaling ${cell.dimension} ${cell.value}`, `sc${i}`, 1, 'write', { count }, cell.shape);
      checkLanded(b, r);
      rows.push({ cell, r });
      b.scenario.log(`  ${fmt(r.msgPerSec)} msg/s, ${fmt(r.cpuUsPerMsg, 1)} µs/msg, lost ${r.lost.influx}/${r.lost.redis}`);
    } finally {
      await gw.stop();
    }
  }
  const W = [20, 10, 12, 14, 12, 14];
  const lines = [
    `edgebridge scaling (${quick ? 'quick' : 'full'}) ${new Date().toISOString()}  ${os.cpus().length} cores, Node ${process.version}, gateway ${runtimeText}`,
    `QoS 1, ack=write, ${count} messages per cell, flat out; defaults: batch 5000 points, 100 devices, 3 fields + ts`,
    row(['dimension', 'value', 'msg/s', 'fields/s', 'CPU µs/msg', 'lost i/r'], W),
    ...rows.map(({ cell, r }) =>
      row(
        [
          cell.dimension,
          fmt(cell.value),
          fmt(r.msgPerSec),
          fmt(r.msgPerSec * (cell.dimension === 'fields per message' ? cell.value : 3)),
          fmt(r.cpuUsPerMsg, 1),
          `${r.lost.influx}/${r.lost.redis}`,
        ],
        W,
      ),
    ),
    correctness(problems),
  ];
  const json = {
    bench: 'edgebridge-scaling',
    at: new Date().toISOString(),
    machine: { cores: os.cpus().length, node: process.version },
    gatewayEnv: b.runtimeEnv,
    messagesPerCell: count,
    cells: rows.map(({ cell, r }) => ({
      dimension: cell.dimension,
      value: cell.value,
      msgPerSec: round(r.msgPerSec),
      cpuUsPerMsg: round(r.cpuUsPerMsg, 2),
      lost: r.lost,
      peakRssBytes: r.peakRssBytes,
    })),
    correct: problems.length === 0,
    problems,
  };
  const text = `${lines.join('\n')}\n${JSON.stringify(json)}\n`;
  process.stdout.write(text);
  if (!quick) {
    fs.writeFileSync(path.join(RESULTS, 'scaling.txt'), text);
    fs.writeFileSync(path.join(RESULTS, 'scaling.json'), `${JSON.stringify(json, null, 2)}\n`);
  }
  if (problems.length > 0) process.exitCode = 1;
}
