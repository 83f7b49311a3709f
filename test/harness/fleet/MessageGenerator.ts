/**
 * What a publisher child sends: a module that exports `createGenerator(options, child)` returning one of these.
 * The fleet loads it in every child process, so options must be plain JSON.
 */
export interface FleetMessage {
  topic: string;
  payload: string | Buffer;
}

export interface FleetChild {
  /** 0 … children − 1. */
  readonly index: number;
  readonly children: number;
}

export interface MessageGenerator {
  /** The n-th message of this child (n counts from 0), sent at `now` (epoch ms). May return the same object each call. */
  next(n: number, now: number): FleetMessage;
  /** Totals of the generator's own (JSON) sent back with the child's stats, e.g. probes sent or expected outcomes. */
  summary(): unknown;
}

export type CreateGenerator = (options: unknown, child: FleetChild) => MessageGenerator;
