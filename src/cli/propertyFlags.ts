import type { MessageProperties } from '../explain/MessageExplainer.ts';

export interface PropertyFlags {
  /** The properties given; undefined when no flag was there. */
  readonly properties: MessageProperties | undefined;
  /** argv without the flags and their values. */
  readonly argv: string[];
  /** A usage error ('' when none): a flag without its value, or `--user-property` without `=`. */
  readonly error: string;
}

const USER = '--user-property';
const CONTENT_TYPE = '--content-type';

/**
 * Takes the dry run's MQTT 5 flags out of argv: `--user-property NAME=VALUE` (repeatable; a repeated NAME is sent
 * as the repeated property MQTT allows) and `--content-type TYPE`, also as `--flag=VALUE`. They give every message
 * of the dry run these properties.
 */
export function extractPropertyFlags(argv: readonly string[]): PropertyFlags {
  const rest: string[] = [];
  const user: Record<string, string | string[]> = {};
  let contentType: string | undefined;
  let given = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const flag =
      arg === USER || arg.startsWith(`${USER}=`) ? USER : arg === CONTENT_TYPE || arg.startsWith(`${CONTENT_TYPE}=`) ? CONTENT_TYPE : '';
    if (flag === '') {
      rest.push(arg);
      continue;
    }
    let value: string | undefined;
    if (arg.length > flag.length) value = arg.slice(flag.length + 1);
    else value = argv[++i];
    if (value === undefined) return { properties: undefined, argv: rest, error: `${flag} takes a value` };
    given = true;
    if (flag === CONTENT_TYPE) {
      contentType = value;
      continue;
    }
    const eq = value.indexOf('=');
    if (eq <= 0) return { properties: undefined, argv: rest, error: `${USER} takes NAME=VALUE, got "${value}"` };
    const name = value.slice(0, eq);
    const v = value.slice(eq + 1);
    const seen = Object.hasOwn(user, name) ? user[name]! : undefined;
    user[name] = seen === undefined ? v : [...(typeof seen === 'string' ? [seen] : seen), v];
  }
  if (!given) return { properties: undefined, argv: rest, error: '' };
  const properties: MessageProperties = {
    ...(contentType === undefined ? {} : { contentType }),
    ...(Object.keys(user).length === 0 ? {} : { userProperties: user }),
  };
  return { properties, argv: rest, error: '' };
}
