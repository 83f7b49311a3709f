import fs from 'node:fs';
import path from 'node:path';

export interface Position {
  readonly segment: number;
  readonly offset: number;
}

/**
 * One checkpoint file per sink: `cursors/<sink>.json` = `{"segment":n,"offset":n}`, replaced atomically
 * (write a temporary file, rename over). No fsync: a checkpoint lost to a power cut only makes the sink
 * re-send a little (at-least-once); it can never skip data, because it is written after the sink accepted.
 */
export class CursorStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  load(sink: string): Position | undefined {
    try {
      const raw = JSON.parse(fs.readFileSync(this.#file(sink), 'utf8')) as Partial<Position>;
      if (Number.isSafeInteger(raw.segment) && Number.isSafeInteger(raw.offset)) return { segment: raw.segment!, offset: raw.offset! };
    } catch {
      // missing or unreadable (e.g. empty after a power cut): start from the oldest data, re-sending rather than losing
    }
    return undefined;
  }

  save(sink: string, position: Position): void {
    const file = this.#file(sink);
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ segment: position.segment, offset: position.offset }));
    fs.renameSync(tmp, file);
  }

  #file(sink: string): string {
    return path.join(this.#dir, `${sink}.json`);
  }
}
