/**
 * Index of the first unescaped space of a line of line protocol (the end of its series key), -1 when none.
 * As InfluxDB's key scanner: a character right after a backslash is escaped, whatever that backslash was.
 */
export function seriesKeyEnd(line: string): number {
  // Nearly every series key has no backslash: two native scans instead of a loop over its characters.
  const space = line.indexOf(' ');
  const backslash = line.indexOf('\\');
  if (backslash === -1 || (space !== -1 && space < backslash)) return space;
  for (let i = 1; i < line.length; i++) {
    if (line.charCodeAt(i) === 32 /* space */ && line.charCodeAt(i - 1) !== 92 /* \ */) return i;
  }
  return -1;
}
