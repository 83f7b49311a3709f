/**
 * Where a Linux process's resident memory is, read from /proc/PID/smaps: the diagnostic behind
 * EDGEBRIDGE_MEMORY_TRACE (docs/performance.md, "Where the peak is"). Mappings are classified by their shape, as
 * the kernel shows them, since smaps names none of glibc's or V8's regions:
 * - `file`: file-backed pages (the node binary, libraries); `fileAnon` the copy-on-write part of those mappings.
 * - `brk`: `[heap]`, glibc malloc's main arena (the main thread's allocations and any thread's while there is only one arena).
 * - `arenas`: glibc's per-thread arenas, 64 MiB-aligned reservations of which the committed head is read-write.
 * - `stacks`: `[stack]` and thread stacks (read-write, right above a no-access guard page).
 * - `jit`: anonymous executable mappings (V8's generated code when its pages are mapped executable).
 * - `anon`: the rest of the anonymous memory: V8's heap pages (256 KiB chunks, often merged by the kernel) and
 *   malloc's own mmap()ed blocks (≥ 128 KiB or more, e.g. big Buffers' backing stores).
 * All figures are kB of Rss (file) or of Anonymous (the others), as smaps gives them.
 */
export interface SmapsClasses {
  file: number;
  fileAnon: number;
  brk: number;
  arenas: number;
  /** Committed read-write heads of the 64 MiB arenas, one entry per arena (kB of Anonymous). */
  arenaList: number[];
  stacks: number;
  jit: number;
  anon: number;
  /** The largest mappings of `anon`: start address, size and Anonymous in kB. */
  largestAnon: { start: string; sizeKb: number; anonKb: number }[];
}

interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  name: string;
  rss: number;
  anonymous: number;
}

const HEADER = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+\s*(.*)$/;
const ARENA = 64n * 1024n * 1024n;
const GUARD_MAX = 64n * 1024n;

export function parseSmaps(text: string): Mapping[] {
  const maps: Mapping[] = [];
  let cur: Mapping | undefined;
  for (const line of text.split('\n')) {
    const h = HEADER.exec(line);
    if (h !== null) {
      cur = { start: BigInt(`0x${h[1]}`), end: BigInt(`0x${h[2]}`), perms: h[3]!, name: h[4]!.trim(), rss: 0, anonymous: 0 };
      maps.push(cur);
    } else if (cur !== undefined) {
      if (line.startsWith('Rss:')) cur.rss = Number.parseInt(line.slice(4), 10);
      else if (line.startsWith('Anonymous:')) cur.anonymous = Number.parseInt(line.slice(10), 10);
    }
  }
  return maps;
}

export function classifySmaps(text: string, largest = 6): SmapsClasses {
  const maps = parseSmaps(text);
  const c: SmapsClasses = { file: 0, fileAnon: 0, brk: 0, arenas: 0, arenaList: [], stacks: 0, jit: 0, anon: 0, largestAnon: [] };
  const rest: Mapping[] = [];
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i]!;
    const prev = maps[i - 1];
    const next = maps[i + 1];
    if (m.name !== '' && !m.name.startsWith('[')) {
      c.file += m.rss;
      c.fileAnon += m.anonymous;
    } else if (m.name === '[heap]') c.brk += m.anonymous;
    else if (m.name === '[stack]') c.stacks += m.anonymous;
    else if (m.name !== '')
      continue; // [vdso], [vvar], [anon:…]: a few kB
    else if (m.perms.includes('x')) c.jit += m.anonymous;
    else if (m.perms.startsWith('rw') && isArenaHead(m, next)) {
      c.arenas += m.anonymous;
      c.arenaList.push(m.anonymous);
    } else if (m.perms.startsWith('rw') && prev !== undefined && isGuardBelow(prev, m)) c.stacks += m.anonymous;
    else if (m.anonymous > 0) {
      c.anon += m.anonymous;
      rest.push(m);
    }
  }
  c.largestAnon = rest
    .sort((a, b) => b.anonymous - a.anonymous)
    .slice(0, largest)
    .map((m) => ({ start: m.start.toString(16), sizeKb: Number((m.end - m.start) / 1024n), anonKb: m.anonymous }));
  return c;
}

/** glibc's non-main arena: starts on a 64 MiB boundary; the no-access rest of the reservation follows it. */
function isArenaHead(m: Mapping, next: Mapping | undefined): boolean {
  if (m.start % ARENA !== 0n) return false;
  if (m.end - m.start === ARENA) return true;
  if (next === undefined) return false;
  return next.perms.startsWith('---') && next.name === '' && next.start === m.end && next.end - m.start === ARENA;
}

/** A thread stack: a small no-access guard right below it (glibc's default guard is one page). */
function isGuardBelow(guard: Mapping, m: Mapping): boolean {
  return guard.perms.startsWith('---') && guard.name === '' && guard.end === m.start && guard.end - guard.start <= GUARD_MAX;
}
