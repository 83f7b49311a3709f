/** Index of the first unescaped space of a line of line protocol (the end of its series key), -1 when none. */
export function seriesKeyEnd(line: string): number {
  // Nearly every series key has no backslash: two native scans instead of a loop over its characters.
  const space = line.indexOf(' ');
  const backslash = line.indexOf('\\');
  if (backslash === -1 || (space !== -1 && space < backslash)) return space;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 92 /* \ */) i++;
    else if (c === 32 /* space */) return i;
  }
  return -1;
}
