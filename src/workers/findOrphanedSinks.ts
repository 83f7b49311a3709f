import path from 'node:path';
import { listSegments, readHeader } from '../spool/disk/segmentFile.ts';
import { realFs as fs } from '../spool/disk/SpoolFs.ts';

export interface OrphanedSink {
  /** A sink name found in spool segment headers that no configured sink has. */
  readonly sink: string;
  /** Segments that hold records addressed to it. */
  readonly segments: number;
}

/**
 * Sinks the spool still holds records for but the configuration no longer has (renamed or removed): their backlog
 * would be discarded without a word as the segments are deleted. Reads only the segment headers (the sink names each
 * record mask refers to), read-only, before the spool opens; a directory that cannot be read yields nothing here
 * (the spool reports it when it opens).
 */
export function findOrphanedSinks(spoolDir: string, configured: readonly string[]): OrphanedSink[] {
  const counts = new Map<string, number>();
  let segments: { file: string }[];
  try {
    segments = listSegments(fs, path.join(spoolDir, 'segments'));
  } catch {
    return [];
  }
  for (const { file } of segments) {
    let fd: number | undefined;
    try {
      fd = fs.openSync(file, 'r');
      const head = readHeader(fs, fd);
      if (typeof head === 'string') continue;
      for (const sink of new Set(head.header.sinks)) if (!configured.includes(sink)) counts.set(sink, (counts.get(sink) ?? 0) + 1);
    } catch {
      // unreadable: the spool's own recovery reports it
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }
  return [...counts].map(([sink, n]) => ({ sink, segments: n }));
}
