import { SinkError } from '../SinkError.ts';
import type { ReplicaWait } from './RedisWriter.ts';

/**
 * `WAIT n timeout` on the connection that just wrote: Redis replicates asynchronously, so a batch the master
 * acknowledged and then died with is gone unless a replica holds it. Fewer replicas than asked within the
 * timeout: the batch is kept and retried (the script's de-dup makes the retry safe), never counted as written.
 */
export async function confirmReplicas(
  wait: ReplicaWait,
  runWait: (replicas: number, timeoutMs: number) => Promise<number>,
  where = 'the master',
): Promise<void> {
  if (wait.replicas <= 0) return;
  const confirmed = await runWait(wait.replicas, wait.timeoutMs);
  if (confirmed < wait.replicas) {
    throw new SinkError(
      `Redis WAIT: ${confirmed} of ${wait.replicas} replica(s) of ${where} confirmed the batch within ${wait.timeoutMs} ms; kept for retry`,
      { kind: 'unavailable', retryable: true },
    );
  }
}
