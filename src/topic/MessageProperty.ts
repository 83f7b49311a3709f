/**
 * MQTT 5 properties a route can read, named in templates as `{$user.NAME}` (user property NAME) and
 * `{$contentType}`, and in `timeField` as `$user.NAME`. The grammar lives here, beside the topic's, so the route
 * compiler and the router agree on it without importing each other.
 */

/** The properties of one message as mqtt.js hands them over (`packet.properties`); a duplicated user property key is an array. */
export interface MessageProperties {
  readonly contentType?: string;
  readonly userProperties?: Readonly<Record<string, string | readonly string[]>>;
}

/** One property a route reads; `name` is how it is written (`$user.site`). */
export type MessageProperty =
  | { readonly kind: 'user'; readonly name: string; readonly key: string }
  | { readonly kind: 'contentType'; readonly name: string };

export const PROPERTY_EXPECTED = '"$user.NAME" (an MQTT 5 user property) or "$contentType"';

const USER = '$user.';

/** Whether a template or timeField name means a property (the `$` no topic capture name can start with). */
export function isPropertyName(name: string): boolean {
  return name.charCodeAt(0) === 36; // '$'
}

/** Throws RangeError for a `$` name that is no property the gateway reads. */
export function parseProperty(name: string): MessageProperty {
  if (name === '$contentType') return { kind: 'contentType', name };
  if (name.startsWith(USER) && name.length > USER.length) return { kind: 'user', name, key: name.slice(USER.length) };
  throw new RangeError(`"${name}" is not a message property; expected ${PROPERTY_EXPECTED}`);
}

/**
 * The property's value in `properties`, '' when the message does not carry it (or carries it empty). A user
 * property sent more than once reads as its last value: a later hop's (a bridge's) value wins over the device's.
 */
export function readProperty(property: MessageProperty, properties: MessageProperties | undefined): string {
  if (properties === undefined) return '';
  if (property.kind === 'contentType') return typeof properties.contentType === 'string' ? properties.contentType : '';
  const user = properties.userProperties;
  // Own keys only: a device's properties object must not answer `$user.constructor` from Object.prototype.
  if (user === undefined || !Object.hasOwn(user, property.key)) return '';
  const value = user[property.key];
  if (typeof value === 'string') return value;
  if (!Array.isArray(value) || value.length === 0) return '';
  const last: unknown = value[value.length - 1];
  return typeof last === 'string' ? last : '';
}
