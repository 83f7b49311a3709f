import { createHash } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { join } from 'node:path';

/** One metric as a BIRTH declared it: alias (null when the node uses names only), name, datatype, property tags. */
export type MetricDef = readonly [
  alias: number | string | null,
  name: string,
  datatype: number,
  tags: readonly (readonly [string, string])[],
];

/** What is kept of an edge node across restarts: its last BIRTH's metrics and its devices'. */
export interface NodeRecord {
  readonly group: string;
  readonly node: string;
  /** The NBIRTH's bdSeq (decimal), which the matching NDEATH carries; undefined when the NBIRTH had none. */
  readonly bdSeq: string | undefined;
  readonly online: boolean;
  readonly metrics: readonly MetricDef[];
  readonly devices: Readonly<Record<string, { readonly online: boolean; readonly metrics: readonly MetricDef[] }>>;
}

/** The part of node:fs the store uses (injected by tests). */
export interface StoreFs {
  mkdirSync(path: string, options: { recursive: true }): unknown;
  readdirSync(path: string): string[];
  readFileSync(path: string, encoding: 'utf8'): string;
  writeFileSync(path: string, data: string): void;
  renameSync(from: string, to: string): void;
  rmSync(path: string, options: { force: true }): void;
  openSync(path: string, flags: string): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
}

export interface SparkplugStoreOptions {
  /** `<spool.dir>/sparkplug`: one file per edge node. */
  readonly dir: string;
  readonly fs?: StoreFs;
}

/**
 * The alias maps of the edge nodes, one JSON file per node next to the spool, so a restart does not lose them (the
 * nodes do not send their BIRTH again for the gateway; their DATA would all be unknown aliases until a Rebirth).
 * A node's file is replaced atomically (write a temporary file, fsync, rename) on each of its BIRTHs and DEATHs —
 * rare messages, so the synchronous write costs the hot path nothing. File names are a hash of group and node
 * (ids may hold any character); the ids are inside. A file that cannot be read is skipped, reported by `load`.
 */
export class SparkplugStore {
  readonly #dir: string;
  readonly #fs: StoreFs;

  constructor(options: SparkplugStoreOptions) {
    this.#dir = options.dir;
    this.#fs = options.fs ?? nodeFs;
  }

  /** Every record found, and the files that could not be read (with why). */
  load(): { records: NodeRecord[]; unreadable: string[] } {
    const fs = this.#fs;
    fs.mkdirSync(this.#dir, { recursive: true });
    const records: NodeRecord[] = [];
    const unreadable: string[] = [];
    for (const name of fs.readdirSync(this.#dir)) {
      const path = join(this.#dir, name);
      if (name.endsWith('.tmp')) {
        fs.rmSync(path, { force: true }); // a write cut short: the previous file is still there
        continue;
      }
      if (!name.endsWith('.json')) continue;
      try {
        const record = JSON.parse(fs.readFileSync(path, 'utf8')) as NodeRecord;
        if (typeof record.group !== 'string' || typeof record.node !== 'string' || !Array.isArray(record.metrics)) {
          throw new Error('not a node record');
        }
        records.push(record);
      } catch (error) {
        unreadable.push(`${name}: ${(error as Error).message}`);
      }
    }
    return { records, unreadable };
  }

  save(record: NodeRecord): void {
    const fs = this.#fs;
    const path = this.#path(record.group, record.node);
    const tmp = `${path}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(record));
    const fd = fs.openSync(tmp, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
  }

  remove(group: string, node: string): void {
    this.#fs.rmSync(this.#path(group, node), { force: true });
  }

  #path(group: string, node: string): string {
    const hash = createHash('sha256').update(group).update('\u0000').update(node).digest('hex').slice(0, 32);
    return join(this.#dir, `${hash}.json`);
  }
}
