/**
 * The one grammar of a capture name (`{device}` in a route's topic, `{device}` in its templates): a letter or
 * '_', then letters, digits or '_'. Config validation and TopicPattern both call this, so a name one accepts the
 * other cannot refuse.
 */
export const CAPTURE_NAME_EXPECTED = "a letter or '_' followed by letters, digits or '_'";

const CAPTURE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isCaptureName(name: string): boolean {
  return CAPTURE_NAME.test(name);
}
