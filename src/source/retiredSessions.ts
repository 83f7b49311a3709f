import nodeFs from 'node:fs';
import { join } from 'node:path';
import { SessionMarker, type SessionRecord } from './SessionMarker.ts';

/** A session marker of an earlier run for a client id the gateway does not connect with now. */
export interface RetiredSession extends SessionRecord {
  readonly file: string;
}

/**
 * The persistent sessions earlier runs confirmed (`mqtt-session*.json` in the spool directory, one per connection)
 * whose client id is not among `clientIds`: what a change of mqtt.connections (or of the client id) left at the
 * broker. Read-only; a directory that cannot be listed has none.
 */
export function retiredSessions(
  dir: string,
  clientIds: readonly string[],
  fs: Pick<typeof nodeFs, 'readdirSync' | 'readFileSync'> = nodeFs,
): RetiredSession[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: RetiredSession[] = [];
  for (const name of names.filter((n) => /^mqtt-session(-\d+)?\.json$/.test(n)).sort()) {
    const file = join(dir, name);
    const record = new SessionMarker({
      file,
      fs: { readFileSync: (f, e) => fs.readFileSync(f, e), writeFile: () => Promise.resolve(), rename: () => Promise.resolve() },
    }).read();
    if (record?.persistent && !clientIds.includes(record.clientId)) out.push({ ...record, file });
  }
  return out;
}
