import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { GatewayView } from './GatewayView.ts';
import { REJECT_REASONS } from '../pipeline/RouteResult.ts';
import { RELOAD_RESULTS } from '../reload/ReloadStatus.ts';
import { registerSparkplugMetrics } from './sparkplugMetrics.ts';
import { registerDeadbandMetrics } from './deadbandMetrics.ts';

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2, isolated: 3 } as const;

/**
 * The Prometheus registry. Hot-path counters live as plain numbers in the stats objects and are copied into
 * prom-client only when `/metrics` is scraped (`collect`), so a message costs a field increment, not a label
 * lookup. Per-batch histograms are observed directly (a few per second).
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #batchPoints: Histogram<'sink'>;
  readonly #writeSeconds: Histogram<'sink'>;

  constructor(view: GatewayView) {
    const registers = [this.registry];
    // The event-loop histogram samples on a timer; prom-client's 10 ms default woke the idle process 100 times a
    // second (5 ms of CPU a second at rest here, and a wake-up the read coalescing would otherwise save). A block
    // of 100 ms or more, what the lag metrics are for, is still caught every time.
    collectDefaultMetrics({ register: this.registry, prefix: 'edgebridge_', eventLoopMonitoringPrecision: 100 });
    const src = view.source;
    counter(registers, 'edgebridge_messages_received_total', 'MQTT messages received', () => src.received);
    counter(registers, 'edgebridge_messages_received_bytes_total', 'MQTT payload bytes received', () => src.receivedBytes);
    counter(registers, 'edgebridge_messages_decoded_total', 'Messages decoded, routed and spooled', () => src.accepted);
    counter(registers, 'edgebridge_messages_unrouted_total', 'Messages that matched no route', () => src.unrouted);
    new Counter({
      name: 'edgebridge_messages_rejected_total',
      help: 'Messages refused, by reason (too_large, bad_json, not_object, bad_number, bad_line, no_fields, bad_time, bad_name, too_deep, too_many_fields, too_long, internal_error; Sparkplug: bad_sparkplug, sparkplug_no_birth, sparkplug_seq_gap, sparkplug_unknown_alias, sparkplug_stale_death)',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        // Every reason is exported from the start (at 0), so alerts and rate() work before the first rejection.
        for (const reason of REJECT_REASONS) this.labels(reason).inc(src.rejectedByReason.get(reason) ?? 0);
      },
    });
    counter(
      registers,
      'edgebridge_deadletter_published_total',
      'Rejected messages re-published to the dead-letter topic',
      () => view.deadLetter?.published ?? 0,
    );
    counter(
      registers,
      'edgebridge_deadletter_dropped_total',
      'Rejected messages not dead-lettered (broker disconnected or the bounded queue full)',
      () => view.deadLetter?.dropped ?? 0,
    );
    counter(
      registers,
      'edgebridge_deadletter_skipped_total',
      'Rejected messages that were dead letters themselves (of this or another gateway): never dead-lettered again',
      () => view.deadLetter?.skipped ?? 0,
    );
    if (view.sparkplug !== undefined) registerSparkplugMetrics(registers, view.sparkplug);
    if (view.deadband !== undefined) registerDeadbandMetrics(registers, view.deadband);
    new Gauge({
      name: 'edgebridge_spool_orphaned_segments',
      help: 'Spool segments holding records for a sink that is not configured (renamed or removed), found at start-up',
      labelNames: ['sink'],
      registers,
      collect() {
        this.reset();
        for (const o of view.orphanedSinks?.() ?? []) this.labels(o.sink).set(o.segments);
      },
    });
    new Counter({
      name: 'edgebridge_config_reloads_total',
      help: 'Configuration reloads (SIGHUP), by result (applied, unchanged, invalid, restart_required, failed)',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        // Every result from the start (at 0), so an alert on refused reloads works before the first one.
        const counts = view.reloads?.();
        for (const result of RELOAD_RESULTS) this.labels(result).inc(counts?.get(result) ?? 0);
      },
    });
    gauge(registers, 'edgebridge_messages_blocked', 'Messages held unacknowledged because the spool is full', () => src.blocked);
    gauge(registers, 'edgebridge_mqtt_connected', '1 while connected to the broker (every connection, mqtt.connections)', () =>
      src.connected ? 1 : 0,
    );
    gauge(
      registers,
      'edgebridge_mqtt_connections_up',
      'MQTT connections up, of mqtt.connections (edgebridge_mqtt_connections)',
      () => view.connections?.().filter((c) => c.connected).length ?? (src.connected ? 1 : 0),
    );
    gauge(
      registers,
      'edgebridge_mqtt_connections',
      'MQTT connections configured (mqtt.connections)',
      () => view.connections?.().length ?? 1,
    );
    counter(registers, 'edgebridge_mqtt_connects_total', 'Successful MQTT connections', () => src.connects);
    counter(registers, 'edgebridge_mqtt_disconnects_total', 'Lost MQTT connections', () => src.disconnects);
    counter(
      registers,
      'edgebridge_mqtt_session_lost_total',
      'Connects where the broker had lost (or expired) the persistent session it held: what it queued meanwhile was dropped',
      () => src.sessionsLost,
    );

    const sinks = view.sinks;
    const perSink = (name: string, help: string, kind: 'counter' | 'gauge', read: (i: number) => number): void => {
      const Metric = kind === 'counter' ? Counter : Gauge;
      new Metric({
        name,
        help,
        labelNames: ['sink'],
        registers,
        collect() {
          this.reset();
          for (let i = 0; i < sinks.length; i++) this.labels(sinks[i]!.stats.name).inc(read(i));
        },
      });
    };
    perSink('edgebridge_sink_points_written_total', 'Points accepted by the sink', 'counter', (i) => sinks[i]!.stats.pointsWritten);
    perSink(
      'edgebridge_sink_points_rejected_total',
      'Points the sink refused as bad data (never retried)',
      'counter',
      (i) => sinks[i]!.stats.pointsRejected,
    );
    perSink(
      'edgebridge_sink_points_rejected_unisolated_total',
      'Of the rejected points, those refused in a piece not bisected down to single lines (bisection budget spent)',
      'counter',
      (i) => sinks[i]!.stats.pointsRejectedUnisolated,
    );
    perSink(
      'edgebridge_sink_points_retried_total',
      'Points in batches whose write attempt failed and was retried',
      'counter',
      (i) => sinks[i]!.stats.pointsRetried,
    );
    perSink(
      'edgebridge_sink_points_dropped_total',
      'Points discarded by the spool overflow policy before this sink read them',
      'counter',
      (i) => sinks[i]!.dropped(),
    );
    perSink(
      'edgebridge_sink_points_duplicate_total',
      'Points the sink recognised as already written (re-sent after a crash) and skipped',
      'counter',
      (i) => sinks[i]!.stats.pointsDuplicate,
    );
    perSink('edgebridge_sink_failed_attempts_total', 'Failed write attempts', 'counter', (i) => sinks[i]!.stats.failedAttempts);
    perSink(
      'edgebridge_sink_breaker_state',
      'Circuit breaker: 0 closed, 1 half-open, 2 open, 3 isolated',
      'gauge',
      (i) => BREAKER_VALUE[sinks[i]!.stats.breaker],
    );
    perSink('edgebridge_sink_backlog_points', 'Points waiting for this sink', 'gauge', (i) => sinks[i]!.backlog().points);
    perSink('edgebridge_sink_backlog_bytes', 'Bytes waiting for this sink', 'gauge', (i) => sinks[i]!.backlog().bytes);
    perSink('edgebridge_sink_backlog_age_seconds', 'Age of the oldest point waiting for this sink', 'gauge', (i) => {
      const oldest = sinks[i]!.backlog().oldestAt;
      return oldest === undefined ? 0 : (Date.now() - oldest) / 1000;
    });
    gauge(registers, 'edgebridge_spool_bytes', 'Bytes held by the spool', () => view.spool().bytes);
    gauge(registers, 'edgebridge_spool_max_bytes', 'Spool capacity', () => view.spool().maxBytes);
    gauge(registers, 'edgebridge_spool_entries', 'Entries held by the spool', () => view.spool().entries);
    gauge(registers, 'edgebridge_spool_full', '1 while the spool refuses messages (block policy at maxBytes, or the disk is full)', () =>
      view.spool().full ? 1 : 0,
    );
    gauge(registers, 'edgebridge_spool_segments', 'Segment files of the disk spool', () => view.spool().segments ?? 0);
    counter(
      registers,
      'edgebridge_spool_written_bytes_total',
      'Bytes written to spool files (SD-card wear)',
      () => view.spool().bytesWritten ?? 0,
    );
    counter(registers, 'edgebridge_spool_fsyncs_total', 'fdatasync calls on spool files', () => view.spool().fsyncs ?? 0);
    counter(
      registers,
      'edgebridge_spool_torn_bytes_recovered_total',
      'Bytes of torn records cut off at start (crash or power cut mid-write)',
      () => view.spool().tornBytesRecovered ?? 0,
    );
    counter(
      registers,
      'edgebridge_spool_corrupt_skipped_total',
      'Bad regions skipped in spool segments (up to the next good record) and segments set aside for an unreadable header',
      () => view.spool().corruptSkipped ?? 0,
    );
    counter(
      registers,
      'edgebridge_spool_checkpoints_repaired_total',
      'Sink checkpoints that pointed inside a record and were moved back to a record boundary (re-sending, not skipping)',
      () => view.spool().checkpointsRepaired ?? 0,
    );
    new Counter({
      name: 'edgebridge_spool_records_lost_total',
      help: 'Spool records lost to corruption on disk, per sink and reason (corrupt: failed its check; unreadable_segment: in a segment whose header failed its CRC)',
      labelNames: ['sink', 'reason'],
      registers,
      collect() {
        this.reset();
        // Every sink and reason from the start (at 0), so alerts work before the first loss.
        const lost = view.spool().recordsLost ?? {};
        for (const s of view.sinks) {
          const bySink = lost[s.stats.name];
          for (const reason of ['corrupt', 'unreadable_segment'] as const) this.labels(s.stats.name, reason).inc(bySink?.[reason] ?? 0);
        }
      },
    });
    counter(
      registers,
      'edgebridge_spool_disk_full_total',
      'Spool writes that failed for lack of disk space',
      () => view.spool().diskFullEvents ?? 0,
    );
    counter(
      registers,
      'edgebridge_spool_unwritten_records_total',
      'Records of bursts the spool could not write; their QoS 1/2 messages were not acknowledged (redelivered), QoS 0 ones are lost',
      () => view.spool().unwrittenRecords ?? 0,
    );

    this.#batchPoints = new Histogram({
      name: 'edgebridge_sink_batch_points',
      help: 'Points per written batch',
      labelNames: ['sink'],
      buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000, 25000],
      registers,
    });
    this.#writeSeconds = new Histogram({
      name: 'edgebridge_sink_write_seconds',
      help: 'Duration of successful batch writes',
      labelNames: ['sink'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
  }

  /** A callback for one sink's worker: observes batch size and write duration. */
  writeObserver(sink: string): (points: number, seconds: number) => void {
    const points = this.#batchPoints.labels(sink);
    const seconds = this.#writeSeconds.labels(sink);
    return (n, s) => {
      points.observe(n);
      seconds.observe(s);
    };
  }
}

function counter(registers: Registry[], name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

function gauge(registers: Registry[], name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers,
    collect() {
      this.set(read());
    },
  });
}
