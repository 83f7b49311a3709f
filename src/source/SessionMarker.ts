import nodeFs from 'node:fs';
import fsp from 'node:fs/promises';

/** What the marker file says: this client id had a session at this broker, which the broker confirmed. */
export interface SessionRecord {
  readonly clientId: string;
  /** The broker URL without credentials. */
  readonly broker: string;
  /** Asked for a session that outlives the connection (clean=false, and not MQTT 5 with session expiry 0). */
  readonly persistent: boolean;
  /** ISO time of the subscribe the broker granted. */
  readonly subscribedAt: string;
}

/** The file calls the marker makes; injected so tests can fail them. */
export interface MarkerFs {
  readFileSync(file: string, encoding: 'utf8'): string;
  writeFile(file: string, data: string, options: { flush: boolean }): Promise<void>;
  rename(from: string, to: string): Promise<void>;
}

const realFs: MarkerFs = { readFileSync: nodeFs.readFileSync, writeFile: fsp.writeFile, rename: fsp.rename };

/**
 * `mqtt-session.json` next to the spool: the memory, across restarts, that the broker held a session for this
 * gateway, so a CONNACK without one after a restart is known as a loss, not a first start. Read once at start,
 * written once per process at the first granted subscribe (a few hundred bytes: no SD-card wear), atomically
 * (temporary file, flushed, renamed) so a crash mid-write leaves the old marker or the new one, never half of one.
 */
export class SessionMarker {
  readonly file: string;
  readonly #fs: MarkerFs;

  constructor(options: { file: string; fs?: MarkerFs }) {
    this.file = options.file;
    this.#fs = options.fs ?? realFs;
  }

  /** The record, or undefined when there is none (a new installation) or it cannot be read (treated the same). */
  read(): SessionRecord | undefined {
    let raw: unknown;
    try {
      raw = JSON.parse(this.#fs.readFileSync(this.file, 'utf8'));
    } catch {
      return undefined;
    }
    const r = raw as Partial<Record<keyof SessionRecord, unknown>> | null;
    if (r === null || typeof r !== 'object') return undefined;
    if (typeof r.clientId !== 'string' || typeof r.broker !== 'string' || typeof r.persistent !== 'boolean') return undefined;
    return { clientId: r.clientId, broker: r.broker, persistent: r.persistent, subscribedAt: String(r.subscribedAt ?? '') };
  }

  async write(record: SessionRecord): Promise<void> {
    const tmp = `${this.file}.tmp`;
    await this.#fs.writeFile(tmp, `${JSON.stringify(record)}\n`, { flush: true });
    await this.#fs.rename(tmp, this.file);
  }
}
