/** Characters that would change a key's meaning: the separator, hash-tag braces, the escape itself, blanks. */
const UNSAFE = /[%{}:\s\x00-\x1f\x7f]/;
const UNSAFE_ALL = /[%{}:\s\x00-\x1f\x7f]/g;

/**
 * Encodes a device or measurement name for use inside a Redis key: `%`, `{`, `}`, `:`, whitespace and control
 * characters become `%XX` (UTF-8 bytes, upper-case hex). Nothing a device sends can then add a key level or move
 * a key to another hash slot. Names without such characters are returned as they are (the common, free case).
 */
export function redisKeyPart(name: string): string {
  if (!UNSAFE.test(name)) return name;
  return name.replace(UNSAFE_ALL, (ch) => {
    let out = '';
    for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    return out;
  });
}
