import { realFs, type SpoolFs } from './SpoolFs.ts';
import path from 'node:path';
import type { Segment } from './Segment.ts';

export interface Position {
  readonly segment: number;
  readonly offset: number;
}

export interface CursorStoreOptions {
  readonly dir: string;
  /** Saves happen at most this often (ms); a change in between is saved when the interval ends. */
  readonly intervalMs: number;
  /** The positions to save: every sink's committed position. */
  readonly positions: () => Iterable<readonly [string, Position]>;
  readonly onError: (sink: string, error: unknown) => void;
  readonly now?: () => number;
  readonly fs?: SpoolFs;
}

/**
 * One checkpoint file per sink: `cursors/<sink>.json` = `{"segment":n,"offset":n}`, replaced atomically
 * (write a temporary file, rename over), at most every `intervalMs`. No fsync: a checkpoint lost to a power cut
 * only makes the sink re-send a little (at-least-once); it can never skip data, because it is written after the
 * sink accepted.
 */
export class CursorStore {
  readonly #o: CursorStoreOptions;
  readonly #now: () => number;
  readonly #fs: SpoolFs;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #last = 0;
  #dirty = false;
  #saving = false;

  constructor(options: CursorStoreOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#fs = options.fs ?? realFs;
  }

  load(sink: string): Position | undefined {
    try {
      const raw = JSON.parse(this.#fs.readFileSync(this.#file(sink), 'utf8')) as Partial<Position>;
      if (Number.isSafeInteger(raw.segment) && Number.isSafeInteger(raw.offset)) return { segment: raw.segment!, offset: raw.offset! };
    } catch {
      // missing or unreadable (e.g. empty after a power cut): start from the oldest data, re-sending rather than losing
    }
    return undefined;
  }

  /** A position moved: save soon (in the background), at most once per interval. */
  changed(): void {
    this.#dirty = true;
    if (this.#timer !== undefined || this.#saving) return;
    const wait = Math.max(0, this.#last + this.#o.intervalMs - this.#now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#saveInBackground();
    }, wait);
    this.#timer.unref();
  }

  /** Saves every position now, synchronously, if anything changed since the last save (closing). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#dirty) return;
    this.#dirty = false;
    this.#last = this.#now();
    for (const [sink, position] of this.#o.positions()) {
      try {
        const file = this.#file(sink);
        this.#fs.writeFileSync(`${file}.tmp`, encode(position));
        this.#fs.renameSync(`${file}.tmp`, file);
      } catch (error) {
        this.#o.onError(sink, error);
      }
    }
  }

  /**
   * The periodic save runs on libuv's thread pool: replacing a file by rename makes ext4 write the new file's data
   * first (auto_da_alloc), which took about 10 ms per file while the spool was busy — an event-loop stall every
   * second if done synchronously. A save that overlaps a `flush()` is harmless: both write the positions of their
   * moment, and positions only move forward within a run.
   */
  #saveInBackground(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    this.#saving = true;
    this.#last = this.#now();
    const pending = [...this.#o.positions()];
    let left = pending.length;
    const done = (): void => {
      if (--left > 0) return;
      this.#saving = false;
      if (this.#dirty) this.changed();
    };
    if (left === 0) {
      this.#saving = false;
      return;
    }
    for (const [sink, position] of pending) {
      const file = this.#file(sink);
      // Its own temp name: a synchronous flush() at close may run meanwhile with `.tmp`.
      const tmp = `${file}.bg.tmp`;
      this.#fs.writeFile(tmp, encode(position), (writeError) => {
        if (writeError) {
          this.#o.onError(sink, writeError);
          done();
          return;
        }
        this.#fs.rename(tmp, file, (renameError) => {
          if (renameError) this.#o.onError(sink, renameError);
          done();
        });
      });
    }
  }

  #file(sink: string): string {
    return path.join(this.#o.dir, `${sink}.json`);
  }
}

/**
 * A checkpoint that points before the oldest segment (dropped), past the newest (a wiped spool) or past the valid
 * data (a torn tail was cut) is moved to where reading can resume without skipping anything still held.
 */
export function clampPosition(p: Position, segments: readonly Segment[]): Position {
  const first = segments[0]!;
  if (p.segment < first.id) return { segment: first.id, offset: first.dataStart };
  const s = segments.find((x) => x.id === p.segment);
  if (s === undefined)
    return p.segment > segments.at(-1)!.id ? { segment: first.id, offset: first.dataStart } : { segment: p.segment, offset: 0 };
  return { segment: p.segment, offset: Math.min(Math.max(p.offset, s.dataStart), s.validEnd) };
}

function encode(position: Position): string {
  return JSON.stringify({ segment: position.segment, offset: position.offset });
}
