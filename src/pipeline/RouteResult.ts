import type { Entry } from '../spool/Entry.ts';

/**
 * Why a message was refused: the labels of `edgebridge_messages_rejected_total{reason}`. `internal_error`: handling
 * the message threw (a bug, never the device's fault alone); the source catches it at the message boundary.
 */
export const REJECT_REASONS = [
  'too_large',
  'bad_json',
  'not_object',
  'bad_number',
  'bad_line',
  'no_fields',
  'bad_time',
  'bad_name',
  'too_deep',
  'too_many_fields',
  'too_long',
  'internal_error',
  // A route's measurement uses an MQTT 5 property the message does not carry (docs/routes.md).
  'missing_property',
  // Sparkplug B (format sparkplug): see docs/sparkplug.md.
  'bad_sparkplug',
  'sparkplug_no_birth',
  'sparkplug_seq_gap',
  'sparkplug_unknown_alias',
  'sparkplug_stale_death',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/**
 * The outcome of routing one message: exactly one of these, never a silent drop. A route with a deadband
 * (report by exception) may thin some sinks: `entry` then goes to the others and `also` (the thinned lines) to the
 * thinned sinks; `suppressed` counts the field values held back. `suppressed` as a kind: every value of the
 * message was held back from every sink of its route, so nothing is spooled (the message is still acknowledged).
 */
export type RouteResult =
  | { readonly kind: 'ok'; readonly entry: Entry; readonly also?: Entry; readonly suppressed?: number }
  | { readonly kind: 'suppressed'; readonly suppressed: number }
  | { readonly kind: 'unrouted' }
  | { readonly kind: 'rejected'; readonly reason: RejectReason; readonly detail: string };
