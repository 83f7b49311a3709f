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

/** A node forgotten (evicted): its line ends what earlier lines said of it. */
interface Removal {
  readonly group: string;
  readonly node: string;
  readonly removed: true;
}

/** An open file of the background writes (node:fs/promises' FileHandle). */
export interface StoreFile {
  appendFile(data: string): Promise<void>;
  datasync(): Promise<void>;
  close(): Promise<void>;
}

/** The part of node:fs the store uses (injected by tests): synchronous at start, promises afterwards. */
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
  readonly promises: {
    open(path: string, flags: 'a' | 'w'): Promise<StoreFile>;
    rename(from: string, to: string): Promise<void>;
  };
}

export interface StoreTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SparkplugStoreOptions {
  /** `<spool.dir>/sparkplug`. */
  readonly dir: string;
  readonly fs?: StoreFs;
  readonly timers?: StoreTimers;
  /** How long the changes of a burst of BIRTHs and DEATHs are gathered before one write (ms). Default 100. */
  readonly delayMs?: number;
  /** After a failed write, how long before the next attempt (ms). Default 5 000. */
  readonly retryMs?: number;
  /** The journal is rewritten when it would grow past twice its last rewrite, or past this (bytes). Default 1 MiB. */
  readonly minRewriteBytes?: number;
}

/** The journal: one JSON line per change (a node's record, or its removal); the last line of a node wins. */
export const JOURNAL = 'nodes.jsonl';

/**
 * The alias maps of the edge nodes, kept next to the spool so a restart does not lose them (the nodes do not send
 * their BIRTH again for the gateway; their DATA would all be unknown aliases until a Rebirth). The writes are off
 * the event loop and coalesced: `save` and `remove` only note the change; `delayMs` after the first change of a
 * burst, every node changed since (its latest record only) is appended to the journal in one write and one
 * fdatasync, and never two writes in flight: changes made during a write wait for the next. A birth storm (500
 * nodes rebirthing after a broker restart) thus costs a few writes, not 1 000 synchronous fsyncs (measured in
 * bench/sparkplug.ts). A crash before a change is on disk loses it: the node's previous record (or none) is read at
 * the next start — docs/sparkplug.md says what follows. Each line is whole or, if a crash cut the last write
 * short, unreadable and reported by `load`. The journal is rewritten atomically (temporary file, fdatasync,
 * rename) at start and when it has grown to twice its live size; files of the one-file-per-node layout of earlier
 * versions are read and folded into it.
 */
export class SparkplugStore {
  readonly #dir: string;
  readonly #fs: StoreFs;
  readonly #timers: StoreTimers;
  readonly #delayMs: number;
  readonly #retryMs: number;
  readonly #minRewriteBytes: number;
  /** Each live node's latest line, for the rewrite. */
  readonly #live = new Map<string, string>();
  /** Changes not yet handed to a write. */
  #pending = new Map<string, NodeRecord | Removal>();
  #timer: unknown;
  #writing: Promise<void> | undefined;
  #file: StoreFile | undefined;
  #journalBytes = 0;
  #compactAt: number;
  /** A write failed part-way: the journal may end in a torn line, so the next write rewrites it whole. */
  #mustRewrite = false;
  #closed = false;
  #onError: (error: unknown) => void = () => {};
  #writes = 0;
  /** Files of the one-file-per-node layout, removed once the journal holds what they held. */
  #legacy: string[] = [];

  constructor(options: SparkplugStoreOptions) {
    this.#dir = options.dir;
    this.#fs = options.fs ?? nodeFs;
    this.#timers = options.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
    this.#delayMs = options.delayMs ?? 100;
    this.#retryMs = options.retryMs ?? 5000;
    this.#minRewriteBytes = options.minRewriteBytes ?? 1 << 20;
    this.#compactAt = this.#minRewriteBytes;
  }

