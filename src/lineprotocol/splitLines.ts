/**
 * Splits line protocol text into lines at newlines outside string field values (like InfluxDB's scanner).
 * Empty lines are kept (callers skip them). Use this, not `split('\n')`, on `Entry.lines`.
 */
export function splitLines(text: string): string[] {
  const out: string[] = [];
  const len = text.length;
  let start = 0;
  let i = 0;
  let inFields = false; // past the first unescaped space
  let quoted = false;
  let equals = 0; // a '"' opens a string only right after a field's '=' (equals > commas)
  let commas = 0;
  while (i < len) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \\ */) {
      i += 2; // an escaped character never delimits
      continue;
    }
    if (c === 10 /* \n */ && !quoted) {
      out.push(text.slice(start, i));
      start = i + 1;
      inFields = false;
      equals = 0;
      commas = 0;
    } else if (c === 32 /* space */ && !quoted) {
      inFields = true;
    } else if (inFields) {
      if (c === 34 /* " */ && equals > commas) quoted = !quoted;
      else if (!quoted && c === 61 /* = */) equals++;
      else if (!quoted && c === 44 /* , */) commas++;
    }
    i++;
  }
  out.push(text.slice(start));
  return out;
}
