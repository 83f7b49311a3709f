/** Index of the first unescaped space of a line of line protocol (the end of its series key), -1 when none. */
export function seriesKeyEnd(line: string): number {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 92 /* \ */) i++;
    else if (c === 32 /* space */) return i;
  }
  return -1;
}