  /**
   * Every record kept, and what could not be read (with why); synchronous, before any message. Rewrites the
   * journal with the live records. Errors of the background writes go to `onError` from then on.
   */
  load(onError: (error: unknown) => void = () => {}): { records: NodeRecord[]; unreadable: string[] } {
    this.#onError = onError;
    const fs = this.#fs;
    fs.mkdirSync(this.#dir, { recursive: true });
    const records = new Map<string, NodeRecord>();
    const unreadable: string[] = [];
    const legacy: string[] = [];
    for (const name of fs.readdirSync(this.#dir)) {
      const path = join(this.#dir, name);
      if (name.endsWith('.tmp')) {
        fs.rmSync(path, { force: true }); // a write cut short: the previous file is still there
      } else if (name.endsWith('.json')) {
        legacy.push(path);
        try {
          const r = asRecord(JSON.parse(fs.readFileSync(path, 'utf8')));
          records.set(keyOf(r), r);
        } catch (error) {
          unreadable.push(`${name}: ${(error as Error).message}`);
        }
      }
    }
    const journal = join(this.#dir, JOURNAL);
    let text = '';
    try {
      text = fs.readFileSync(journal, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (lines[i] === '') continue;
      try {
        const r = JSON.parse(lines[i]!) as NodeRecord | Removal;
        if ('removed' in r) records.delete(keyOf(r));
        else records.set(keyOf(asRecord(r)), r);
      } catch (error) {
        unreadable.push(`${JOURNAL} line ${i + 1}: ${(error as Error).message}`);
      }
    }
    for (const [key, r] of records) this.#live.set(key, `${JSON.stringify(r)}\n`);
    this.#legacy = legacy;
    try {
      this.#rewriteSync(journal);
    } catch (error) {
      // What was read stands; the next write tries the rewrite again (and the old files stay until it works).
      this.#mustRewrite = true;
      onError(error);
    }
    return { records: [...records.values()], unreadable };
  }

  /** Background writes (appends or rewrites) that reached the disk; for tests and the bench. */
  get writes(): number {
    return this.#writes;
  }

  /** Notes a node's new record; on disk within `delayMs` plus a write. */
  save(record: NodeRecord): void {
    this.#change(keyOf(record), record);
  }

  /** Notes that a node is forgotten. */
  remove(group: string, node: string): void {
    this.#change(keyOf({ group, node }), { group, node, removed: true });
  }

  /** Writes what is pending now and waits for it (the gateway's stop); later changes are not written. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#writing;
    if (this.#pending.size > 0) await this.#write();
    await this.#file?.close().catch(this.#onError);
    this.#file = undefined;
  }

  #change(key: string, change: NodeRecord | Removal): void {
    if (this.#closed) return;
    this.#pending.set(key, change);
    this.#schedule(this.#delayMs);
  }

  /** One timer or one write at a time: a write in flight schedules the next when it ends. */
  #schedule(ms: number): void {
    if (this.#timer !== undefined || this.#writing !== undefined || this.#closed) return;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      this.#writing = this.#write().then((ok) => {
        this.#writing = undefined;
        if (this.#pending.size > 0) this.#schedule(ok ? this.#delayMs : this.#retryMs);
      });
    }, ms);
  }

  /** Writes every pending change: appended in one write + fdatasync, or the journal rewritten. Never throws. */
  async #write(): Promise<boolean> {
    const batch = this.#pending;
    this.#pending = new Map();
    let text = '';
    for (const [key, change] of batch) {
      const line = `${JSON.stringify(change)}\n`;
      if ('removed' in change) this.#live.delete(key);
      else this.#live.set(key, line);
      text += line;
    }
    try {
      const bytes = Buffer.byteLength(text);
      if (this.#mustRewrite || this.#journalBytes + bytes > this.#compactAt) {
        await this.#rewrite();
      } else {
        this.#file ??= await this.#fs.promises.open(join(this.#dir, JOURNAL), 'a');
        await this.#file.appendFile(text);
        await this.#file.datasync();
        this.#journalBytes += bytes;
      }
      this.#writes++;
      return true;
    } catch (error) {
      // Not on disk: kept for the next attempt (unless a newer change of the node came meanwhile).
      for (const [key, change] of batch) if (!this.#pending.has(key)) this.#pending.set(key, change);
      this.#mustRewrite = true;
      this.#onError(error);
      return false;
    }
  }

  /** The journal replaced by the live records: temporary file, fdatasync, rename. */
  async #rewrite(): Promise<void> {
    const journal = join(this.#dir, JOURNAL);
    const tmp = `${journal}.tmp`;
    const text = [...this.#live.values()].join('');
    const file = await this.#fs.promises.open(tmp, 'w');
    try {
      await file.appendFile(text);
      await file.datasync();
    } finally {
      await file.close();
    }
    const old = this.#file;
    this.#file = undefined;
    await old?.close().catch(() => {}); // appends go to the new file from here
    await this.#fs.promises.rename(tmp, journal);
    this.#rewritten(Buffer.byteLength(text));
  }

  #rewriteSync(journal: string): void {
    const fs = this.#fs;
    const tmp = `${journal}.tmp`;
    const text = [...this.#live.values()].join('');
    fs.writeFileSync(tmp, text);
    const fd = fs.openSync(tmp, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, journal);
    this.#rewritten(Buffer.byteLength(text));
  }

  #rewritten(bytes: number): void {
    for (const path of this.#legacy) this.#fs.rmSync(path, { force: true });
    this.#legacy = [];
    this.#journalBytes = bytes;
    this.#compactAt = Math.max(this.#minRewriteBytes, 2 * bytes);
    this.#mustRewrite = false;
  }
}

function keyOf(r: { readonly group: string; readonly node: string }): string {
  return `${r.group}\u0000${r.node}`;
}

function asRecord(value: unknown): NodeRecord {
  const r = value as NodeRecord;
  if (typeof r?.group !== 'string' || typeof r.node !== 'string' || !Array.isArray(r.metrics)) throw new Error('not a node record');
  return r;
}
